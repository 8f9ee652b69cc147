"""Configuration text from bytes: UTF-8, or an error at the line of the first bad byte.

Click reads its configurations as bytes; pyclick reads them as UTF-8 text.
Bytes that are not UTF-8 are reported as ``FILE:LINE: ...`` with the byte
and its offset, counting lines as the parser does (a carriage return, alone
or before a newline, ends a line). Text that came from bytes through
Python's ``surrogateescape`` (command-line arguments) is checked the same way.
"""

from __future__ import annotations

from pyclick.errors import ConfigError

#: Lone surrogates from ``surrogateescape`` stand for these bytes.
_ESCAPED_BYTES = range(0xDC80, 0xDD00)


def decode_config(data: bytes, filename: str) -> str:
    """``data`` as text, or ConfigError naming the file, line and offset of the first byte
    that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(_message(filename, data[:err.start], data[err.start])) from None


def with_newlines(text: str) -> str:
    """``text`` with each carriage return, alone or before a newline, as a newline: Click
    ends a line at either."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def encoding_error(text: str, filename: str) -> str | None:
    """The error for ``text`` if it holds a character UTF-8 cannot encode (a lone surrogate)."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        before = text[:err.start].encode("utf-8", "surrogateescape")
        code = ord(text[err.start])
        if code in _ESCAPED_BYTES:
            return _message(filename, before, code - 0xDC00)
        return f"{filename}:{_line_of_end(before)}: not UTF-8: lone surrogate U+{code:04X} " \
               f"at offset {len(before)}"
    return None


def _message(filename: str, before: bytes, byte: int) -> str:
    return (f"{filename}:{_line_of_end(before)}: not UTF-8: byte 0x{byte:02x} "
            f"at offset {len(before)}")


def _line_of_end(before: bytes) -> int:
    """The line on which the byte after ``before`` stands."""
    return 1 + before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n")
