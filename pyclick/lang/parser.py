"""Parsing Click text into a :class:`~pyclick.lang.syntax.Program`.

The grammar is ``pyclick/grammar/click.lark`` (LALR(1), contextual lexer,
read through :class:`~pyclick.lang.lexer.ClickLexer`).
lark builds no parse tree: the syntax classes are made as rules are reduced
(:class:`_ToSyntax` is lark's inline transformer, called through the direct
reductions of :mod:`pyclick.lang.reductions`), and the parsing tables
come from a cache in the user's cache directory when one can be kept there.
Syntax errors do not stop the parse: each is recorded, the statement before
it ends there if it can, the offending token is skipped, and at the end of
the input any unclosed ``{`` or ``(`` is closed, so that one run reports
every mistake and the rest of the program can still be checked, as Click's
reader does. A ``}`` or ``)`` with nothing open is refused where it stands
(:mod:`pyclick.lang.lexer`), not taken for the end of the program.

Programs parsed without a mistake are kept by :mod:`pyclick.lang.parsecache`,
which imports this module (and lark) only for a text it does not have.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import os
from dataclasses import dataclass, field

import lark
import regex
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_interactive_parser import InteractiveParser

from pyclick.errors import AtEnd, Landmark
from pyclick.lang import syntax as s
from pyclick.lang import chainline, reductions, usercache
from pyclick.lang.configstr import shown
from pyclick.lang.lexer import READING, RESERVED, ClickLexer
from pyclick.lang.linemap import LineMap, directives_in
from pyclick.lang.source import encoding_error, with_newlines

#: Past this many syntax errors in one text the parser gives up.
MAX_SYNTAX_ERRORS = 30
#: At the end of the input, at most this many open groups and compounds are closed.
MAX_CLOSED_AT_END = 200

_CLOSERS = {"RBRACE": "}", "RPAR": ")"}
_GRAMMAR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        "grammar", "click.lark")
_OPTIONS = dict(parser="lalr", lexer="contextual", regex=True, maybe_placeholders=True)


@dataclass
class _ParseRun:
    """What one parse collects besides its program: directives and errors."""

    lines: LineMap
    text: str
    errors: list[tuple[int, str]] = field(default_factory=list)
    last_error_line: int = 0
    #: The token the parser has just been given: while a rule is reduced, the one after it.
    lookahead: Token | None = None
    #: Where each line starts, worked out when a class's documentation is looked for.
    line_starts: list[int] = field(default_factory=list)
    doc_starts: dict[int, Landmark] = field(default_factory=dict)

    def error(self, pos: int, raw_line: int, message: str) -> None:
        placed = f"{self.lines.landmark(raw_line)}: {message}"
        self.errors.append((pos, AtEnd(placed) if pos >= len(self.text) else placed))

    def syntax_error(self, pos: int, raw_line: int, message: str) -> bool:
        """Report a mistake unless its line has one already (what follows a
        mistake on the same line is usually its echo); whether it was."""
        if raw_line == self.last_error_line:
            return False
        self.last_error_line = raw_line
        self.error(pos, raw_line, message)
        return True

    @property
    def end_line(self) -> int:
        return self.text.count("\n") + 1

    def line(self, number: int) -> str:
        """The text of raw line ``number`` (1-based)."""
        if not self.line_starts:
            self.line_starts = [0] + [m.end() for m in regex.finditer("\n", self.text)]
        start = self.line_starts[number - 1]
        end = self.line_starts[number] - 1 if number < len(self.line_starts) else len(self.text)
        return self.text[start:end]


# lark calls the lexer callbacks and the transformer with tokens and
# children only: the parse they belong to is found here.
# The lexer tells it which token the parser was handed last (lexer.READING).
_RUN: contextvars.ContextVar[_ParseRun] = contextvars.ContextVar("pyclick_lang_parse_run")


def _on_directive(token: Token) -> Token:
    run = _RUN.get()
    mistake = run.lines.directive(token.line, str(token))
    if mistake is not None:
        run.error(token.start_pos, token.line, mistake)
    return token


def _on_identifier(token: Token) -> Token:
    # The contextual lexer reads a keyword where no keyword can stand as
    # an identifier; Click reserves them everywhere.
    if token in RESERVED:
        _RUN.get().syntax_error(token.start_pos, token.line, f"'{token}' is a reserved word")
    return token


def _on_block_comment(token: Token) -> Token:
    if len(token) < 4 or not token.endswith("*/"):
        _RUN.get().error(token.start_pos, token.line, "comment never closed: expected '*/'")
    return token


@functools.cache
def _lark() -> Lark:
    with open(_GRAMMAR, encoding="utf-8") as f:
        grammar = f.read()
    return _load_lark(grammar, _cache_file(grammar))


def _load_lark(grammar: str, cache: str | bool) -> Lark:
    """The parser for ``grammar``, its tables read from ``cache`` or analysed (and saved there).

    lark rebuilds a cache file it cannot read, and carries on without one it cannot write.
    """
    transformer = _ToSyntax()
    made = Lark(grammar, **_OPTIONS, cache=cache, transformer=transformer,
                _plugins={"ContextualLexer": ClickLexer},
                lexer_callbacks={"LINE_DIRECTIVE": _on_directive,
                                 "BLOCK_COMMENT": _on_block_comment,
                                 "IDENT": _on_identifier})
    reductions.make_direct(made.parser.parser.parser, transformer)
    return made


def _cache_file(grammar: str) -> str | bool:
    """Where lark keeps the analysed Click grammar (:func:`usercache.grammar_cache`)."""
    return usercache.grammar_cache("click-grammar", f"{grammar}{_OPTIONS}{lark.__version__}")


def config_pattern() -> str:
    """The CONFIG terminal's pattern, as lark makes it: a whole, balanced
    ``(configuration)`` (see :mod:`pyclick.lang.readback`)."""
    return _lark().get_terminal("CONFIG").pattern.to_regexp()


def _recover(error: UnexpectedInput) -> bool:
    """lark's on_error hook: record ``error`` and say whether to go on."""
    run = _RUN.get()
    if len(run.errors) >= MAX_SYNTAX_ERRORS:
        return False
    if isinstance(error, UnexpectedCharacters):
        run.syntax_error(error.pos_in_stream, error.line, f"syntax error near {shown(error.char)}")
        return True
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        token = error.token
        # As Click's reader, which starts a statement afresh after a mistake:
        # where the statement could end, it ends, so that what follows the
        # skipped token is not read as more of it (``a -> b`` then ``$x :: C``
        # is not ``b :: C``). Tried at the first mistake of a line only: each
        # try copies the parser's stacks.
        if run.syntax_error(token.start_pos, token.line, f"syntax error near {shown(token, 24)}"):
            parser = error.interactive_parser
            if _accepts(parser, "SEMICOLON"):
                parser.feed_token(Token.new_borrow_pos("SEMICOLON", ";", token))
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
    """Whether ``parser`` can take ``terminal`` next (tried on a copy, building nothing)."""
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
    newlines first. Text holding characters that UTF-8 cannot encode (bytes
    that were not UTF-8, kept as lone surrogates) is refused.
    """
    refused = encoding_error(text, filename)
    if refused is not None:
        return None, [refused]
    text = with_newlines(text)
    run = _ParseRun(LineMap(filename), text)
    token, reading = _RUN.set(run), READING.set(run)
    try:
        program = _lark().parse(text, on_error=_recover)
    except UnexpectedInput:
        program = None
    finally:
        READING.reset(reading)
        _RUN.reset(token)
    run.errors.sort(key=lambda e: e[0])
    return program, [message for _, message in run.errors]


def _at(token: Token) -> Landmark:
    return _RUN.get().lines.landmark(token.line)


def _end_of_lookahead() -> Landmark:
    """Where the token after the rule being reduced ends (Click's line at that point)."""
    run = _RUN.get()
    token = run.lookahead
    if token is None:
        return run.lines.landmark(run.end_line)
    return run.lines.landmark(token.end_line)


def _config_of(token: Token) -> s.Config:
    text = _without_directives(token) if "\n#" in token else str(token)
    if token.type == "CONFIG":
        return s.Config(text[1:-1], True, _at(token))
    run = _RUN.get()
    # Reported at the end of the text, after what the parser finds missing there.
    run.error(len(run.text) + 1, run.end_line,
              f"expected ')': the configuration string opened at {_at(token)} never ends")
    return s.Config(text[1:], False, _at(token))


def _without_directives(token: Token) -> str:
    """A configuration string's text without its line directives, each applied."""
    run = _RUN.get()
    kept, start = [], 0
    for directive in directives_in(token):
        line = token.line + token.count("\n", 0, directive.start())
        mistake = run.lines.directive(line, directive.group())
        if mistake is not None:
            run.error(token.start_pos + directive.start(), line, mistake)
        kept.append(token[start:directive.start()])
        start = directive.end()
    kept.append(token[start:])
    return "".join(kept)


def _item(in_port: s.PortSpec | None, target: s.ElementRef | s.Group,
          out_port: s.PortSpec | None) -> s.Item:
    return s.Item(in_port, target, out_port, in_port.landmark if in_port else target.landmark)


def _port(children: list, open_: bool) -> s.PortSpec:
    ranges = tuple(c for c in children if isinstance(c, s.PortItem))
    return s.PortSpec(ranges, open_, _at(children[0]))


def _doc_start(keyword: Token) -> Landmark:
    """Where a class definition starts: its ``//`` comment block, if one is right above."""
    run = _RUN.get()
    line = keyword.line
    if line not in run.doc_starts:
        first = line
        while first > 1 and run.line(first - 1).lstrip().startswith("//"):
            first -= 1
        run.doc_starts[line] = run.lines.landmark(first)
    return run.doc_starts[line]


class _ToSyntax(Transformer):
    """Makes :mod:`pyclick.lang.syntax` data as lark reduces each rule.

    One method per rule of the grammar (and nothing else: lark looks rules
    up by name here); the parse under way is in ``_RUN``.
    """

    def start(self, children: list) -> s.Program:
        return s.Program(_RUN.get().lines.filename, list(children))

    def connection(self, children: list) -> s.Connection:
        # Elements and arrows, in order: the arrows cut the elements into lists.
        # Most connections are one element, or two and the arrow between them.
        count = len(children)
        if count == 1 and type(children[0]) is not Token:
            (item,) = children
            return s.Connection(((item,),), (), item.landmark, _end_of_lookahead())
        if count == 3 and type(children[1]) is Token and type(children[0]) is not Token \
                and type(children[2]) is not Token:
            first, arrow, second = children
            return s.Connection(((first,), (second,)),
                                (s.Arrow(arrow.type == "ARROW2", _at(arrow)),),
                                first.landmark, _end_of_lookahead())
        segments: list[tuple[s.Item, ...]] = []
        arrows: list[s.Arrow] = []
        items: list[s.Item] = []
        for child in children:
            if type(child) is Token:
                segments.append(tuple(items))
                items = []
                arrows.append(s.Arrow(child.type == "ARROW2", _at(child)))
            else:
                items.append(child)
        segments.append(tuple(items))
        first = next((seg[0].landmark for seg in segments if seg), None) or arrows[0].landmark
        return s.Connection(tuple(segments), tuple(arrows), first, _end_of_lookahead())

    def chain_line(self, children: list) -> s.Connection:
        (token,) = children
        return chainline.read(str(token), _at(token))

    def name_ref(self, children: list) -> s.Item:
        in_port, word, out_port = children
        return _item(in_port, s.ElementRef(word.value, None, None, _at(word)), out_port)

    # An optional configuration string leaves no placeholder behind ([_config]
    # is an inlined rule): ``config`` has the token or nothing.
    def declaration(self, children: list) -> s.Item:
        in_port, word, _, spec, *config, out_port = children
        at = _at(word)
        if type(spec) is Token:
            spec = s.ClassName(spec.value, at if spec.line == word.line else _at(spec))
        conf = _config_of(config[0]) if config else None
        return _item(in_port, s.ElementRef(word.value, spec, conf, at), out_port)

    def class_call(self, children: list) -> s.Item:
        in_port, word, config, out_port = children
        return _item(in_port, s.ElementRef(str(word), None, _config_of(config), _at(word)),
                     out_port)

    def compound_call(self, children: list) -> s.Item:
        in_port, compound, *config, out_port = children
        conf = _config_of(config[0]) if config else None
        return _item(in_port, s.ElementRef(None, compound, conf, compound.landmark), out_port)

    def group(self, children: list) -> s.Item:
        in_port, lpar, *statements, _, out_port = children
        return _item(in_port, s.Group(tuple(statements), _at(lpar)), out_port)

    def bare_port(self, children: list) -> s.Item:
        (port,) = children
        return s.Item(port, None, None, port.landmark)

    def class_name(self, children: list) -> s.ClassName:
        (word,) = children
        return s.ClassName(str(word), _at(word))

    def compound(self, children: list) -> s.CompoundClass:
        # Each definition is located at the token before it: '{' or '||'.
        bodies = []
        opener = children[0]
        extends = False
        for child in children[1:]:
            if isinstance(child, s.CompoundBody):
                bodies.append(child.replace(landmark=_at(opener)))
            elif isinstance(child, Token):
                extends = extends or child.type == "DOTS"
                opener = child
        return s.CompoundClass(tuple(bodies), extends, _at(children[0]))

    def compound_body(self, children: list) -> s.CompoundBody:
        formals, *statements = children
        # compound() knows where each definition starts and sets the landmark.
        return s.CompoundBody(tuple(formals or ()), tuple(statements), Landmark("", 0))

    def formals(self, children: list) -> list[s.Formal]:
        return [c for c in children if isinstance(c, s.Formal)]

    def formal(self, children: list) -> s.Formal:
        if len(children) == 1:
            (var,) = children
            return s.Formal(var[1:], None, _at(var))
        keyword, var = children
        return s.Formal(var[1:], str(keyword), _at(keyword))

    def port_token(self, children: list) -> s.PortSpec:
        (token,) = children
        return chainline.port_spec(token, _at(token))

    def port_open(self, children: list) -> s.PortSpec:
        return _port(children, True)

    def port_list(self, children: list) -> s.PortSpec:
        return _port(children, False)

    def port_list_open(self, children: list) -> s.PortSpec:
        return _port(children, True)

    def port_item(self, children: list) -> s.PortItem:
        first = children[0]
        return s.PortItem(str(first), str(children[1]) if len(children) > 1 else None, _at(first))

    def elementclass(self, children: list) -> s.ElementClassDef:
        keyword, name, spec = children
        if isinstance(spec, s.CompoundClass):
            start = _doc_start(keyword)
            first = spec.bodies[0].replace(landmark=start)
            spec = spec.replace(bodies=(first, *spec.bodies[1:]), landmark=start)
        return s.ElementClassDef(str(name), spec, _at(keyword))

    def require(self, children: list) -> s.Require:
        keyword, config = children
        return s.Require(_config_of(config), _at(keyword))

    def define(self, children: list) -> s.Define:
        keyword, config = children
        return s.Define(_config_of(config), _at(keyword))
