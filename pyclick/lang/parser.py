"""Parsing Click text into a :class:`~pyclick.lang.syntax.Program`.

The grammar is ``grammar/click.lark`` (LALR(1), contextual lexer). Syntax
errors do not stop the parse: each is recorded, the offending token is
skipped, and at the end of the input any unclosed ``{`` or ``(`` is closed,
so that one run reports every mistake and the rest of the program can
still be checked.
"""

from __future__ import annotations

import contextvars
import copy
import functools
from dataclasses import dataclass, field, replace
from importlib import resources

import regex
from lark import Lark, Token, Transformer_NonRecursive
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_interactive_parser import InteractiveParser

from pyclick.errors import Landmark
from pyclick.lang import syntax as s
from pyclick.lang.configstr import shown
from pyclick.lang.linemap import LineMap

#: Past this many syntax errors in one text the parser gives up.
MAX_SYNTAX_ERRORS = 30
#: At the end of the input, at most this many open groups and compounds are closed.
MAX_CLOSED_AT_END = 200

_CLOSERS = {"RBRACE": "}", "RPAR": ")"}
#: Words that can never name an element or a class.
RESERVED = frozenset({"elementclass", "require", "define", "provide"})


@dataclass
class _ParseRun:
    """What one parse collects besides its tree: directives and errors."""

    lines: LineMap
    text: str
    errors: list[tuple[int, str]] = field(default_factory=list)
    last_error_line: int = 0

    def error(self, pos: int, raw_line: int, message: str) -> None:
        self.errors.append((pos, f"{self.lines.landmark(raw_line)}: {message}"))

    def syntax_error(self, pos: int, raw_line: int, message: str) -> None:
        # One report per line: what follows a mistake on the same line is
        # usually its echo.
        if raw_line != self.last_error_line:
            self.last_error_line = raw_line
            self.error(pos, raw_line, message)

    @property
    def end_line(self) -> int:
        return self.text.count("\n") + 1


_run: contextvars.ContextVar[_ParseRun] = contextvars.ContextVar("pyclick_lang_parse_run")


def _on_directive(token: Token) -> Token:
    run = _run.get()
    if not run.lines.directive(token.line, str(token)):
        run.error(token.start_pos, token.line, "unknown preprocessor directive")
    return token


def _on_identifier(token: Token) -> Token:
    # The contextual lexer reads a keyword where no keyword can stand as
    # an identifier; Click reserves them everywhere.
    if token in RESERVED:
        _run.get().syntax_error(token.start_pos, token.line, f"'{token}' is a reserved word")
    return token


def _on_block_comment(token: Token) -> Token:
    if len(token) < 4 or not token.endswith("*/"):
        _run.get().error(token.start_pos, token.line, "comment never closed: expected '*/'")
    return token


@functools.cache
def _lark() -> Lark:
    grammar = resources.files("pyclick").joinpath("grammar", "click.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", regex=True,
                maybe_placeholders=True,
                lexer_callbacks={"LINE_DIRECTIVE": _on_directive,
                                 "BLOCK_COMMENT": _on_block_comment,
                                 "IDENT": _on_identifier})


@functools.cache
def _closed_config() -> regex.Pattern:
    """The compiled CONFIG terminal: a whole, balanced ``(configuration)``."""
    return regex.compile(_lark().get_terminal("CONFIG").pattern.to_regexp())


def config_reads_back(config: str) -> bool:
    """Whether ``(config)`` reads back as exactly this configuration string."""
    return _closed_config().fullmatch(f"({config})") is not None


def _recover(error: UnexpectedInput) -> bool:
    """lark's on_error hook: record ``error`` and say whether to go on."""
    run = _run.get()
    if len(run.errors) >= MAX_SYNTAX_ERRORS:
        return False
    if isinstance(error, UnexpectedCharacters):
        run.syntax_error(error.pos_in_stream, error.line, f"syntax error near {shown(error.char)}")
        return True
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        token = error.token
        run.syntax_error(token.start_pos, token.line, f"syntax error near {shown(token, 24)}")
        return True
    if isinstance(error, UnexpectedToken):
        return _close_at_end(run, error)
    return False


def _close_at_end(run: _ParseRun, error: UnexpectedToken) -> bool:
    """At the end of the input, close what is still open, if that is all that is missing."""
    parser = error.interactive_parser
    missing = []
    while not _accepts(parser, "$END"):
        closer = next((name for name in _CLOSERS if _accepts(parser, name)), None)
        if closer is None or len(missing) == MAX_CLOSED_AT_END:
            message = f"expected '{missing[0]}'" if missing else "unexpected end of file"
            run.error(len(run.text), run.end_line, message)
            return False
        missing.append(_CLOSERS[closer])
        parser.feed_token(Token.new_borrow_pos(closer, _CLOSERS[closer], error.token))
    run.error(len(run.text), run.end_line, f"expected '{missing[0]}'")
    return True


def _accepts(parser: InteractiveParser, terminal: str) -> bool:
    """Whether ``parser`` can take ``terminal`` next (tried on a copy, without building trees)."""
    trial = parser.copy(deepcopy_values=False)
    conf = copy.copy(trial.parser_state.parse_conf)
    conf.callbacks = {}
    trial.parser_state.parse_conf = conf
    try:
        trial.feed_token(Token(terminal, ""))
    except UnexpectedToken:
        return False
    return True


def parse_text(text: str, filename: str) -> tuple[s.Program | None, list[str]]:
    """Parse ``text``; the program (None if unrecoverable) and every syntax error.

    Carriage returns count as newlines, as in Click; they are turned into
    newlines first.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    run = _ParseRun(LineMap(filename), text)
    token = _run.set(run)
    try:
        tree = _lark().parse(text, on_error=_recover)
    except UnexpectedInput:
        tree = None
    finally:
        _run.reset(token)
    program = None
    if tree is not None:
        program = _ToSyntax(run).transform(tree)
    run.errors.sort(key=lambda e: e[0])
    return program, [message for _, message in run.errors]


class _ToSyntax(Transformer_NonRecursive):
    """Turns lark's tree into :mod:`pyclick.lang.syntax` data."""

    def __init__(self, run: _ParseRun):
        super().__init__()
        self._run = run

    def _at(self, token: Token) -> Landmark:
        return self._run.lines.landmark(token.line)

    def _config(self, token: Token) -> s.Config:
        if token.type == "CONFIG":
            return s.Config(token[1:-1], True, self._at(token))
        run = self._run
        run.error(len(run.text), run.end_line,
                  f"expected ')': the configuration string opened at {self._at(token)} never ends")
        return s.Config(token[1:], False, self._at(token))

    def start(self, children: list) -> s.Program:
        return s.Program(self._run.lines.filename, list(children))

    def connection(self, children: list) -> s.Connection:
        segments: list[tuple[s.Item, ...]] = []
        arrows: list[s.Arrow] = []
        for child in children:
            if isinstance(child, Token):
                if len(segments) == len(arrows):
                    segments.append(())
                arrows.append(s.Arrow(child.type == "ARROW2", self._at(child)))
            else:
                segments.append(child or ())
        if len(segments) == len(arrows):
            segments.append(())
        first = next(item.landmark for seg in segments for item in seg) if any(segments) \
            else arrows[0].landmark
        return s.Connection(tuple(segments), tuple(arrows), first)

    def segment(self, children: list) -> tuple[s.Item, ...]:
        return tuple(children)

    def element(self, children: list) -> s.Item:
        in_port, target, out_port = children
        landmark = in_port.landmark if in_port else target.landmark
        return s.Item(in_port, target, out_port, landmark)

    def bare_port(self, children: list) -> s.Item:
        (port,) = children
        return s.Item(port, None, None, port.landmark)

    def name_ref(self, children: list) -> s.ElementRef:
        (word,) = children
        return s.ElementRef(str(word), None, None, self._at(word))

    def declaration(self, children: list) -> s.ElementRef:
        word, _, spec, *config = children
        conf = self._config(config[0]) if config and config[0] is not None else None
        return s.ElementRef(str(word), spec, conf, self._at(word))

    def class_call(self, children: list) -> s.ElementRef:
        word, config = children
        return s.ElementRef(str(word), None, self._config(config), self._at(word))

    def compound_call(self, children: list) -> s.ElementRef:
        compound, *config = children
        conf = self._config(config[0]) if config and config[0] is not None else None
        return s.ElementRef(None, compound, conf, compound.landmark)

    def group(self, children: list) -> s.Group:
        lpar, *statements, _ = children
        return s.Group(tuple(statements), self._at(lpar))

    def class_name(self, children: list) -> s.ClassName:
        (word,) = children
        return s.ClassName(str(word), self._at(word))

    def compound(self, children: list) -> s.CompoundClass:
        # Each definition is located at the token before it: '{' or '||'.
        bodies = []
        opener = children[0]
        extends = False
        for child in children[1:]:
            if isinstance(child, s.CompoundBody):
                bodies.append(replace(child, landmark=self._at(opener)))
            elif isinstance(child, Token):
                extends = extends or child.type == "DOTS"
                opener = child
        return s.CompoundClass(tuple(bodies), extends, self._at(children[0]))

    def compound_body(self, children: list) -> s.CompoundBody:
        formals, *statements = children
        # compound() knows where each definition starts and sets the landmark.
        return s.CompoundBody(tuple(formals or ()), tuple(statements), Landmark("", 0))

    def formals(self, children: list) -> list[s.Formal]:
        return [c for c in children if isinstance(c, s.Formal)]

    def formal(self, children: list) -> s.Formal:
        if len(children) == 1:
            (var,) = children
            return s.Formal(var[1:], None, self._at(var))
        keyword, var = children
        return s.Formal(var[1:], str(keyword), self._at(keyword))

    def _port(self, children: list, open_: bool) -> s.PortSpec:
        ranges = tuple(c for c in children if isinstance(c, s.PortRange))
        return s.PortSpec(ranges, open_, self._at(children[0]))

    def port_open(self, children: list) -> s.PortSpec:
        return self._port(children, True)

    def port_list(self, children: list) -> s.PortSpec:
        return self._port(children, False)

    def port_list_open(self, children: list) -> s.PortSpec:
        return self._port(children, True)

    def port_item(self, children: list) -> s.PortRange:
        first, *last = children
        return s.PortRange(str(first), str(last[0]) if last else None, self._at(first))

    def elementclass(self, children: list) -> s.ElementClassDef:
        keyword, name, spec = children
        if isinstance(spec, s.CompoundClass):
            start = self._doc_start(keyword)
            first = replace(spec.bodies[0], landmark=start)
            spec = replace(spec, bodies=(first, *spec.bodies[1:]), landmark=start)
        return s.ElementClassDef(str(name), spec, self._at(keyword))

    def _doc_start(self, keyword: Token) -> Landmark:
        """Where a class definition starts: its ``//`` comment block, if one is right above."""
        lines = self._run.text.split("\n", keyword.line)[: keyword.line - 1]
        first = keyword.line
        while first > 1 and lines[first - 2].lstrip().startswith("//"):
            first -= 1
        return self._run.lines.landmark(first)

    def require(self, children: list) -> s.Require:
        keyword, config = children
        return s.Require(self._config(config), self._at(keyword))

    def define(self, children: list) -> s.Define:
        keyword, config = children
        return s.Define(self._config(config), self._at(keyword))
