"""Texts of plain statements, read whole without lark.

Most configurations a user writes or a program generates hold nothing but
statements of named elements in chains and lists (``Idle -> Discard``,
``a :: C;``, ``s [1] -> q :: Queue(10) -> d, e;``), a statement perhaps spread
over lines (a declaration whose arguments take a line each), definitions of
variables or of what is required (``define($N 10)``) and compound classes
made of the same (``elementclass Stage { $n | input -> Queue($n) -> output
}``, with overloads): no group, no anonymous compound, no line directive.
Such a text is read here, by regular expressions, into the program the
parser makes of it, landmarks included; importing lark and loading the
parser's tables would cost a configuration of a few thousand lines most of
its run. Any other text gives None, and the parser reads it
(and reports its mistakes).

Statements on one line are read as :func:`pyclick.lang.chainline.read` reads
them, their text left out (:attr:`~pyclick.lang.syntax.Connection.written`:
only the parse cache reads it, and a program read here is not kept there);
a statement over several lines has comments and newlines between its
tokens and configuration strings that run over lines (line comments in
them too), and each of its nodes is at its own line, as the parser puts
it. A semicolon may be left out: a statement then ends where the next
token starts (the next statement, the end of a compound class's body, the
end of the text), and Click reports output ports left at its end there.

The text is read in one pass, compound classes by recursion (at most
DEEPEST deep): a text that turns out to need the parser has cost it what
was read up to there, linear in its length.
"""

from __future__ import annotations

import functools
import re

from pyclick.errors import Landmark
from pyclick.lang import chainline
from pyclick.lang import syntax as s
from pyclick.lang.source import encoding_error, with_newlines

#: What only the parser reads: line directives.
_PARSER_ONLY = "#"
#: Compound classes nested deeper than this are left to the parser: the reader
#: goes down one call per class.
DEEPEST = 32

#: A configuration string as on one line (chainline.PLAIN_CONFIG), but that may run
#: over lines, quoted strings too.
PLAIN_SPREAD_CONFIG = r"""\((?:(?>[^()"'/\\]+)|/(?![/*])|"[^"\\]*"|'[^']*')*\)"""
#: A compound class's parameter, perhaps a keyword one: a variable, after its keyword.
_VAR = r"\$[A-Za-z0-9_]+"
#: What is skipped before a token, taken whole (an atomic group): tried shorter,
#: it would leave the end of a comment to be read as a statement.
_SKIP = f"(?>{chainline.SKIP})"
#: Where a statement without its semicolon may end: after a whole name, as a
#: lexer reads one, and where another statement, the end of a compound class's
#: body or the text's end follows.
_UNENDED = rf"(?![A-Za-z0-9_@])(?={_SKIP}(?:\Z|[A-Za-z0-9_@]|\}}|\|\|))"


class _Compiled:
    """A pattern compiled the first time it is read, then kept by its holder: the
    patterns take milliseconds to compile, the statements over several lines
    most, and a text of one-line statements never needs them."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, holder: object, owner: type) -> re.Pattern:
        compiled = re.compile(self.source)
        holder.__dict__[self.name] = compiled
        return compiled


def _statement(config: str, spread_config: str) -> str:
    """The pattern of a statement (see ``_Patterns.statement``), its configuration
    strings ``config`` on one line and ``spread_config`` in definitions."""
    return (f"({_SKIP})(?:{chainline.TWO_WORDS}"
            f"|({chainline.elements(config)})(?:[ \\t]*(;)|{_UNENDED})"
            f"|(define|require){chainline.WORD_END}{_SKIP}({spread_config})(?:{_SKIP};)?"
            f"|elementclass{chainline.WORD_END}{_SKIP}({chainline.UNRESERVED}){_SKIP}"
            f"(?:({chainline.UNRESERVED})(?:{_SKIP};)?|(\\{{)))")


def _spread(config: str) -> str:
    """The pattern of a statement over several lines (see ``_Patterns.spread``), its
    configuration strings ``config``."""
    return f"({_SKIP})({chainline.elements(config, _SKIP)})(?:{_SKIP}(;)|{_UNENDED})"


def _token(config: str) -> str:
    """The pattern of a token of a statement over several lines (see
    ``_Patterns.token``), its configuration strings ``config``."""
    return rf"{_SKIP}(\[[^\]]*\]|{config}|{chainline.NAME}|[-=]>|::|,)"


class _Patterns:
    """The patterns of a text read whole, each compiled when a text first needs it."""

    #: A statement after what is skipped before it (group 1): ``a :: C;`` or
    #: ``a -> b;`` (groups 2 to 6, chainline.TWO_WORDS: read from the groups, most
    #: statements are one of them), another on one line (group 7, its semicolon
    #: group 8), a definition (its keyword group 9, its configuration group 10),
    #: or the start of a compound class (its name group 11, then the class it is
    #: a synonym of, group 12, or the brace, group 13). Its configuration strings
    #: are plain ones (chainline.PLAIN_CONFIG).
    statement = _Compiled(_statement(chainline.PLAIN_CONFIG, PLAIN_SPREAD_CONFIG))
    #: ``statement`` with configuration strings as CONFIG reads them, escapes,
    #: comments and nested parentheses included (chainline.LINE_CONFIG): it
    #: takes longer to compile, and most texts never need it
    #: (``_Reader.other_statement``).
    rich_statement = _Compiled(_statement(chainline.LINE_CONFIG, chainline.SPREAD_CONFIG))
    #: The first alternative of ``statement`` alone, with the same groups: a text
    #: of such statements only (a generated one) never compiles the whole
    #: pattern, which takes milliseconds.
    two_words = _Compiled(f"({_SKIP}){chainline.TWO_WORDS}")
    #: What is skipped.
    skip = _Compiled(_SKIP)
    #: A name after what is skipped.
    name_next = _Compiled(f"{_SKIP}[A-Za-z0-9_@]")
    #: A statement over several lines after what is skipped before it (group 1):
    #: the statement (group 2) and its semicolon (group 3), its configuration
    #: strings plain ones (PLAIN_SPREAD_CONFIG).
    spread = _Compiled(_spread(PLAIN_SPREAD_CONFIG))
    #: A token of such a statement, after what is skipped before it.
    token = _Compiled(_token(PLAIN_SPREAD_CONFIG))
    #: ``spread`` and ``token`` with configuration strings as CONFIG reads them
    #: (chainline.SPREAD_CONFIG).
    rich_spread = _Compiled(_spread(chainline.SPREAD_CONFIG))
    rich_token = _Compiled(_token(chainline.SPREAD_CONFIG))
    #: A compound class's parameter, after what is skipped before it: perhaps a
    #: keyword (group 1), a variable (group 2), then a comma or the bar that ends
    #: them (group 3).
    formal = _Compiled(rf"{_SKIP}(?:({chainline.UNRESERVED}){_SKIP})?({_VAR}){_SKIP}"
                       rf"(,|\|(?!\|))")
    #: The bar of a compound class's body without parameters.
    no_formals = _Compiled(rf"{_SKIP}\|(?!\|)")
    #: What ends a compound class's body, after what is skipped before it (group
    #: 1): the ``||`` before the next definition (group 2), or the class's brace,
    #: perhaps after ``|| ...`` (group 3: it extends the class it is named after),
    #: then perhaps a semicolon.
    closer = _Compiled(rf"({_SKIP})(?:(\|\|)(?!{_SKIP}\.\.\.)"
                       rf"|(?:\|\|{_SKIP}(\.\.\.){_SKIP})?\}}(?:{_SKIP};)?)")


@functools.cache
def _patterns() -> _Patterns:
    return _Patterns()


def read_program(text: str, filename: str) -> s.Program | None:
    """The program the parser makes of ``text`` when it is made of plain statements
    (see the module's documentation); None for any other text (and for a text
    holding a character UTF-8 cannot encode, whose error the parser reports)."""
    # A text holding a line directive, even in a comment or a configuration
    # string, is not tried.
    if _PARSER_ONLY in text:
        return None
    text = with_newlines(text)
    reader = _Reader(text, filename)
    statements = reader.statements(0)
    if statements is None or reader.pos != len(text) \
            or encoding_error(text, filename) is not None:
        return None
    return s.Program(filename, statements)


class _Reader:
    """One text read from its start: where it is (``pos``) and that place's line."""

    def __init__(self, text: str, filename: str) -> None:
        self.text = text
        self.filename = filename
        self.patterns = _patterns()
        self.pos = 0
        self.line = 1
        # The pattern statements are read with: two words until a statement is not.
        self.statement: re.Pattern = self.patterns.two_words
        # Where ``line`` was counted up to: lines are counted once, forward.
        self.counted = 0
        # Whether the last statement over several lines needed configuration
        # strings as CONFIG reads them: the next one likely does too (a
        # documented text has comments in its strings throughout), and trying
        # the plain pattern first would cost a failed match each time. Where
        # the plain pattern matches, the rich one matches the same text.
        self.rich_spread = False
        self.lines: list[str] | None = None

    def line_of(self, index: int) -> int:
        """The line of ``index``, at or after the last index asked."""
        self.line += self.text.count("\n", self.counted, index)
        self.counted = index
        return self.line

    def at(self, line: int) -> Landmark:
        return Landmark(self.filename, line)

    def statements(self, depth: int) -> list[s.Statement] | None:
        """The statements from ``pos`` on, up to what starts none (the end of the text
        or of a compound class's body: what is skipped before it is skipped); None
        if one of them needs the parser."""
        text, filename, patterns = self.text, self.filename, self.patterns
        statement = self.statement
        read: list[s.Statement] = []
        # Where the reader is, kept in locals: most texts are thousands of
        # statements on one line each, and this loop is most of their reading.
        pos, line, counted = self.pos, self.line, self.counted
        while True:
            match = statement.match(text, pos)
            tokens = None
            if match is None:
                # Only a name starts a statement: at the end of the text or of a
                # body, no other pattern is even compiled.
                named = patterns.name_next.match(text, pos)
                if named is None:
                    break
                statement, match, tokens = self.other_statement(statement, pos, named.end())
                if match is None:
                    break
            start = match.end(1)
            line += text.count("\n", counted, start)
            counted = start
            pos = match.end()
            if tokens is not None:
                semicolon = match.start(3)
                end = self.end_after(line, start, pos) if semicolon < 0 else \
                    self.at(line + text.count("\n", start, semicolon))
                read.append(self.spread(match.group(2), tokens, line, end))
                continue
            at = Landmark(filename, line)
            first, declared, arrow, second, config = match.group(2, 3, 4, 5, 6)
            if first is not None:
                read.append(chainline.two_words(first, declared, arrow, second, config, at))
                continue
            unended, ended = match.group(7, 8)
            if ended is not None:
                read.append(chainline.one_line(text[start:pos], at, at))
            elif unended is not None:
                read.append(chainline.one_line(unended, at, self.end_after(line, start, pos)))
            elif match.start(9) >= 0:
                config = match.group(10)
                config_at = self.at(line + text.count("\n", start, match.start(10)))
                kind = s.Define if match.group(9) == "define" else s.Require
                read.append(kind(s.Config(config[1:-1], True, config_at), at))
            else:
                name, synonym = match.group(11, 12)
                if synonym is not None:
                    read.append(s.ElementClassDef(name, s.ClassName(synonym, self.at(
                        line + text.count("\n", start, match.start(12)))), at))
                    continue
                self.pos, self.line, self.counted = pos, line, counted
                compound = self.compound(line, depth)
                if compound is None:
                    return None
                # The class's body may have needed a richer pattern.
                pos, line, counted, statement = self.pos, self.line, self.counted, self.statement
                read.append(s.ElementClassDef(name, compound, at))
        self.pos = patterns.skip.match(text, pos).end()
        self.line, self.counted = line, counted
        return read

    def other_statement(self, statement: re.Pattern, pos: int, word: int
                        ) -> tuple[re.Pattern, re.Match | None, re.Pattern | None]:
        """The statement at ``pos`` (its first word at ``word``), which ``statement``
        does not read: the pattern to read the next statements with, the
        statement's match (None if it needs the parser), and the pattern of its
        tokens when it is one that may run over several lines (None for the
        others).

        The patterns are tried from the cheapest to compile: the whole statement
        pattern after two words; then, for a statement whose first line holds a
        semicolon, ``rich_statement``, which reads configuration strings as CONFIG
        does (the next statements likely have such strings too, and it reads each
        in one match); a statement over several lines, with plain configuration
        strings, then with strings as CONFIG reads them; ``rich_statement`` last,
        for a definition over several lines holding such strings."""
        patterns, text = self.patterns, self.text
        if statement is patterns.two_words:
            statement = self.statement = patterns.statement
            match = statement.match(text, pos)
            if match is not None:
                return statement, match, None
        line_end = text.find("\n", word)
        one_line = text.find(";", word, len(text) if line_end < 0 else line_end) >= 0
        if one_line and statement is not patterns.rich_statement:
            match = patterns.rich_statement.match(text, pos)
            if match is not None:
                statement = self.statement = patterns.rich_statement
                return statement, match, None
        if not self.rich_spread:
            match = patterns.spread.match(text, pos)
            if match is not None:
                return statement, match, patterns.token
        match = patterns.rich_spread.match(text, pos)
        self.rich_spread = match is not None
        if match is not None:
            return statement, match, patterns.rich_token
        if one_line or statement is patterns.rich_statement:
            return statement, None, None
        statement = self.statement = patterns.rich_statement
        return statement, statement.match(text, pos), None

    def end_after(self, line: int, start: int, index: int) -> Landmark:
        """Where the token after ``index`` starts, or the text ends, ``start`` being on
        ``line``: a statement without its semicolon ends there."""
        after = self.patterns.skip.match(self.text, index).end()
        return self.at(line + self.text.count("\n", start, after))

    def spread(self, text: str, tokens: re.Pattern, line: int, end: Landmark
               ) -> s.Connection:
        """The connection of ``text``, a statement over several lines starting on ``line``,
        read token by token with ``tokens``, each node at the line of its token,
        ending at ``end``."""
        at = self.at(line)
        if "\n" not in text:
            # On one line (comments between its tokens): every node there.
            parts = tokens.findall(text)
            return chainline.connection(parts, [at] * len(parts), end)
        parts = []
        places: list[Landmark] = []
        pos = 0
        # The tokens of a line share its landmark.
        for token in tokens.finditer(text):
            start = token.start(1)
            newlines = text.count("\n", pos, start)
            if newlines:
                line += newlines
                at = self.at(line)
            pos = start
            parts.append(token.group(1))
            places.append(at)
        return chainline.connection(parts, places, end)

    def compound(self, keyword_line: int, depth: int) -> s.CompoundClass | None:
        """The compound class whose ``{`` ends at ``pos``, defined by an ``elementclass``
        on ``keyword_line``; None if it needs the parser.

        The class and its first definition start where the parser puts them:
        at the ``//`` comment lines right above the keyword, its documentation;
        each other definition at the ``||`` before it."""
        if depth >= DEEPEST:
            return None
        start = self.at(self.doc_start(keyword_line))
        bodies = []
        opened_at = start
        while True:
            formals = self.formals()
            if formals is None:
                return None
            statements = self.statements(depth + 1)
            if statements is None:
                return None
            bodies.append(s.CompoundBody(formals, tuple(statements), opened_at))
            closer = self.patterns.closer.match(self.text, self.pos)
            if closer is None:
                return None
            self.pos = closer.end()
            if closer.group(2) is None:
                return s.CompoundClass(tuple(bodies), closer.group(3) is not None, start)
            opened_at = self.at(self.line_of(closer.end(1)))

    def formals(self) -> tuple[s.Formal, ...] | None:
        """The parameters at ``pos``, up to their ``|``: none when the body does not start
        with them; None for what the parser must read."""
        text, formal = self.text, self.patterns.formal
        bare = self.patterns.no_formals.match(text, self.pos)
        if bare is not None:
            self.pos = bare.end()
            return ()
        found: list[s.Formal] = []
        pos = self.pos
        while (match := formal.match(text, pos)) is not None:
            keyword, variable = match.group(1, 2)
            first = match.start(1) if keyword is not None else match.start(2)
            found.append(s.Formal(variable[1:], keyword, self.at(self.line_of(first))))
            pos = match.end()
            if match.group(3) == "|":
                self.pos = pos
                return tuple(found)
        # A parameter list that does not end with its bar is the parser's to report.
        return None if found else ()

    def doc_start(self, line: int) -> int:
        """The first of the ``//`` comment lines right above ``line``, or ``line``."""
        if self.lines is None:
            self.lines = self.text.split("\n")
        while line > 1 and self.lines[line - 2].lstrip().startswith("//"):
            line -= 1
        return line
