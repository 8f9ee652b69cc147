"""KernelFilter: the host's network stack kept from what named interfaces receive."""

from __future__ import annotations

from typing import Callable, ClassVar

from pyclick.args import STRING, Args, shorten, split_words
from pyclick.element import CONFIGURE_PHASE_PRIVILEGED, Element
from pyclick.elements.stackblock import StackBlock, has_net_admin
from pyclick.errors import ConfigError


class KernelFilter(Element):
    """KernelFilter(FILTERSPEC, ...) -- blocks the kernel from handling packets

    Description
    Keeps the host's network stack from handling the frames that arrive on
    the named interfaces, while packet sockets (FromDevice, tcpdump) still
    receive every one of them: beside a FromDevice, the router alone
    handles what the interface receives, and the kernel answers none of it
    (no ICMP errors, no TCP resets). Each FILTERSPEC is 'drop dev DEVNAME',
    the one form Click knows.

    Where Click installs an iptables rule, KernelFilter adds a clsact
    qdisc to DEVNAME whose ingress filter drops every frame after the
    packet sockets' copy (the filter of FromDevice's SNIFFER false), which
    needs root (CAP_NET_ADMIN, and CAP_BPF for the filter's
    two-instruction program) and a kernel with the cls_bpf classifier. A
    clsact or ingress qdisc already on DEVNAME is somebody else's:
    KernelFilter refuses to start rather than touch it. The filters go when
    the router stops, however it stops (exit, exceptions, signals; after
    SIGKILL or a crash, the next start or 'pyclick --cleanup DEVNAME').
    Frames the host sends are not affected. IPTABLES_COMMAND is accepted
    for Click's sake: no command runs.

    Ports
    none

    Keyword arguments
    FILTERSPEC -- 'drop dev DEVNAME', once per interface; any number
    IPTABLES_COMMAND -- accepted for Click's sake, unused

    Example
    FromDevice(eth1) -> Discard;
    KernelFilter(drop dev eth1);
    """

    port_count = "0/0"
    # Click's: after FromDevice, before ToDevice.
    configure_phase = CONFIGURE_PHASE_PRIVILEGED
    #: Whether this process may change interfaces (CAP_NET_ADMIN).
    may_change_devices: ClassVar[Callable[[], bool]] = staticmethod(has_net_admin)

    def configure(self, args: Args) -> None:
        args.read("IPTABLES_COMMAND", STRING)
        self.devices: list[str] = []
        for number, spec in enumerate(args.rest(), 1):
            words = split_words(spec)
            if len(words) != 3 or words[:2] != ["drop", "dev"]:
                args.error(f"argument {number}: expected 'drop dev DEVNAME', "
                           f"got '{shorten(spec)}'")
            elif not 0 < len(words[2].encode()) < 16 or "/" in words[2]:
                args.error(f"argument {number}: '{shorten(words[2])}' cannot name an "
                           f"interface (1 to 15 bytes, no '/')")
            elif words[2] in self.devices:
                args.error(f"argument {number}: '{words[2]}' is named twice")
            else:
                self.devices.append(words[2])
        args.complete()
        self._blocks: list[StackBlock] = []

    def initialize(self) -> None:
        if self.devices and not self.may_change_devices():
            raise ConfigError(f"While initializing '{self.declaration()}': keeping received "
                              f"frames from the network stack of {', '.join(self.devices)} "
                              f"takes a tc ingress filter, which needs root or CAP_NET_ADMIN",
                              self.landmark)
        try:
            for devname in self.devices:
                block = StackBlock(self, devname)
                self._blocks.append(block)
                block.start()
                self.log.info("%s: a clsact qdisc drops every frame arriving on it after "
                              "the packet sockets' copy, so the network stack gets none; "
                              "removed at exit", devname)
        except BaseException:
            self.cleanup()
            raise

    def cleanup(self) -> None:
        # Reverse order, each removed though another fails.
        blocks, self._blocks = self._blocks, []
        failure: BaseException | None = None
        for block in reversed(blocks):
            try:
                block.stop()
            except BaseException as err:  # reported once every filter had its turn
                failure = failure or err
        if failure is not None:
            raise failure
