"""Configuration strings as Click reads them: arguments, words, keywords, quotes.

These are the lexical rules the language front end needs to split compound
arguments, ``define`` and ``require`` lists: arguments are separated by
commas and words by spaces, except inside single or double quotes, comments
(which count as a space) and ``\\<hex>`` data runs.
"""

from __future__ import annotations

_SPACE = " \t\n\v\f\r"
_KEYWORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:?!")


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
    """``text[i:i+2]`` is ``\\<``; the index just past the closing ``>``."""
    end = text.find(">", i + 2)
    return len(text) if end < 0 else end + 1


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


def split_args(config: str) -> list[str]:
    """The comma-separated arguments of ``config``, each uncommented.

    An empty last argument is dropped, so ``X(1, )`` has one argument.
    """
    args: list[str] = []
    start, i, n = 0, 0, len(config)
    while i < n:
        c = config[i]
        if c == ",":
            args.append(uncomment(config[start:i]))
            start = i = i + 1
        elif comment_at(config, i):
            i = skip_comment(config, i)
        else:
            i = skip_token(config, i)
    last = uncomment(config[start:])
    if last:
        args.append(last)
    return args


def split_words(text: str) -> list[str]:
    """The space-separated words of ``text``; comments separate words too."""
    words: list[str] = []
    while text:
        word, text = shift_word(text)
        if word:
            words.append(word)
    return words


def shift_word(text: str) -> tuple[str, str]:
    """The first word of ``text`` and what follows it, leading space removed."""
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


def split_keyword(arg: str) -> tuple[str, str] | None:
    """``("KEY", "value")`` when ``arg`` starts with a keyword word, else None."""
    i = 0
    while i < len(arg) and arg[i] not in _SPACE:
        if arg[i] not in _KEYWORD_CHARS:
            return None
        i += 1
    if i == 0:
        return None
    return arg[:i], arg[i:].lstrip(_SPACE)


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for an error message: on one line, control characters escaped, cut short."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "'" + "".join(c if c.isprintable() else repr(c)[1:-1] for c in text) + "'"


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def unquote(word: str) -> str:
    """``word`` with one level of quoting removed and double-quote escapes applied."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c in "'\"":
            end = skip_quoted(word, i)
            inner = word[i + 1:end - 1 if end - i > 1 and word[end - 1] == c else end]
            out.append(_unescape(inner) if c == '"' else inner)
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _unescape(text: str) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c != "\\" or i + 1 == n:
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "\n":
            i += 2
        elif nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "<":
            end = skip_data(text, i)
            digits = "".join(ch for ch in text[i + 2:end - 1] if ch in "0123456789abcdefABCDEF")
            out.append(bytes.fromhex(digits[: len(digits) // 2 * 2]).decode("latin-1"))
            i = end
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def quote_inside_double(text: str) -> str:
    """``text`` escaped so that it reads back as itself between double quotes."""
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
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\{ord(c):03o}")
        else:
            out.append(c)
    return "".join(out)
