"""Handlers named by elements, and values written to handlers.

Counter's COUNT_CALL, the sources' END_CALL and Script all name handlers
the same way, ``elem.handler [VALUE]``: the element part is resolved like
any element argument (relative to the calling element's compound), a name
without a dot is a global handler. Write handlers read their values with
the configuration argument types (:func:`parse_value`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyclick.args import ArgType, split_words
from pyclick.errors import NoSuchElement
from pyclick.runtime.handlers import HandlerError

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element


def parse_value(arg_type: ArgType, value: str) -> Any:
    """Text from outside a configuration (a handler write, a script) read as an argument.

    For the plain types (BOOL, INT, UNSIGNED, STRING, TIME...): they need an
    Args only to resolve element names. The ValueError says what was
    expected and what was given.
    """
    try:
        return arg_type(value.strip(), None)  # type: ignore[arg-type]
    except ValueError as err:
        message = str(err)
        raise ValueError(f"{message}, got '{value.strip()}'" if message.startswith("expected")
                         else message) from None


def handler_name(text: str, context: "Element") -> str:
    """The router-wide name of handler ``text`` as seen from ``context``, as
    Click reads one: ``e.h`` is element ``e``'s (``e`` looked up from
    ``context``'s compound outwards) and ``.h`` the global ``h``; a name
    without a dot, or whose element part names no element, is ``context``'s
    own handler of that name when it has one, else the global handler.

    Raises ValueError when the element part names no element and neither
    ``context`` nor the router has a handler of the whole name.
    """
    element, dot, handler = text.partition(".")
    if dot and not element:
        return handler
    missing = None
    if dot:
        try:
            return f"{context.router.find(element, context).name}.{handler}"
        except NoSuchElement as err:
            missing = err
    handlers = context.router.handlers
    own = f"{context.name}.{text}"
    if handlers.exists(own):
        return own
    if missing is not None and not handlers.exists(text):
        raise ValueError(str(missing))
    return text


@dataclass(frozen=True)
class HandlerCall:
    """A write handler to call, with the value to pass."""

    name: str
    value: str = ""

    @classmethod
    def parse(cls, text: str, context: "Element") -> "HandlerCall":
        """Read ``elem.handler [VALUE...]``; the value is the rest, verbatim."""
        words = split_words(text)
        if not words:
            raise ValueError("expected handler name")
        value = text.strip()[len(words[0]):].strip()
        return cls(handler_name(words[0], context), value)

    def check(self, context: "Element") -> None:
        """Raise ValueError unless the handler exists and takes writes, as Click's
        elements check the handlers they will call when they initialize."""
        try:
            context.router.handlers.check(self.name, write=True)
        except HandlerError:
            raise ValueError(f"no '{self.name}' write handler") from None

    def write(self, context: "Element") -> None:
        """Call the handler; HandlerError tells what went wrong."""
        context.router.handlers.write(self.name, self.value)


def HANDLER_CALL(text: str, args: "Args") -> HandlerCall:
    """Argument type: ``elem.handler [VALUE]`` resolved from the reading element."""
    if args.element is None:
        raise ValueError("no router to look up handlers")
    return HandlerCall.parse(text, args.element)
