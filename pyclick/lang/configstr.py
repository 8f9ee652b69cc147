"""Configuration strings as Click reads them: arguments, words, keywords, quotes.

These are the lexical rules shared by the language front end (compound
arguments, ``define`` and ``require`` lists) and by elements reading their
own arguments (:mod:`pyclick.args`): arguments are separated by commas and
words by spaces, except inside single or double quotes, comments (which
count as a space) and ``\\<hex>`` data runs.
"""

from __future__ import annotations

import re

_SPACE = " \t\n\v\f\r"
_BRACKETS = {"(": ")", "[": "]", "{": "}"}

#: What makes a configuration string more than commas, spaces and plain
#: characters (a comment needs a slash as well): without these, arguments
#: are read by splitting and stripping, the same as the scan gives.
_LEXICAL = re.compile(r"[\"'\\]|/[/*]")
#: The same, and the brackets inside which commas do not split.
_LEXICAL_OR_BRACKET = re.compile(r"[\"'\\(\[{]|/[/*]")
#: What ends a hex data run or opens a comment inside it.
_DATA_STOP = re.compile(r">|/[/*]")
#: A word of such a string, and its first word between the spaces around it.
_SPACED_WORD = re.compile(r"[^ \t\n\v\f\r]+")
_FIRST_WORD = re.compile(r"[ \t\n\v\f\r]*([^ \t\n\v\f\r]*)[ \t\n\v\f\r]*")

#: A keyword of a compound class's formals: letters, digits and ``_.:?!``.
COMPOUND_KEYWORD = re.compile(r"[A-Za-z0-9_.:?!]+")
#: A keyword of an element's arguments: capitals, digits and ``_``, not starting with a digit.
ELEMENT_KEYWORD = re.compile(r"[A-Z_][A-Z0-9_]*")


def skip_quoted(text: str, i: int) -> int:
    """``text[i]`` opens a quote; the index just past its end (or the text's end)."""
    quote = text[i]
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and quote == '"' and i + 1 < n:
            i = skip_data(text, i) if text[i + 1] == "<" else i + 2
        elif c == quote:
            return i + 1
        else:
            i += 1
    return n


def skip_data(text: str, i: int) -> int:
    """``text[i:i+2]`` is ``\\<``; the index just past the closing ``>`` (as in
    Click, the run may hold comments, and a ``>`` in one does not close it)."""
    j = i + 2
    while (stop := _DATA_STOP.search(text, j)) is not None:
        if stop.group() == ">":
            return stop.end()
        j = skip_comment(text, stop.start())
    return len(text)


def comment_at(text: str, i: int) -> bool:
    return text.startswith("//", i) or text.startswith("/*", i)


def skip_comment(text: str, i: int) -> int:
    """``text[i:i+2]`` opens a comment; the index just past it."""
    if text.startswith("//", i):
        end = text.find("\n", i)
        return len(text) if end < 0 else end + 1
    end = text.find("*/", i + 2)
    return len(text) if end < 0 else end + 2


def skip_token(text: str, i: int) -> int:
    """The index past the character or the quote/data run starting at ``i``."""
    c = text[i]
    if c in "'\"":
        return skip_quoted(text, i)
    if c == "\\" and text.startswith("\\<", i):
        return skip_data(text, i)
    return i + 1


def uncomment(text: str) -> str:
    """``text`` without leading and trailing space; each comment, with the
    space around it, becomes one space. Other spacing is kept."""
    if _LEXICAL.search(text) is None:
        return text.strip(_SPACE)
    return _uncomment_scanned(text)


def _uncomment_scanned(text: str) -> str:
    """``uncomment``, character by character."""
    pieces: list[str] = []
    start = end = None
    after_comment = False
    i, n = 0, len(text)
    while i < n:
        if text[i] in _SPACE:
            i += 1
        elif comment_at(text, i):
            i = skip_comment(text, i)
            after_comment = True
        else:
            if start is None:
                start = i
            elif after_comment:
                pieces.append(text[start:end])
                start = i
            after_comment = False
            i = skip_token(text, i)
            end = i
    if start is not None:
        pieces.append(text[start:end])
    return " ".join(pieces)


def strip_comments(text: str) -> str:
    """``text`` with its comments removed and its layout otherwise kept.

    A ``/* */`` comment leaves one space; a ``//`` comment's newline stays.
    """
    if "//" not in text and "/*" not in text:
        return text
    return _strip_comments_scanned(text)


def _strip_comments_scanned(text: str) -> str:
    """``strip_comments``, character by character."""
    pieces: list[str] = []
    start = i = 0
    while i < len(text):
        if not comment_at(text, i):
            i = skip_token(text, i)
            continue
        pieces.append(text[start:i])
        end = skip_comment(text, i)
        if text.startswith("/*", i):
            pieces.append(" ")
            start = end
        else:
            start = end - 1 if text[end - 1] == "\n" else end
        i = end
    pieces.append(text[start:])
    return "".join(pieces)


def split_args(config: str, *, brackets: bool = False) -> list[str]:
    """The comma-separated arguments of ``config``, each uncommented.

    An empty last argument is dropped, so ``X(1, )`` has one argument. With
    ``brackets`` (the way elements read their arguments), commas inside
    parentheses, brackets or braces do not split either.
    """
    if (_LEXICAL_OR_BRACKET if brackets else _LEXICAL).search(config) is None:
        args = [arg.strip(_SPACE) for arg in config.split(",")]
        if not args[-1]:
            args.pop()
        return args
    return _split_args_scanned(config, brackets)


def _split_args_scanned(config: str, brackets: bool) -> list[str]:
    """``split_args``, character by character."""
    args: list[str] = []
    closers: list[str] = []
    start, i, n = 0, 0, len(config)
    while i < n:
        c = config[i]
        if c == "," and not closers:
            args.append(uncomment(config[start:i]))
            start = i = i + 1
        elif comment_at(config, i):
            i = skip_comment(config, i)
        else:
            if brackets and c in _BRACKETS:
                closers.append(_BRACKETS[c])
            elif closers and c == closers[-1]:
                closers.pop()
            i = skip_token(config, i)
    last = uncomment(config[start:])
    if last:
        args.append(last)
    return args


def split_words(text: str) -> list[str]:
    """The space-separated words of ``text`` (quotes kept); comments separate words too."""
    if _LEXICAL.search(text) is None:
        return _SPACED_WORD.findall(text)
    return _split_words_scanned(text)


def _split_words_scanned(text: str) -> list[str]:
    """``split_words``, word by word."""
    words: list[str] = []
    while text:
        word, text = shift_word(text)
        if word:
            words.append(word)
    return words


def shift_word(text: str) -> tuple[str, str]:
    """The first word of ``text`` and what follows it, leading space removed."""
    if _LEXICAL.search(text) is None:
        first = _FIRST_WORD.match(text)
        return first.group(1), text[first.end():]
    return _shift_word_scanned(text)


def _shift_word_scanned(text: str) -> tuple[str, str]:
    """``shift_word``, character by character."""
    words_start = _skip_space_and_comments(text, 0)
    end = words_start
    while end < len(text) and text[end] not in _SPACE and not comment_at(text, end):
        end = skip_token(text, end)
    return text[words_start:end], text[_skip_space_and_comments(text, end):]


def _skip_space_and_comments(text: str, i: int) -> int:
    while i < len(text):
        if text[i] in _SPACE:
            i += 1
        elif comment_at(text, i):
            i = skip_comment(text, i)
        else:
            break
    return i


def split_keyword(arg: str, keyword: re.Pattern[str] = COMPOUND_KEYWORD) -> tuple[str, str] | None:
    """``("KEY", "value")`` when the first word of ``arg`` is a ``keyword``, else None."""
    end = 0
    while end < len(arg) and arg[end] not in _SPACE:
        end += 1
    if not keyword.fullmatch(arg, 0, end):
        return None
    return arg[:end], arg[end:].lstrip(_SPACE)


def with_argument(config: str, value: str, position: int | None = None,
                  keyword: str | None = None) -> str:
    """``config`` with one argument set to ``value``, as Click's reconfigure
    handlers rewrite an element's configuration: the ``keyword`` argument
    when there is one (it moves to the end), else the argument at
    ``position`` unless that is another keyword's, else ``KEYWORD value``
    added at the end. The arguments are joined by ", ", comments dropped."""
    args = [arg for arg in split_args(strip_comments(config), brackets=True) if arg]
    if keyword is not None:
        kept = [arg for arg in args if _keyword_of(arg) != keyword]
        if len(kept) < len(args):
            return ", ".join(kept + [f"{keyword} {value}"])
    if position is not None and position < len(args) and _keyword_of(args[position]) is None:
        args[position] = value
        return ", ".join(args)
    if keyword is None:
        raise ValueError(f"no argument at position {position}")
    return ", ".join(args + [f"{keyword} {value}"])


def _keyword_of(arg: str) -> str | None:
    """The keyword of a ``KEYWORD value`` argument (None for a lone word or a value)."""
    split = split_keyword(arg, ELEMENT_KEYWORD)
    return split[0] if split is not None and split[1] else None


#: Error messages quote at most this many characters of a value.
SHOWN_LENGTH = 60


def shown(text: str, limit: int = SHOWN_LENGTH) -> str:
    """``text`` quoted for an error message, on one line with control characters escaped.

    A text longer than ``limit`` characters is cut there, and its length given.
    """
    if len(text) <= limit:
        return _quoted(text)
    return f"{_quoted(text[:limit])[:-1]}...' ({len(text)} characters)"


def brief(name: str, limit: int = SHOWN_LENGTH) -> str:
    """A name for an error message, cut after ``limit`` characters with its length given."""
    if len(name) <= limit:
        return name
    return f"{name[:limit]}... ({len(name)} characters)"


def _quoted(text: str) -> str:
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) + "'"


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\n": ""}
_OCTAL = re.compile(r"[0-7]{1,3}")
_HEX_PAIR = re.compile(r"[0-9a-fA-F]{2}")
_HEX_DATA = re.compile(r"(?:[0-9a-fA-F]{2})*")


def unquote(word: str) -> str:
    """``word`` with one level of quoting removed.

    Quoted and unquoted parts concatenate (``"a"b'c'`` is ``abc``). Single
    quotes are literal; the hex data run ``\\<48 65>`` is decoded outside
    quotes too; double quotes take backslash escapes: ``\\n \\t \\r
    \\a \\b \\f \\v``, octal ``\\OOO``, ``\\xHH``, the hex data run
    ``\\<48 65 6c>``, and a backslash before any other character (``\\\\``,
    ``\\"``, ``\\$``) stands for that character.
    """
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c == "'":
            end = skip_quoted(word, i)
            closed = end - i > 1 and word[end - 1] == "'"
            out.append(word[i + 1:end - 1 if closed else end])
            i = end
        elif c == '"':
            i = _unescape_double(word, i + 1, out)
        elif c == "\\" and word.startswith("\\<", i):
            # As in Click, hex data needs no quotes: DATA \<0800>.
            i = _unescape_data(word, i, out)
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _unescape_double(text: str, i: int, out: list[str]) -> int:
    """Append the double-quoted text from ``i`` on to ``out``; the index past its closing quote."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return i + 1
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = text[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif octal := _OCTAL.match(text, i + 1):
            out.append(chr(int(octal.group(), 8) & 0xFF))
            i = octal.end()
        elif e == "x" and _HEX_PAIR.match(text, i + 2):
            out.append(chr(int(text[i + 2:i + 4], 16)))
            i += 4
        elif e == "<":
            i = _unescape_data(text, i, out)
        else:
            out.append(e)
            i += 2
    return i


def _unescape_data(text: str, i: int, out: list[str]) -> int:
    """``text[i:i+2]`` is ``\\<``: append the bytes of a well-formed hex run, else a backslash."""
    end = skip_data(text, i)
    digits = "".join(uncomment(text[i + 2:end - 1]).split())
    if text[end - 1] != ">" or not _HEX_DATA.fullmatch(digits):
        out.append("\\")
        return i + 1
    out.append(bytes.fromhex(digits).decode("latin-1"))
    return end


_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.:/@+-]+")


def quote(text: str) -> str:
    """``text`` as one word that :func:`unquote` gives back: bare if plain, else double-quoted."""
    if _PLAIN_WORD.fullmatch(text) and "//" not in text:
        return text
    return '"' + quote_inside_double(text) + '"'


def quote_inside_double(text: str, ascii_only: bool = False) -> str:
    """``text`` escaped so that it reads back as itself between double quotes
    (``ascii_only``: every character past ASCII in octal too, as Click
    quotes bytes)."""
    out: list[str] = []
    for c in text:
        if c in '\\"$':
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif c == "\n":
            out.append("\\n")
        elif ord(c) < 32 or ord(c) == 127 or (ascii_only and ord(c) > 127):
            out.append(f"\\{ord(c):03o}")
        else:
            out.append(c)
    return "".join(out)
