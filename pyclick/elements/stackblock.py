"""Keeping what an interface receives from the host's network stack, packet
sockets still getting it: FromDevice's SNIFFER false and KernelFilter.

The filter itself is :mod:`pyclick.kernel.ingressfilter`; this is its life
in a router: the interface claimed in its state record before the filter
is added, the removal registered with the router's exit guard (signals,
exceptions), both undone at stop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyclick.element import Element
from pyclick.elements.polldevice import initialize_failed

if TYPE_CHECKING:  # the kernel adapters load when the router starts
    from pyclick.kernel.ingressfilter import IngressDrop
    from pyclick.kernel.ownership import InterfaceClaim


def has_net_admin() -> bool:
    """Whether this process may change interfaces (CAP_NET_ADMIN)."""
    from pyclick.kernel.netdev import has_net_admin as process_has_it

    return process_has_it()


class StackBlock:
    """The drop filter on ``devname``'s ingress hook, for ``element``."""

    def __init__(self, element: Element, devname: str) -> None:
        self.element = element
        self.devname = devname
        self._ingress: IngressDrop | None = None
        self._claim: InterfaceClaim | None = None
        self._exit_entry: int | None = None

    def start(self) -> None:
        """Add the filter; a ConfigError placed at the element when it cannot."""
        from pyclick.kernel.ingressfilter import IngressDrop
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.ownership import InterfaceBusy
        from pyclick.kernel.recovery import RestoreError
        from pyclick.kernel.staterecord import RecordError

        guard = self.element.router.exit_guard
        try:
            self._claim = guard.claim(self.devname)
            self._ingress = IngressDrop(self.devname, self._claim)
            self._exit_entry = guard.on_exit(f"tc ingress filter on {self.devname}",
                                             self._ingress.remove)
            self._ingress.install()
        except (DeviceError, OSError, InterfaceBusy, RestoreError, RecordError) as err:
            raise initialize_failed(self.element, err) from None

    def stop(self) -> None:
        """Remove the filter (if added) and let go of the interface; safe to call twice."""
        guard = self.element.router.exit_guard
        try:
            if self._ingress is not None:
                self._ingress.remove()
                self._ingress = None
        finally:
            if self._exit_entry is not None:
                guard.cancel(self._exit_entry)
                self._exit_entry = None
            if self._claim is not None:
                guard.unclaim(self._claim)
                self._claim = None
