"""Script: drive a configuration from inside it (wait, read, write, print, stop).

The program is checked when the router is configured (unknown instructions,
missing labels, bad literal times); it runs on the element's timer, so
``wait`` follows the router's clock, real or simulated. Text substitution
and the arithmetic functions live in :mod:`pyclick.elements.scriptexpr`.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from pyclick.args import FILENAME, INT, TIME, UNSIGNED, Args, shorten, unquote
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.handlercall import handler_name, parse_value
from pyclick.elements.scriptexpr import (FUNCTIONS, ScriptError, expand, parse_bool,
                                         parse_number, split_first, unparse_bool)
from pyclick.errors import ConfigError
from pyclick.lang.configstr import quote, shift_word, split_words
from pyclick.packet import Packet
from pyclick.runtime.caughtsignals import Catch
from pyclick.runtime.handlers import (NO_SUCH_ELEMENT, NO_SUCH_HANDLER, PERMISSION_DENIED,
                                      HandlerError)
from pyclick.runtime.timers import Timer

#: Functions only the script itself calls: Click keeps them from ControlSocket
#: clients, as they read any file and signal any process.
_SCRIPT_ONLY = frozenset(("cat", "catq", "kill"))
#: Gotos in a row, without blocking, after which a script counts as looping.
MAX_GOTOS = 1000

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: A pause's count and the steps written at once.
_STEPS = UNSIGNED.range(0, 2**31 - 1)
#: What a failing instruction may raise besides ScriptError: a bad number
#: or a nesting too deep, in text the script was given or computed.
_INSTRUCTION_FAILURES = (ArithmeticError, ValueError, TypeError, RecursionError)
#: Instructions after whose failure the script goes on, as in Click: what
#: they would have printed, read, written or set is left out. The others end
#: it: error, a return without its value, a wait without its time.
_GO_ON_AFTER_FAILURE = frozenset(("set", "setq", "print", "printq", "printn", "printnq",
                                  "save", "append", "read", "readq", "write", "writeq"))
_GOTO_SPECIALS = ("exit", "end", "loop", "error", "stop")
_NO_ARGUMENT = ("loop", "end", "exit", "stop")
_WITH_VARIABLE = ("set", "setq", "init", "initq", "export", "exportq")
_WITH_HANDLER = ("read", "readq", "write", "writeq")
_OTHERS = ("print", "printq", "printn", "printnq", "save", "append", "wait", "pause", "label",
           "goto", "return", "returnq", "error", "errorq")
#: Click's other names of the waiting instructions (``wait`` alone is ``pause``).
_WAIT_NAMES = {"wait_stop": "pause", "wait_step": "pause", "wait_time": "wait",
               "wait_for": "wait"}
INSTRUCTIONS = frozenset(_NO_ARGUMENT + _WITH_VARIABLE + _WITH_HANDLER + _OTHERS)


@dataclass(frozen=True)
class Instruction:
    """One configuration argument of a Script: ``op text``."""

    op: str
    text: str
    source: str

    def __str__(self) -> str:
        return self.source


class _NoHandler(ScriptError):
    """No readable handler has the name (a failure to find, not of a call)."""


class _Blocked(Exception):
    """Raised inside the interpreter when an instruction waits."""


class _Ended(Exception):
    """Raised inside the interpreter when the script ends by the instruction
    ``how`` (end, exit, stop or return)."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.how = how


def compile_program(texts: list[str]) -> tuple[list[Instruction], dict[str, int], list[str]]:
    """Instructions, label positions and the errors found, from raw arguments."""
    program: list[Instruction] = []
    errors: list[str] = []
    for text in texts:
        op, rest = split_first(text)
        if not op:
            # An empty argument is no instruction, as in Click.
            continue
        op = "pause" if op == "wait" and not rest else _WAIT_NAMES.get(op, op)
        program.append(Instruction(op, rest, text))
    labels: dict[str, int] = {}
    for index, ins in enumerate(program):
        if ins.op == "label":
            if not re.fullmatch(r"\S+", ins.text):
                errors.append(f"'{ins}': expected 'label NAME'")
            elif ins.text in labels:
                errors.append(f"'{ins}': label '{ins.text}' defined twice")
            labels[ins.text] = index
    for ins in program:
        problem = _check(ins, labels)
        if problem:
            errors.append(f"'{ins}': {problem}")
    return program, labels, errors


def _check(ins: Instruction, labels: dict[str, int]) -> str | None:
    """What is wrong with ``ins`` (None if nothing), before running it."""
    if ins.op not in INSTRUCTIONS:
        return f"unknown instruction '{ins.op}'"
    if ins.op in _NO_ARGUMENT and ins.text:
        return f"'{ins.op}' takes no argument"
    if ins.op in _WITH_VARIABLE:
        var, _ = split_first(ins.text)
        if not _VARIABLE.match(var):
            return f"expected '{ins.op} VARIABLE TEXT'"
    if ins.op in _WITH_HANDLER and not ins.text:
        return f"expected '{ins.op} HANDLER'"
    if ins.op == "goto":
        target, _ = split_first(ins.text)
        if not target:
            return "expected 'goto LABEL [CONDITION]'"
        if target not in labels and target not in _GOTO_SPECIALS:
            return f"no label '{target}'"
    if ins.op == "wait" and "$" not in ins.text:
        try:
            parse_value(TIME, ins.text)
        except ValueError as err:
            return str(err)
    if ins.op == "pause" and ins.text and "$" not in ins.text:
        try:
            parse_value(_STEPS, ins.text)
        except ValueError as err:
            return f"expected 'pause [COUNT]': {err}"
    return None


def _script_type(text: str, args: Args) -> tuple[str, tuple[int, ...]]:
    """The TYPE and, for SIGNAL, the signals' numbers."""
    words = text.split()
    kind = words[0].upper() if words else ""
    if kind == "SIGNAL":
        if len(words) < 2:
            raise ValueError("expected 'SIGNAL SIGNO...' (INT, HUP, USR1... or numbers)")
        return kind, tuple(_signal_number(word) for word in words[1:])
    if kind == "PROXY":
        raise ValueError("PROXY scripts are not supported")
    if len(words) != 1 or kind not in ("ACTIVE", "PASSIVE", "PACKET", "PUSH", "DRIVER"):
        raise ValueError("expected ACTIVE, PASSIVE, PACKET, DRIVER or SIGNAL SIGNO...")
    # PUSH is Click's other name for PACKET.
    return ("PACKET" if kind == "PUSH" else kind), ()


def _cat(text: str) -> str:
    """$(cat FILE): the file's contents."""
    path = parse_value(FILENAME, text)
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            return f.read()
    except OSError as err:
        raise ScriptError(f"{path}: {err.strerror}") from None


def _kill(text: str) -> str:
    """$(kill SIGNO PID...): signal each process; nothing to substitute."""
    words = split_words(text)
    try:
        signum = _signal_named(words[0])
    except (IndexError, ValueError):
        raise ScriptError("kill: bad SIGNO") from None
    if signum > 32:
        raise ScriptError("kill: bad SIGNO")
    for word in words[1:]:
        try:
            pid = parse_value(INT, word)
        except ValueError:
            raise ScriptError(f"kill: bad PID '{word}'") from None
        try:
            os.kill(pid, signum)
        except OSError as err:
            raise ScriptError(f"kill({pid}, {signum}): {err.strerror}") from None
    return ""


def _signal_named(word: str) -> int:
    """A signal by name (INT or SIGINT) or number."""
    try:
        return int(word) if word.isdigit() else \
            int(signal.Signals[word if word.startswith("SIG") else "SIG" + word])
    except KeyError:
        raise ValueError(f"bad signal '{word}'") from None


def _signal_number(word: str) -> int:
    """A signal by name (INT or SIGINT) or number, one a handler can catch."""
    signum = _signal_named(word)
    if signum in (signal.SIGKILL, signal.SIGSTOP) or not 0 < signum < signal.NSIG:
        raise ValueError(f"signal '{word}' cannot be caught")
    return int(signum)


class Script(Element):
    """Script(TYPE, INSTRUCTIONS...) -- scripts a router configuration

    Description
    Each argument is an instruction; they run in order. An ACTIVE script
    (the default) starts when the router starts; a PASSIVE one runs when
    its run handler is called and returns the value of its 'return'. A
    PACKET script (the default for a script with ports) runs from the start
    for every packet that arrives, with $input set to the input it came in
    on, and sends the packet to the output its 'return' names, or to output
    0 when it ends by end (or past its last instruction); a packet whose
    script fails, waits, ends by exit or stop, or returns no output the
    script has is dropped. Pulled, it pulls input 0.

    A DRIVER script is a DriverManager (see there): it starts when the
    router starts and hears the driver's stop events; a configuration has
    at most one. A SIGNAL script runs from the start whenever one of its
    signals arrives while the router runs (SIGNAL INT HUP; names as INT or
    SIGINT, or numbers), in place of what the signal does otherwise, with
    $0 run and $write true. The signal that runs it disarms it until a run
    reaches its end (end, or past the last instruction): meanwhile SIGINT,
    SIGTERM, SIGHUP and SIGQUIT stop the router, as without the script, and
    another signal is held and runs it once it reaches its end. A run that
    ends otherwise (exit, stop, return, a failure) does not arm it again:
    stop signals then stop the router, the others are held. Signals are
    caught from the moment the router runs (every element initialized),
    and only when it runs on the main thread.

    Text is substituted first: $VAR and ${VAR} are script variables,
    $(HANDLER ARGS) is a read handler's value ($(c.count)), and
    $(FUNCTION ARGS) one of the functions below ($(add $x 1)). Special
    variables: $? (status of the last write: 0 or an error code), $args,
    $1, $2... and $# (the run handler's arguments, quoted words counting as
    one; empty past the last), $0 (the handler that ran the script: run,
    step or goto), $write (whether it was written), $$ (process id). A
    variable that some set, init or export names reads empty until set.
    Three functions are the script's own, not handlers (a ControlSocket
    cannot reach them): $(cat FILE) is a file's contents, $(catq FILE) the
    same quoted as one word, and $(kill SIGNO PID...) sends signal SIGNO
    (INT or SIGINT, or a number up to 32; 0 only checks) to each process.
    Single quotes prevent substitution; the q forms of instructions
    (setq, printq...) remove one layer of quotes after substituting. A value
    substituted between double quotes is escaped there, and print quotes
    the values it substitutes elsewhere too, so that a value prints as it is:
    after set x "a b", print $x prints "a b" with its quotes.

    Instructions:
      set VAR TEXT, setq VAR TEXT -- set a variable
      init VAR TEXT, initq VAR TEXT -- set a variable once, when the router starts
      export VAR [TEXT], exportq VAR [TEXT] -- like init, and read handler VAR shows it
      print [>FILE | >>FILE] [TEXT | HANDLER] -- print text, or a read handler's value when the argument starts with a letter, '_' or '@'; to standard output or FILE
      printn ... -- the same without the newline (printq, printnq: unquote the handler's arguments)
      save HANDLER [FILE], append HANDLER [FILE] -- print >FILE HANDLER, print >>FILE HANDLER (FILE - or none: standard output)
      read HANDLER [ARGS] -- print the handler's whole name ('ELEMENT.HANDLER:', or 'HANDLER:' for a global one) and its value to standard error (readq: unquote ARGS)
      write HANDLER [VALUE] -- call a write handler (writeq: unquote VALUE)
      wait TIME, wait_time TIME, wait_for TIME -- wait TIME (10, 100ms, 1s...) on the router's clock, or until step
      pause [COUNT], wait_step [COUNT], wait_stop [COUNT], wait -- wait until the step handler was written COUNT times (up to 2^31-1, default 1)
      label NAME -- a place to go to
      goto NAME [CONDITION] -- jump if CONDITION is true (or absent); NAME may be exit, end, loop, error or stop
      loop -- go back to the first instruction
      end, exit -- end the script (after exit, a PACKET script drops its packet and a SIGNAL script is not armed again)
      stop -- end the script and stop the router, through a driver stop event: the router stops before its next task runs, or a DriverManager hears the event
      return [VALUE] -- end the script; a passive run returns VALUE
      error [MESSAGE] -- end the script reporting MESSAGE

    An instruction that fails (a handler missing or failing, a function
    given what it cannot compute, a file that cannot be written) is
    reported, and the script goes on with the next one, as in Click: set,
    print, save, append, read and write leave out what they would have
    done, and a goto whose condition cannot be read does not jump. A wait,
    pause or return that fails ends the script, as error does. A $(...)
    that fails is reported and its instruction goes on, as in Click, with
    the $(...) as written when no readable handler has its name, with
    nothing in its place when the call failed. Failures are
    logged, or, in a run by a handler call (run, step, goto), reported to
    its caller together once the script stops. A script that executes 1000
    gotos without waiting is stopped as looping.

    Ports
    none; a PACKET script: one or more agnostic inputs, any number of agnostic outputs

    Keyword arguments
    TYPE -- ACTIVE, PASSIVE, PACKET (or PUSH), DRIVER or SIGNAL SIGNO...; default PACKET for a script with ports, else ACTIVE

    Element handlers
    run (read with arguments, write) -- run the script from the start; reading returns the return value
    step (write) -- end the current wait, or count towards a pause (value: how many steps, up to 2^31-1, default 1)
    goto (write) -- continue at the given label
    get (read with arguments) -- the value of a variable
    shift (read with arguments) -- takes the first word off a variable (default args, the run arguments) and returns it
    set (write) -- 'VAR VALUE': set a variable
    now (read) -- the current time, seconds since the epoch (simulated time: seconds since it began)
    add, sub, mul, div, idiv, mod, rem, min, max, avg, neg, abs, ceil, floor (read with arguments) -- arithmetic over space-separated numbers: 64-bit integers (0x hex, 0-led octal) that wrap around, real numbers (12 significant digits) once one is real, and always for div; idiv truncates; without numbers, add and sub give 0, the others 1
    eq, ne, lt, gt, le, ge (read with arguments) -- compare two numbers (or strings), answer true or false
    not, and, or, nand, nor, if, in (read with arguments) -- logic: 'if COND A [B]' answers A or B (empty when missing), 'in X A B...' whether X is one of A, B...; and/or read no further than the word that settles them
    count, popcount, length, unquote, sprintf, random (read with arguments) -- item count, non-zero count, text length, unquoting, printf-style formatting, random integer (none: 0..2^31-1, N: 0..N-1, A B: A..B)
    first (read with arguments) -- the first word
    htons, htonl, ntohs, ntohl (read with arguments) -- an integer's low 2 (htons, ntohs) or 4 bytes in the other byte order

    Example
    InfiniteSource(LIMIT 10) -> c :: Counter -> Discard;
    Script(wait 100ms, print "count $(c.count)", stop);
    """

    port_count = "-/-"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        ported = bool(self.ninputs or self.noutputs)
        self.type, self.signals = args.read("TYPE", _script_type,
                                            ("PACKET" if ported else "ACTIVE", ()))
        self.configure_program(args)

    def configure_program(self, args: Args) -> None:
        """The instructions (the rest of ``args``), ``type`` and ``signals`` set."""
        ported = bool(self.ninputs or self.noutputs)
        if self.type == "PACKET" and not self.ninputs:
            args.error("PACKET script must have inputs")
        elif self.type != "PACKET" and ported:
            args.error("ports allowed only on PACKET scripts")
        instructions = args.rest()
        if self.type == "DRIVER":
            try:
                self.router.attach_driver(self, self._driver_stop_event)
            except ValueError as err:
                args.error(str(err))
            # As Click's: one with no instructions waits for a stop event, and
            # a driver script ends with stop, so that its end stops the router.
            instructions = [text for text in instructions if text.strip()] or ["pause"]
            instructions.append("stop")
        self.program, self.labels, errors = compile_program(instructions)
        for error in errors:
            args.error(error)
        args.complete()
        # As in Click, every variable an instruction sets exists from the
        # start, empty: $x reads "" before its set runs, not "$x".
        self.variables: dict[str, str] = {
            split_first(ins.text)[0]: "" for ins in self.program
            if ins.op in ("set", "setq", "init", "initq", "export", "exportq")}
        #: The run arguments ($args), the handler that ran the script ($0)
        #: and whether it was written ($write).
        self._args = ""
        self._run_handler = ""
        self._run_written = False
        self.ip = 0
        self.status = "0"
        self.return_value = ""
        #: Whether the last run ended on a 'return' (a PACKET script's output).
        self.returned = False
        #: How the last run ended: "end" (an end, or past the last
        #: instruction), "exit", "stop" or "return"; "" while it has not. A
        #: PACKET script sends its packet to output 0 only after an end.
        self.ending = ""
        self.running = False
        #: The instruction being carried out, whose substitutions' failures are
        #: reported as its own (None: none, as at initialize).
        self._ins: Instruction | None = None
        #: Failures kept for the handler call that runs the script (None: logged).
        self._failures: list[str] | None = None
        self.finished = False
        self._started = False
        self._pause_left = 0
        self._random = self.router.random_source(self)
        self._timer = Timer(self, self._resume)
        #: A SIGNAL script's catch of its signals (from initialize).
        self._catch: Catch | None = None
        self._functions: dict[str, Callable[[str], str]] = {
            **FUNCTIONS, "now": self._fn_now, "get": self._fn_get, "random": self._fn_random,
            "shift": self._fn_shift,
            "readable": lambda text: self._fn_access(text, write=False),
            "writable": lambda text: self._fn_access(text, write=True),
            "cat": _cat, "catq": lambda text: quote(_cat(text)), "kill": _kill}

    def add_handlers(self) -> None:
        for name, fn in self._functions.items():
            if name not in _SCRIPT_ONLY:
                self.router.handlers.add_read(self, name, fn)
        for ins in self.program:
            if ins.op in ("export", "exportq"):
                var, _ = split_first(ins.text)
                self.router.handlers.add_read(self, var, self._exported(var))

    def initialize(self) -> None:
        for ins in self.program:
            if ins.op in ("init", "initq", "export", "exportq"):
                try:
                    self._assign(ins, ins.op.endswith("q"))
                except ScriptError as err:
                    raise ConfigError(f"{self.declaration()}: '{ins}': {err}",
                                      self.landmark) from None
        if self.type == "SIGNAL":
            self._catch = self.router.catch_signals(self, self.signals, self._signalled)
        if self.type in ("ACTIVE", "DRIVER"):
            first = self.program[0] if self.program else None
            if first is not None and first.op == "wait":
                self._start_waiting(first)
            else:
                self._timer.schedule_after(0)

    def _start_waiting(self, wait: Instruction) -> None:
        # Click sets a leading wait's timer while initializing, so it ranks
        # with the timers other elements set then (in declaration order)
        # among those due at the same time.
        try:
            seconds = self._parse_time(self._expand(wait.text))
        except ScriptError as err:
            raise ConfigError(f"{self.declaration()}: '{wait}': {err}", self.landmark) from None
        self.ip, self._started = 1, True
        self._timer.schedule_after(seconds)

    def _exported(self, var: str) -> Callable[[], str]:
        return lambda: self.variables.get(var, "")

    # --- running
    def _resume(self) -> None:
        """Continue on the timer; nobody waits for the outcome, so errors are logged."""
        try:
            self._run()
        except ScriptError as err:
            self.log.error("%s: %s", self.landmark, err)
            if self.type == "DRIVER":
                # Its end, whatever ended it, is the driver's: a failed driver
                # script must not leave a router that nothing will stop.
                self.router.stop(f"{self.name}: script ended by an error")

    def _signalled(self) -> None:
        """One of a SIGNAL script's signals: a run from the start, as Click writes
        its run handler; nobody waits for the outcome, so errors are logged."""
        try:
            self._start("", written=True)
        except ScriptError as err:
            self.log.error("%s: %s", self.landmark, err)

    def _start(self, arguments: str, written: bool) -> str:
        """Run from the first instruction with ``$args`` = ``arguments``."""
        if self.running:
            raise ScriptError(f"{self.declaration()}: already running (recursive run)")
        self._timer.unschedule()
        self._pause_left = 0
        self._args, self._run_handler, self._run_written = arguments, "run", written
        self.ip, self.return_value, self.finished, self.returned = 0, "", False, False
        self.ending = ""
        self._run()
        return self.return_value

    def _run(self) -> None:
        """Run from ``ip``; an instruction whose failure ends the script ends it
        (ScriptError names it)."""
        try:
            self._execute()
        except _INSTRUCTION_FAILURES as err:
            self.finished = True
            ins = self.program[self.ip - 1] if 0 < self.ip <= len(self.program) else None
            raise ScriptError(self._failure(ins, err)) from None
        finally:
            self.running = False

    def _failure(self, ins: Instruction | None, err: Exception) -> str:
        """What to say of ``err``, raised by ``ins`` (None: by no one instruction)."""
        where = f" at '{shorten(str(ins))}'" if ins else ""
        why = str(err) if isinstance(err, ScriptError) else f"{type(err).__name__}: {err}"
        return f"{self.declaration()}{where}: {why}"

    def _report(self, ins: Instruction, err: Exception) -> None:
        """The failure of an instruction after which the script goes on."""
        self._complain(self._failure(ins, err))

    def _complain(self, message: str) -> None:
        """Logged, or kept for the handler call running the script."""
        if self._failures is None:
            self.log.error("%s: %s", self.landmark, message)
        else:
            self._failures.append(message)

    @contextmanager
    def _failures_to_caller(self) -> Iterator[None]:
        """A run by a handler call: the failures the script went on after, and
        the one that ended it, reach the caller together once it stops, as
        Click gives a handler call's errors to its caller."""
        # A handler call inside the run (a refused recursive run) keeps its own.
        outer, self._failures = self._failures, []
        try:
            yield
        except ScriptError as err:
            self._failures.append(str(err))
        finally:
            failures, self._failures = self._failures, outer
        if failures:
            raise ScriptError("\n".join(failures))

    def _execute(self) -> None:
        """Run instructions from ``ip`` until the script blocks or ends."""
        self.running = self._started = True
        gotos = 0
        try:
            while self.ip < len(self.program):
                ins = self._ins = self.program[self.ip]
                self.ip += 1
                try:
                    jumped = self._perform(ins)
                except _INSTRUCTION_FAILURES as err:
                    if ins.op not in _GO_ON_AFTER_FAILURE:
                        raise
                    self._report(ins, err)
                    continue
                finally:
                    self._ins = None
                if jumped:
                    gotos += 1
                    if gotos >= MAX_GOTOS:
                        raise ScriptError(f"looping: {MAX_GOTOS} jumps without waiting")
            self.ending = "end"
        except _Blocked:
            return
        except _Ended as ended:
            self.ending = ended.how
        self.finished = True
        self._settle_catch()

    def _settle_catch(self) -> None:
        """A SIGNAL script's run is over: as in Click, only one that reached
        its end (end, or past the last instruction) catches the next signal."""
        if self._catch is not None and self.ending == "end":
            self._catch.arm()

    def _perform(self, ins: Instruction) -> bool:
        """Carry out one instruction; True if it jumped."""
        op = ins.op
        quoted = op.endswith("q")
        if op in ("set", "setq"):
            self._assign(ins, quoted)
        elif op.startswith("print"):
            self._print(ins.text, newline=op in ("print", "printq"), unquote_params=quoted)
        elif op in ("save", "append"):
            # save HANDLER [FILE]: print >FILE HANDLER (standard output without FILE).
            what, target = split_first(ins.text)
            self._print(f"{'>' if op == 'save' else '>>'}{target or '-'} {what}", newline=True,
                        unquote_params=False)
        elif op in ("read", "readq"):
            self._read_to_stderr(ins.text, quoted)
        elif op in ("write", "writeq"):
            self._write(ins.text, quoted)
        elif op == "wait":
            self._timer.schedule_after(self._parse_time(self._expand(ins.text)))
            raise _Blocked
        elif op == "pause":
            count = self._expand(ins.text).strip()
            try:
                self._pause_left = parse_value(_STEPS, count) if count else 1
            except ValueError as err:
                raise ScriptError(f"pause: {err}") from None
            raise _Blocked
        elif op == "goto":
            return self._goto(ins)
        elif op == "loop":
            self.ip = 0
            return True
        elif op in ("end", "exit"):
            raise _Ended(op)
        elif op == "stop":
            self.stop_instruction()
            raise _Ended(op)
        elif op in ("return", "returnq"):
            value = self._expand(ins.text)
            self.return_value = unquote(value) if quoted else value
            self.returned = True
            raise _Ended("return")
        elif op in ("error", "errorq"):
            message = self._expand(ins.text)
            raise ScriptError((unquote(message) if quoted else message) or "error")
        return False

    def _goto(self, ins: Instruction) -> bool:
        target, condition = split_first(ins.text)
        if condition:
            try:
                met = parse_bool(self._expand(condition))
            except _INSTRUCTION_FAILURES as err:
                # As in Click: reported, and the script goes on without jumping.
                self._report(ins, err)
                return False
            if not met:
                return False
        if target in self.labels:
            self.ip = self.labels[target]
            return True
        if target == "loop":
            self.ip = 0
            return True
        if target == "error":
            raise ScriptError("error")
        if target == "stop":
            self.stop_instruction()
            raise _Ended(target)
        raise _Ended("exit" if target == "exit" else "end")

    # --- a driver script (TYPE DRIVER, DriverManager)
    def stop_instruction(self) -> None:
        """What ``stop`` (and ``goto stop``) does: a driver stop event, as Click's
        (the router stops before its next task runs, unless a driver script
        takes the event). The driver script itself stops the router."""
        if self.type == "DRIVER":
            self.router.stop(f"{self.name}: stop")
        else:
            self.router.please_stop_driver(f"{self.name}: stop")

    def _driver_stop_event(self, reason: str) -> None:
        """One driver stop event: a step of the script; the router stops once it ended."""
        if not self.finished:
            try:
                # A script that has not started yet starts first, as in Click.
                self.start_now()
                self.step()
            except ScriptError as err:
                self.log.error("%s: %s", self.landmark, err)
        if self.finished:
            self.router.stop(reason)

    @property
    def waiting_to_start(self) -> bool:
        """Whether the script was set to start with the router and has not run yet."""
        return not self._started and self._timer.scheduled

    def start_now(self) -> None:
        """Run a script that waits to start now, rather than when its timer fires."""
        if self.waiting_to_start:
            self._timer.unschedule()
            self._run()

    def step(self, steps: int = 1) -> None:
        """End the current wait, or count ``steps`` towards a pause, and go on
        (the step handler); raises ScriptError when an instruction ends the
        script by failing."""
        while steps > 0:
            if self.finished or self.running:
                return
            if self._timer.scheduled:
                self._timer.unschedule()
                steps -= 1
            elif self._pause_left > 0:
                # A pause takes as many steps as it still needs at once.
                taken = min(steps, self._pause_left)
                self._pause_left -= taken
                steps -= taken
                if self._pause_left:
                    return
            else:
                return
            self._run()

    # --- instructions
    def _assign(self, ins: Instruction, quoted: bool) -> None:
        var, text = split_first(ins.text)
        value = self._expand(text)
        self.variables[var] = unquote(value) if quoted else value

    def _print(self, text: str, newline: bool, unquote_params: bool) -> None:
        path, mode, text = self._redirection(text)
        if text[:1].isalpha() or text[:1] in ("_", "@"):
            value = self._read_handler(*self._handler_call(text, unquote_params))
        else:
            value = unquote(self._expand(text, quote_all=True))
        if newline and not value.endswith("\n"):
            value += "\n"
        if path is None:
            sys.stdout.write(value)
            sys.stdout.flush()
            return
        try:
            with open(path, mode) as out:
                out.write(value)
        except OSError as err:
            raise ScriptError(f"cannot write {path}: {err.strerror}") from None

    def _redirection(self, text: str) -> tuple[str | None, str, str]:
        """Split ``>FILE`` or ``>>FILE`` off a print argument."""
        if not text.startswith(">"):
            return None, "w", text
        mode = "a" if text.startswith(">>") else "w"
        target, rest = split_first(text.lstrip(">"))
        if not target:
            raise ScriptError("expected a file name after '>'")
        path = unquote(self._expand(target))
        # '-' is standard output, as in Click.
        return (None if path == "-" else path), mode, rest

    def _handler_call(self, text: str, unquote_params: bool) -> tuple[str, str]:
        """The handler name and parameters of a read in ``text``, substituted:
        the name unquoted, as Click reads a handler name, the parameters too
        for the q forms of the instructions."""
        name, params = split_first(self._expand(text))
        return unquote(name), unquote(params) if unquote_params else params

    def _read_to_stderr(self, text: str, quoted: bool) -> None:
        name, params = self._handler_call(text, quoted)
        value = self._read_handler(name, params)
        # Headed by the handler's whole name (its element's name, then a dot).
        own = name.removeprefix(self.name + ".")
        full = f"{self.name}.{own}" if own in self._functions else self._full_name(name)
        sys.stderr.write(f"{full}:\n{value}" + ("" if value.endswith("\n") else "\n"))
        sys.stderr.flush()

    def _write(self, text: str, quoted: bool) -> None:
        name, value = split_first(self._expand(text))
        try:
            full = handler_name(name, self)
        except ValueError as err:
            return self._write_failed(name, HandlerError(NO_SUCH_ELEMENT, str(err)))
        try:
            self.router.handlers.write(full, unquote(value) if quoted else value)
            self.status = "0"
        except HandlerError as err:
            self._write_failed(name, err)

    def _write_failed(self, name: str, err: HandlerError) -> None:
        """A failed write does not end the script: ``$?`` tells the next instructions."""
        self.status = str(err.code)
        self._complain(f"{self.declaration()}: write {name}: {err.message}")

    def _parse_time(self, text: str) -> float:
        try:
            return parse_value(TIME, unquote(text))
        except ValueError as err:
            raise ScriptError(f"wait: {err}") from None

    # --- substitution
    def _expand(self, text: str, quote_all: bool = False) -> str:
        return expand(text, self._variable, self._call, quote_all)

    def _variable(self, name: str) -> str | None:
        """A variable's value, None for a name that is none (left as written)."""
        value = self.variables.get(name)
        if value is not None:
            return value
        if name == "?":
            return self.status
        if name == "args":
            return self._args
        if name == "$":
            return str(os.getpid())
        if name == "0":
            return self._run_handler
        if name[:1] in "123456789" and name.isdigit():
            # The Nth run argument (quoted words are one), empty past the last.
            words = split_words(self._args)
            return words[int(name) - 1] if int(name) <= len(words) else ""
        if name == "#":
            return str(len(split_words(self._args)))
        if name == "write":
            return unparse_bool(self._run_written)
        return None

    def _call(self, text: str) -> str | None:
        """The value of ``$(text)``: a function or a read handler. Its
        parameters keep their trailing spaces, as Click passes them on.

        In an instruction, as in Click, a failure is reported and the
        instruction goes on with the ``$(...)`` as written when no readable
        handler has the name, with nothing in its place when the call failed.
        """
        words = text.lstrip().split(None, 1)
        try:
            if not words:
                raise _NoHandler("no handler named in '$()'")
            return self._read_handler(words[0], words[1] if len(words) > 1 else "")
        except _INSTRUCTION_FAILURES as err:
            if self._ins is None:
                raise
            self._report(self._ins, err)
            return None if isinstance(err, _NoHandler) else ""

    def _read_handler(self, name: str, params: str) -> str:
        # The script's own functions are called directly, not through the
        # handler table: no hop to the home thread, and usable in init.
        own = name.removeprefix(self.name + ".")
        if own in self._functions:
            return self._functions[own](params)
        try:
            return self.router.handlers.read(self._full_name(name), params)
        except HandlerError as err:
            missing = err.code in (NO_SUCH_ELEMENT, NO_SUCH_HANDLER, PERMISSION_DENIED)
            raise (_NoHandler if missing else ScriptError)(err.message) from None

    def _full_name(self, name: str) -> str:
        try:
            return handler_name(name, self)
        except ValueError as err:
            raise _NoHandler(str(err)) from None

    # --- functions that need the element
    def _fn_now(self, text: str) -> str:
        # A date, as Click's: seconds since the epoch (simulated time as it is).
        return f"{self.router.to_epoch(self.router.now()):.6f}"

    def _fn_get(self, text: str) -> str:
        name = text.strip()
        if name == "args":
            return self._args
        if name not in self.variables:
            raise ScriptError(f"no variable '{name}'")
        return self.variables[name]

    def _fn_shift(self, text: str) -> str:
        words = split_words(text)
        if len(words) > 1:
            raise ScriptError("shift: too many arguments")
        name = words[0] if words else "args"
        if name == "args":
            first, self._args = shift_word(self._args)
            return first
        if name not in self.variables:
            raise ScriptError(f"shift: no variable '{name}'")
        first, self.variables[name] = shift_word(self.variables[name])
        return first

    def _fn_random(self, text: str) -> str:
        bounds = [int(parse_number(w)) for w in text.split()]
        if not bounds:
            return str(self._random.randrange(2**31))
        if len(bounds) == 1:
            if bounds[0] < 1:
                raise ScriptError(f"random: expected N of at least 1, got {bounds[0]}")
            return str(self._random.randrange(bounds[0]))
        if len(bounds) > 2 or bounds[0] > bounds[1]:
            raise ScriptError("random: expected 'random', 'random N' or 'random A B' with A <= B")
        return str(self._random.randint(bounds[0], bounds[1]))

    def _fn_access(self, text: str, write: bool) -> str:
        for name in text.split():
            try:
                self.router.handlers.check(self._full_name(name), write)
            except (HandlerError, ScriptError):
                return unparse_bool(False)
        return unparse_bool(True)

    # --- PACKET scripts
    def push(self, port: int, batch: list[Packet]) -> None:
        for packet in batch:
            output = self._output_for(port)
            if 0 <= output < self.noutputs:
                self.output_push(output, [packet])

    def pull(self, port: int) -> Packet | None:
        packet = self.input_pull(0)
        if packet is None:
            return None
        output = self._output_for(0)
        if output == 0:
            return packet
        if 0 < output < self.noutputs:
            self.output_push(output, [packet])
        return None

    def _output_for(self, port: int) -> int:
        """Run the script for a packet from input ``port``: the output it names, -1 for
        none (the script failed, waits, returned no number, or ended other than by end)."""
        self.variables["input"] = str(port)
        try:
            value = self._start("", written=False)
        except ScriptError as err:
            self.log.error("%s", err)
            return -1
        if self.returned:
            try:
                return parse_value(INT, value)
            except ValueError:
                return -1
        return 0 if self.ending == "end" else -1

    # --- handlers
    @read_handler("run")
    def _read_run(self, params: str) -> str:
        with self._failures_to_caller():
            value = self._start(params, written=False)
        return value

    @write_handler("run")
    def _write_run(self, value: str) -> None:
        with self._failures_to_caller():
            self._start(value, written=True)

    @write_handler("step")
    def _write_step(self, value: str) -> None:
        steps = parse_value(_STEPS, value) if value.strip() else 1
        self._run_handler, self._run_written = "step", True
        with self._failures_to_caller():
            self.step(steps)

    @write_handler("goto")
    def _write_goto(self, value: str) -> None:
        label = value.strip()
        if label not in self.labels:
            raise ValueError(f"no label '{label}'")
        if self.running:
            raise ValueError("script is running")
        self._timer.unschedule()
        self._pause_left = 0
        self._run_handler, self._run_written = "goto", True
        self.ip, self.finished = self.labels[label], False
        with self._failures_to_caller():
            self._run()

    @write_handler("set")
    def _write_set(self, value: str) -> None:
        var, text = split_first(value)
        if not _VARIABLE.match(var):
            raise ValueError("expected 'VARIABLE VALUE'")
        if var == "args":
            self._args = text
        else:
            self.variables[var] = text
