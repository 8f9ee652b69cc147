"""The ``pyclick`` command, compatible with click(1).

::

    pyclick [options] [param=value ...] [router-file]

The configuration comes from ``-e``, ``-f``, the router file, or standard
input. ``param=value`` sets the configuration variable ``$param``.
User mistakes are printed as ``FILE:LINE: message`` lines on standard error
with exit status 1.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import os
import sys
from typing import TextIO

import pyclick
from pyclick import registry
from pyclick.args import quote
from pyclick.errors import ConfigError, Landmark
from pyclick.lang.model import FlatConfig, FlatElement
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError

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
                   help="write the flattened configuration to FILE ('-' = standard output) "
                        "and exit without running it (with -q, check it too)")
    p.add_argument("-h", "--handler", action="append", default=[], metavar="ELEMENT.HANDLER",
                   help="print this read handler's value when the router stops")
    p.add_argument("-j", "--threads", type=int, metavar="N",
                   help="run N worker threads, thread i pinned to CPU i")
    p.add_argument("-w", "--no-warnings", action="store_true", help="do not print warnings")
    p.add_argument("--simtime", action="store_true", help="run in simulated time")
    p.add_argument("-p", "--port", help="listen for ControlSocket connections on TCP PORT")
    p.add_argument("-u", "--unix-socket", metavar="PATH",
                   help="listen for ControlSocket connections on UNIX socket PATH")
    p.add_argument("--doc", metavar="CLASS", help="print the manual of element class CLASS")
    p.add_argument("--list", action="store_true", help="list element classes")
    p.add_argument("-v", "--verbose", action="store_true", help="print debugging messages")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument("--help", action="store_true", help="print this message and exit")
    return p


class LogFormatter(logging.Formatter):
    """``time level [element] message``; the element part when the record has one."""

    def format(self, record: logging.LogRecord) -> str:
        element = getattr(record, "element", None)
        where = f"[{element}] " if element else ""
        record.where = where
        return super().format(record)


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
        super().emit(record)


def configure_logging(verbose: bool, quiet_warnings: bool, stream: TextIO | None = None) -> None:
    """Log to standard error; -v shows debugging messages, -w hides warnings."""
    handler = _CommandHandler(stream)
    handler.setFormatter(LogFormatter("%(asctime)s %(levelname)s %(where)s%(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CommandHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.ERROR if quiet_warnings
                  else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Run the command; return its exit status."""
    try:
        opts = _parser().parse_intermixed_args(argv)
        return _run(opts)
    except UsageError as err:
        print(f"{PROG}: {err}\nUsage: {_parser().usage}\nTry '{PROG} --help'.", file=sys.stderr)
        return 1
    except ConfigError as err:
        for message in err.messages:
            print(message, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (``pyclick --list | head``): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _run(opts: argparse.Namespace) -> int:
    if opts.help:
        _parser().print_help()
        return 0
    if opts.version:
        print(f"{PROG} {pyclick.__version__}")
        return 0
    if opts.list:
        _print_classes()
        return 0
    if opts.doc:
        print(manual(registry.lookup(opts.doc)))
        return 0
    if opts.threads is not None and opts.threads < 1:
        raise UsageError("-j/--threads: expected a positive number of threads")
    configure_logging(opts.verbose, opts.no_warnings)

    variables, router_file = _split_words(opts.words)
    text, filename = _read_config(opts, router_file)
    flat = _flatten(text, filename, variables)
    if opts.output:
        _write_output(flat, opts.output)
        # Unlike click(1), -o never goes on to run the router: flattening an
        # operational configuration must not touch the interfaces it names.
        if not opts.quit:
            return 0
    _add_control_sockets(flat, opts)

    router = Router(flat, threads=opts.threads, simtime=opts.simtime, source=text)
    router.configure()
    if opts.quit:
        return _print_handlers(router, opts.handler)
    handler_status = [0]

    def print_handlers() -> None:
        handler_status[0] = _print_handlers(router, opts.handler)

    status = router.run(before_cleanup=print_handlers)
    return max(status, handler_status[0])


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


def _read_config(opts: argparse.Namespace, router_file: str | None) -> tuple[str, str]:
    """The configuration text and the name its landmarks use."""
    given = [x for x in (opts.expression is not None, opts.file, router_file) if x]
    if len(given) > 1:
        raise UsageError("give one configuration: -e, -f or a router file")
    if opts.expression is not None:
        return opts.expression, "<expr>"
    path = opts.file or router_file
    if path is None or path == "-":
        return sys.stdin.read(), "<stdin>"
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(), path
    except OSError as err:
        raise ConfigError(f"{PROG}: cannot read {path}: {err.strerror}") from None


def _flatten(text: str, filename: str, variables: dict[str, str]) -> FlatConfig:
    from pyclick.lang import flatten

    return flatten(text, filename=filename, variables=variables)


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


def _add_control_sockets(flat: FlatConfig, opts: argparse.Namespace) -> None:
    sockets = []
    if opts.port is not None:
        sockets.append(("tcp", f"TCP, {opts.port}"))
    if opts.unix_socket is not None:
        sockets.append(("unix", f"UNIX, {quote(opts.unix_socket)}"))
    for kind, config in sockets:
        flat.elements.append(FlatElement(f"pyclick_{kind}_control", "ControlSocket", config,
                                         _COMMAND_LINE))


def _print_handlers(router: Router, names: list[str]) -> int:
    """Print ``NAME:`` and the value of each read handler; 1 if one failed."""
    status = 0
    for name in names:
        try:
            value = router.handlers.read(name)
        except HandlerError as err:
            print(f"{PROG}: {name}: {err.message}", file=sys.stderr)
            status = 1
            continue
        sys.stdout.write(f"{name}:\n{value}" + ("" if value.endswith("\n") else "\n"))
    sys.stdout.flush()
    return status


def _print_classes() -> None:
    classes = registry.all_classes()
    width = max((len(name) for name in classes), default=0)
    for name, cls in classes.items():
        print(f"{name:<{width}}  {cls.summary()}".rstrip())


def manual(cls: type) -> str:
    """The element class's manual: its docstring, dedented."""
    return inspect.cleandoc(cls.__doc__ or f"{cls.__name__} -- (no manual)")
