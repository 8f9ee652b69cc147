"""Argument types several elements share, beyond those of ``pyclick.args``.

``Role(protocol, what)`` reads an element name, as ``ELEMENT`` does, and
refuses an element that does not implement ``protocol`` (a protocol of
``pyclick.seams`` or ``pyclick.balance.loop``): it is not ``what``, and the
message names the methods it must offer.

``OrValue(number, value)`` is a ranged Number that also takes one value
outside its range, the one that means "none" or "all" (``PROGRESS 0``,
``STARTCPU -1``).

``CORE_COUNT``, ``SHARE`` and ``TICK`` are the ranges of the balancers'
and the simulated NIC's numbers of cores, shares of a core and ticks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pyclick.args import ELEMENT, FLOAT, MSEC, UNSIGNED, WORD, Number, shorten
from pyclick.balance.names import canonical_name

if TYPE_CHECKING:
    from pyclick.args import Args
    from pyclick.element import Element

#: Cores, or CPUs: as many as a Linux kernel is usually built for (NR_CPUS).
CORE_COUNT = UNSIGNED.range(1, 4096)
#: A share of one core's capacity: above 0, at most all of it.
SHARE = FLOAT.range(0, 1, open_low=True)
#: A balancer's tick: a microsecond is below anything it can act on, an hour far above.
TICK = MSEC.range(0.001, 3600)
#: How an XDP program attaches (pyclick.kernel.xdp.MODES, which loads with the kernel adapters).
XDP_MODES = ("auto", "native", "generic")
#: Click's ways to read and send frames on Linux: both are an AF_PACKET socket here.
PACKET_SOCKET_METHODS = ("LINUX", "PCAP")


class Role:
    """An element that plays a role: ``Role(RssDevice, "an RSS device")``."""

    def __init__(self, protocol: type, what: str) -> None:
        self.protocol = protocol
        self.what = what
        self.methods = [name for name, value in vars(protocol).items()
                        if callable(value) and not name.startswith("_")]

    def __call__(self, text: str, args: Args) -> Element:
        element = ELEMENT(text, args)
        if not isinstance(element, self.protocol):
            raise ValueError(f"'{element.declaration()}' is not {self.what} (it must offer "
                             f"{', '.join(self.methods)})")
        return element


class OrValue(Number):
    """``number``'s range, or ``value``: ``OrValue(INT.range(1, 4096), -1)``."""

    def __init__(self, number: Number, value: float) -> None:
        super().__init__(number.name, number.parse, unit=number.unit, low=number.low,
                         high=number.high, open_low=number.open_low,
                         open_high=number.open_high, infinite=number.infinite,
                         declared=number.declared)
        self.value = value

    def __call__(self, text: str, args: Args | None) -> Any:
        value = self.parse(text)
        return value if value == self.value else super().__call__(text, args)

    def range_text(self) -> str:
        return f"{self.value:g}{self.unit} or {super().range_text()}"

    def _copy(self, **changes: Any) -> Number:
        # range() and or_infinite() keep the value outside the range.
        return OrValue(super()._copy(**changes), self.value)


def METHOD(text: str, args: Args) -> str:
    """A balancing method, by its name or an alias."""
    # No method name is as long as a shortened word: the lookup fails, and
    # its message quotes the word short.
    return canonical_name(shorten(WORD(text, args)))
