"""The ``pyclick`` command, compatible with click(1).

::

    pyclick [options] [param=value ...] [router-file]

The configuration comes from ``-e``, ``-f``, the router file, or standard
input. ``param=value`` sets the configuration variable ``$param``.
User mistakes are printed as ``FILE:LINE: message`` lines on standard error
with exit status 1. ``-q`` only configures: no element is initialized, so
nothing outside the process is touched. ``--doc CLASS`` imports only the
module that defines CLASS; ``--list`` imports every element module.

SIGINT, SIGTERM, SIGHUP and SIGQUIT end the command at any moment with
status 128 + the signal's number and one line, ``pyclick: stopped by
SIGTERM``: a running router first stops in order and cleans up. The
router and the language are imported only once those handlers are in
place, so that even an early signal unwinds without a traceback.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import inspect
import logging
import os
import re
import resource
import stat
import sys
import time
from typing import TYPE_CHECKING, NoReturn, TextIO

import pyclick
from pyclick.errors import ConfigError, Landmark
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.stopsignals import Interrupted, Unwinder

if TYPE_CHECKING:
    from pyclick.lang.model import FlatConfig
    from pyclick.registry import Registry
    from pyclick.router import Router

PROG = "pyclick"
_COMMAND_LINE = Landmark("<command line>", 1)


class UsageError(Exception):
    """A malformed command line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse would exit with status 2
        raise UsageError(message)


def _parser() -> _Parser:
    p = _Parser(prog=PROG, add_help=False,
                usage=f"{PROG} [options] [param=value ...] [router-file]",
                description="Run a Click-language router configuration.")
    p.add_argument("words", nargs="*", metavar="param=value | router-file")
    p.add_argument("-f", "--file", help="read the router configuration from FILE")
    p.add_argument("-e", "--expression", metavar="EXPR", help="use EXPR as the router configuration")
    p.add_argument("-q", "--quit", action="store_true",
                   help="check the configuration (classes, arguments, ports), do not run")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the flattened configuration to FILE ('-' = standard output), "
                        "then run it unless -q is given")
    p.add_argument("-h", "--handler", action="append", default=[], metavar="ELEMENT.H",
                   help="call read handler H (of ELEMENT: a name, a class or a pattern) after "
                        "running the driver and print its value to standard output")
    p.add_argument("-x", "--exit-handler", metavar="ELEMENT.H",
                   help="use handler ELEMENT.H's value (an integer or a boolean) as exit status")
    p.add_argument("-t", "--time", action="store_true",
                   help="print how long the driver took (user, system and wall time)")
    p.add_argument("-C", "--clickpath", metavar="PATH",
                   help="look for element modules in the directories of PATH (colon-separated)")
    p.add_argument("-j", "--threads", type=int, metavar="N",
                   help="run N worker threads, thread i pinned to CPU i")
    p.add_argument("-w", "--no-warnings", action="store_true", help="do not print warnings")
    p.add_argument("--simtime", "--simulation-time", action="store_true",
                   help="run in simulated time; --simtime=TIME starts it at TIME seconds")
    p.add_argument("--simtime-start", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("-p", "--port", help="listen for ControlSocket connections on TCP PORT")
    p.add_argument("-u", "--unix-socket", metavar="PATH",
                   help="listen for ControlSocket connections on UNIX socket PATH")
    p.add_argument("--socket", action="append", metavar="FD", default=[],
                   help="serve ControlSocket requests on the open file descriptor FD "
                        "(a connection a parent process passed; may be repeated)")
    p.add_argument("--doc", metavar="CLASS", help="print the manual of element class CLASS")
    p.add_argument("--list", action="store_true", help="list element classes")
    p.add_argument("--cleanup", metavar="IF",
                   help="put interface IF back as a pyclick that did not stop by itself "
                        "left it (from its state record under /run/pyclick), and exit")
    p.add_argument("--verbose", action="store_true", help="print debugging messages")
    p.add_argument("-v", "--version", action="store_true", help="print the version and exit")
    p.add_argument("--help", action="store_true", help="print this message and exit")
    return p


#: The syslog priority of each log level, which the journal reads from a ``<N>`` prefix.
_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}


#: A landmark at the front of a message (``FILE:LINE: ...``), as the router writes its warnings.
_LEADING_LANDMARK = re.compile(r"(\S+:\d+): ")


class LogFormatter(logging.Formatter):
    """Log lines in the style of configuration errors: ``FILE:LINE: warning: [element] message``.

    The landmark is the record's own (``extra={"landmark": ...}``) or, for a
    warning, the one its message starts with; a warning says ``warning:``
    after it, as Click's do; ``[element]`` names the element that logged,
    unless the message starts with its name already.
    That is the whole line on a terminal (``destination`` 'terminal') and
    into a pipe ('pipe': another program reads it, as it would Click's); to
    a file ('file') a line starts with its time; to the journal
    ('journal'), which keeps the time itself, with the priority it files
    the line under.
    """

    def __init__(self, destination: str = "terminal") -> None:
        super().__init__()
        self.destination = destination

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        landmark = getattr(record, "landmark", None)
        warning = record.levelno == logging.WARNING
        if landmark is None and warning and (leading := _LEADING_LANDMARK.match(message)):
            landmark, message = leading.group(1), message[leading.end():]
        elif landmark is not None and message.startswith(f"{landmark}: "):
            # An error that names its place already (a ConfigError's message): once.
            message = message[len(landmark) + 2:]
        element = getattr(record, "element", None)
        # Most element messages open with the element's declaration, as Click's do.
        named = element and not message.startswith(element)
        text = ((f"{landmark}: " if landmark else "") + ("warning: " if warning else "")
                + (f"[{element}] " if named else "") + message)
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        if self.destination == "journal":
            return _journal_lines(text, record.levelno)
        if self.destination == "file":
            return f"{self.formatTime(record)} {text}"
        return text


def log_destination(stream: TextIO) -> str:
    """'journal' when ``stream`` is the journal systemd gave us (``JOURNAL_STREAM`` names
    its device and inode), 'terminal' on a TTY, 'pipe' into a pipe or a socket,
    else 'file'."""
    try:
        device, inode = (int(x) for x in os.environ.get("JOURNAL_STREAM", "").split(":"))
        status = os.fstat(stream.fileno())
        if (status.st_dev, status.st_ino) == (device, inode):
            return "journal"
    except (ValueError, OSError, AttributeError):   # unset, malformed, or not a real file
        pass
    try:
        if stream.isatty():
            return "terminal"
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, ValueError, OSError):   # not a real file, or a closed one
        return "file"
    return "pipe" if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else "file"


def print_error(text: str, level: int = logging.ERROR) -> None:
    """Write a message of the command itself (not a log record) to standard error.

    On a terminal or in a file it is the bare text, as Click writes its
    errors (``FILE:LINE: message`` lines stay as editors read them); to the
    journal each line carries the priority of ``level``, so that a service
    whose configuration fails is filed as failing, not as information.
    """
    if log_destination(sys.stderr) == "journal":
        text = _journal_lines(text, level)
    print(text, file=sys.stderr)


def _journal_lines(text: str, level: int) -> str:
    """``text`` with the priority of ``level`` before each line, as the journal reads it."""
    priority = _PRIORITY.get(level, 6)
    return "\n".join(f"<{priority}>{line}" for line in text.splitlines())


class _CommandHandler(logging.StreamHandler):
    """The handler the command installs (replaced, not stacked, on each run).

    Without an explicit stream it writes to whatever ``sys.stderr`` is when
    a record comes, so a caller that swaps standard error (an embedding
    program, a test harness) never leaves it writing to a closed file.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self._follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self._follow_stderr:
            self.stream = sys.stderr
        if isinstance(self.formatter, LogFormatter):
            self.formatter.destination = log_destination(self.stream)
        super().emit(record)


def configure_logging(verbose: bool, quiet_warnings: bool, stream: TextIO | None = None) -> None:
    """Log to standard error (``LogFormatter``'s lines, dated off a terminal);
    -v shows debugging messages, -w hides warnings."""
    handler = _CommandHandler(stream)
    handler.setFormatter(LogFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CommandHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet_warnings
                  else logging.INFO)


def command() -> NoReturn:
    """The ``pyclick`` command: ``main``, then the end of the process.

    Before the interpreter exits, every object is moved out of the cyclic
    collector's reach (``gc.freeze``): the exit would otherwise go over all
    of them once more (milliseconds for a configuration of thousands of
    elements) only to find the garbage that ending the process frees
    anyway. ``atexit`` handlers run after it as before.
    """
    status = main()
    gc.freeze()
    sys.exit(status)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status."""
    # Before numpy loads: its OpenBLAS starts a thread per core that spins for a
    # while after the import (0.1 s of a core), and a router's vectors are far too
    # small for BLAS threads to pay. An explicit setting is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with Unwinder() as unwinder:
        try:
            try:
                status = _main(argv, unwinder)
                # A signal that arrived in a callback whose exceptions Python drops.
                unwinder.check()
                return status
            except Interrupted as err:
                print_error(f"{PROG}: {err}", logging.WARNING)
                return err.exit_status
        except Interrupted as err:  # a second signal while the first was being reported
            return err.exit_status


def _simtime_values(argv: list[str]) -> list[str]:
    """click's ``--simtime[=TIME]``: a value only after '=', so that a router file
    after a bare --simtime stays the router file. The value is checked here, where
    the option is named as the user wrote it."""
    out = []
    for word in argv:
        name, eq, value = word.partition("=")
        if eq and name in ("--simtime", "--simulation-time"):
            try:
                float(value)
            except ValueError:
                raise UsageError(f"{name}: expected seconds, got '{value}'") from None
            out += ["--simtime", "--simtime-start", value]
        else:
            out.append(word)
    return out


def _main(argv: list[str] | None, unwinder: Unwinder) -> int:
    try:
        opts = _parser().parse_intermixed_args(
            _simtime_values(sys.argv[1:] if argv is None else argv))
        return _run(opts, unwinder)
    except UsageError as err:
        print_error(f"{PROG}: {err}\nUsage: {_parser().usage}\nTry '{PROG} --help'.")
        return 1
    except ConfigError as err:
        for message in err.messages:
            print_error(message)
        return 1
    except BrokenPipeError:
        # The reader went away (``pyclick --list | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(opts: argparse.Namespace, unwinder: Unwinder) -> int:
    if opts.help:
        _parser().print_help()
        return 0
    if opts.version:
        print(f"{PROG} {pyclick.__version__}")
        return 0
    if opts.list:
        _print_classes(opts)
        return 0
    if opts.doc:
        print(manual(_registry(opts).lookup(opts.doc)))
        return 0
    if opts.cleanup:
        return _cleanup(opts)
    if opts.threads is not None and opts.threads < 1:
        raise UsageError("-j/--threads: expected a positive number of threads")
    sockets = _control_sockets(opts)
    configure_logging(opts.verbose, opts.no_warnings)

    variables, router_file = _split_words(opts.words)
    text, filename, from_file = _read_config(opts, router_file)
    registry = _registry(opts)
    flat = _flatten(text, filename, variables, registry, from_file)
    if opts.output:
        # As click(1): the flat configuration is written, and the router
        # still runs unless -q is given.
        _write_output(flat, opts.output)
    _add_control_sockets(flat, sockets)

    from pyclick.router import Router

    router = Router(flat, threads=opts.threads, simtime=opts.simtime, source=text,
                    registry=registry, simtime_start=opts.simtime_start)
    router.configure()
    if opts.quit:
        return _report(router, opts, _Timing())
    if not router.elements:
        # As click(1): nothing to run, so the driver does not start (and
        # would otherwise wait for a stop that nothing can give).
        logging.getLogger("pyclick").warning("%s: configuration has no elements, exiting",
                                             filename)
        return _report(router, opts, _Timing())
    # The router takes the signals over from here: one that reached a callback
    # while the configuration was read and configured must not be lost.
    unwinder.check()
    handler_status = [0]
    started = _Timing()

    def print_handlers() -> None:
        handler_status[0] = _report(router, opts, started)

    status = router.run(before_cleanup=print_handlers)
    if router.stop_signal is not None:
        raise Interrupted(router.stop_signal)
    if opts.exit_handler is not None:
        return handler_status[0]
    return max(status, handler_status[0])


def _cleanup(opts: argparse.Namespace) -> int:
    """--cleanup IF: restore what a killed pyclick left on IF (pyclick.kernel.ownership)."""
    if opts.words or opts.expression is not None or opts.file:
        raise UsageError("--cleanup takes an interface, not a configuration")
    from pyclick.kernel import ownership
    from pyclick.kernel.recovery import RestoreError
    from pyclick.kernel.staterecord import RecordError

    try:
        print(ownership.cleanup(opts.cleanup))
    except (ownership.InterfaceBusy, RestoreError, RecordError, OSError) as err:
        print_error(f"{PROG}: --cleanup {opts.cleanup}: {err}")
        return 1
    return 0


def _split_words(words: list[str]) -> tuple[dict[str, str], str | None]:
    """``NAME=value`` words are variables; one other word is the router file."""
    variables: dict[str, str] = {}
    files = []
    for word in words:
        name, eq, value = word.partition("=")
        if eq and name.isidentifier():
            variables[name] = value
        else:
            files.append(word)
    if len(files) > 1:
        raise UsageError(f"more than one router file: {', '.join(files)}")
    return variables, files[0] if files else None


def _read_config(opts: argparse.Namespace, router_file: str | None) -> tuple[str, str, bool]:
    """The configuration text, the name its landmarks use, and whether it is that
    file's (not an expression's or standard input's)."""
    given = [x for x in (opts.expression is not None, opts.file, router_file) if x]
    if len(given) > 1:
        raise UsageError("give one configuration: -e, -f or a router file")
    if opts.expression is not None:
        # Click's name for an expression in its messages (``config:1: ...``).
        return opts.expression, "config", False
    from pyclick.lang import decode_config

    path = opts.file or router_file
    if path is None or path == "-":
        return decode_config(sys.stdin.buffer.read(), "<stdin>"), "<stdin>", False
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise ConfigError(f"{PROG}: cannot read {path}: {err.strerror}") from None
    return decode_config(data, path), path, True


def _flatten(text: str, filename: str, variables: dict[str, str], registry: Registry,
             from_file: bool) -> FlatConfig:
    from pyclick.lang import flatten

    def unknown_classes(flat: FlatConfig) -> list[str]:
        from pyclick.router import class_errors

        return class_errors(flat, registry)

    return flatten(text, filename=filename, variables=variables,
                   classes=registry.builtin_names, from_file=from_file,
                   graph_check=unknown_classes)


def _write_output(flat: FlatConfig, path: str) -> None:
    from pyclick.lang import unparse

    text = unparse(flat)
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise ConfigError(f"{PROG}: cannot write {path}: {err.strerror}") from None


def _control_sockets(opts: argparse.Namespace) -> list[str]:
    """The ControlSocket configurations -p, -u and --socket ask for.

    Each value is checked here, whole, so that nothing but a port or a path
    reaches the configuration (``-p '0, ADDRESS 0.0.0.0'`` is refused).
    """
    sockets = []
    if opts.port is not None:
        match = _PORT.fullmatch(opts.port)
        if match is None or int(match.group(1)) > 65535:
            raise UsageError("-p/--port: expected a TCP port from 0 to 65535, or N+ for the "
                             f"first free port from N, got '{_shown(opts.port)}'")
        sockets.append(f"TCP, {opts.port}")
    if opts.unix_socket is not None:
        path = opts.unix_socket
        size = len(os.fsencode(path))
        if not path or "\0" in path or size > _UNIX_PATH_MAX:
            raise UsageError(f"-u/--unix-socket: expected a socket path of 1 to {_UNIX_PATH_MAX} "
                             f"bytes, got '{_shown(path)}'")
        from pyclick.args import quote

        sockets.append(f"UNIX, {quote(path)}")
    for fd in opts.socket:
        if not _FD.fullmatch(fd) or int(fd) > 2**31 - 1:
            raise UsageError(f"--socket: expected an open file descriptor's number, "
                             f"got '{_shown(fd)}'")
        sockets.append(f"SOCKET, {fd}")
    return sockets


_PORT = re.compile(r"([0-9]{1,5})\+?")
_FD = re.compile(r"[0-9]{1,10}")
# sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
_UNIX_PATH_MAX = 107


def _shown(text: str) -> str:
    """A command-line value as quoted in a message: printable, at most 60 characters."""
    text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= 60 else f"{text[:60]}…({len(text)} characters)"


def _add_control_sockets(flat: FlatConfig, sockets: list[str]) -> None:
    from pyclick.lang.model import FlatElement

    # Click's names, which handler paths use (click_driver@@ControlSocket.port).
    for number, config in enumerate(sockets):
        name = "click_driver@@ControlSocket" + (f"@{number}" if number else "")
        flat.elements.append(FlatElement(name, "ControlSocket", config, _COMMAND_LINE))


class _Timing:
    """Where -t counts from: CPU times and the wall clock when the driver starts."""

    def __init__(self) -> None:
        self.wall = time.monotonic()
        self.usage = resource.getrusage(resource.RUSAGE_SELF)

    def report(self) -> str:
        """click's line: ``0.123u 0.004s 0:01.23`` (user, system, wall)."""
        usage = resource.getrusage(resource.RUSAGE_SELF)
        user = round((usage.ru_utime - self.usage.ru_utime) * 1000)
        system = round((usage.ru_stime - self.usage.ru_stime) * 1000)
        wall = round((time.monotonic() - self.wall) * 100)
        seconds = wall // 100
        return (f"{user // 1000}.{user % 1000:03d}u {system // 1000}.{system % 1000:03d}s "
                f"{seconds // 60}:{seconds % 60:02d}.{wall % 100:02d}")


def _report(router: Router, opts: argparse.Namespace, timing: _Timing) -> int:
    """What click prints once the driver stopped (or, with -q, instead of running
    it): -t, then -h, then -x's status."""
    if opts.time:
        print(timing.report(), flush=True)
    status = _print_handlers(router, opts.handler)
    if opts.exit_handler is not None:
        status = _exit_status(router, opts.exit_handler)
    return status


def _print_handlers(router: Router, names: list[str]) -> int:
    """Print read handlers as click(1) does; 1 if one failed.

    One handler prints its bare value; several print ``NAME:``, the value
    and an empty line each. A value gets a final newline unless it is empty
    or the handler is raw. ``ELEMENT.H`` names an element, or else every
    element of class ELEMENT or whose name matches the pattern ELEMENT (with
    ``*``, ``?``, ``[...]``), and then names are printed too. A name
    without a dot is a global handler.
    """
    status = 0
    several = len(names) > 1
    for name in names:
        element_part, dot, handler = name.partition(".")
        if not dot or not element_part:
            status |= _print_handler(router, "", handler if dot else name, several)
            continue
        targets, matched = _handler_elements(router, element_part, handler)
        if targets is None:
            status = 1
            continue
        for element in targets:
            status |= _print_handler(router, element, handler, several or matched)
    sys.stdout.flush()
    return status


def _handler_elements(router: Router, part: str, handler: str) -> tuple[list[str] | None, bool]:
    """The names of the elements ``part`` stands for, and whether it was a class
    or a pattern; None (after the message) when it stands for none."""
    if router.element(part) is not None:
        return [part], False
    pattern = any(c in part for c in "?*[")
    found = False
    names = []
    for element in router.elements:
        if pattern:
            hit = fnmatch.fnmatchcase(element.name, part)
        else:
            hit = any(cls.__name__ == part for cls in type(element).__mro__[:-2])
        found = found or hit
        if hit:
            try:
                router.handlers.check(f"{element.name}.{handler}", write=False)
            except HandlerError:
                continue
            names.append(element.name)
    if not found:
        print_error(f"no element {'matching ' if pattern else ''}'{part}'")
        return None, True
    return names, True


def _writes(router: Router, full: str) -> bool:
    """Whether handler ``full`` exists and writes."""
    try:
        router.handlers.check(full, write=True)
    except HandlerError:
        return False
    return True


def _print_handler(router: Router, element: str, handler: str, with_name: bool) -> int:
    full = f"{element}.{handler}" if element else handler
    try:
        router.handlers.check(full, write=False)
    except HandlerError:
        print_error(f"'{full}' is a write handler" if _writes(router, full)
                    else f"no '{full}' handler")
        return 1
    try:
        value = router.handlers.read(full)
    except HandlerError as err:
        print_error(f"{full}: {err.message}")
        return 1
    target = router.element(element) if element else None
    raw = target is not None and type(target).raw_handler(handler)
    if value and not raw and not value.endswith("\n"):
        value += "\n"
    sys.stdout.write(f"{full}:\n{value}\n" if with_name else value)
    return 0


def _exit_status(router: Router, name: str) -> int:
    """-x: the handler's value as an exit status (a boolean: true 0, false 1); -1
    when it cannot be read or is neither."""
    try:
        value = router.handlers.read(name).strip()
    except HandlerError as err:
        print_error(f"{name}: {err.message}")
        return -1
    try:
        return int(value, 0)
    except ValueError:
        pass
    if value.lower() in ("true", "yes", "1"):
        return 0
    if value.lower() in ("false", "no", "0"):
        return 1
    print_error("exit handler value should be integer")
    return -1


def _registry(opts: argparse.Namespace) -> Registry:
    """The class registry, with -C's element search path (or $CLICKPATH's)."""
    from pyclick.registry import Registry

    path = opts.clickpath if opts.clickpath is not None else os.environ.get("CLICKPATH", "")
    return Registry(search_path=path.split(":"))


def _print_classes(opts: argparse.Namespace) -> None:
    classes = _registry(opts).all_classes()
    width = max((len(name) for name in classes), default=0)
    for name, cls in classes.items():
        print(f"{name:<{width}}  {cls.summary()}".rstrip())


def manual(cls: type) -> str:
    """The element class's manual: its docstring, dedented."""
    return inspect.cleandoc(cls.__doc__ or f"{cls.__name__} -- (no manual)")
