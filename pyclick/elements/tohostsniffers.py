"""ToHostSniffers: packets shown to the host's packet sniffers, through a dummy interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyclick.args import WORD, Args, Choice
from pyclick.elements.kernelsender import KernelSender
from pyclick.elements.polldevice import initialize_failed, live_only
from pyclick.packet import Packet

if TYPE_CHECKING:  # the kernel adapters load when the router starts
    from pyclick.kernel.ownership import InterfaceClaim
    from pyclick.kernel.ring import SendSocket

#: The dummy interface used when no DEVNAME is given ('tcpdump -i pyclicksniff0').
DEFAULT_DEVNAME = "pyclicksniff0"
#: TYPE IP: the Ethernet header put in front, by IP version (no addresses).
_ETHER_HEADERS = {4: bytes(12) + b"\x08\x00", 6: bytes(12) + b"\x86\xdd"}


class ToHostSniffers(KernelSender):
    """ToHostSniffers([DEVNAME, KEYWORDS]) -- sends packets to the host's packet sniffers only

    Description
    Shows every packet pushed to it to the packet sniffers of the host,
    such as 'tcpdump -i DEVNAME', and to nothing else: the packets enter
    neither the host's network stack nor a wire. At user level this goes
    through a dummy interface: ToHostSniffers transmits each packet on
    DEVNAME through an AF_PACKET socket, the kernel hands the frame to
    every packet socket listening on DEVNAME (as an outgoing frame), and
    the dummy driver then drops it.

    DEVNAME must name a dummy interface, or no interface at all: then
    ToHostSniffers creates a dummy interface when the router starts (an
    ifb one, which drops what it is sent the same way, on kernels built
    without the dummy driver) and deletes it at cleanup, or at any other
    exit Python notices. It locks the name for the process
    (/run/pyclick/DEVNAME.lock) and notes the creation in the interface's
    state record, so that after SIGKILL or a crash the next start, or
    'pyclick --cleanup DEVNAME', deletes it. An
    existing interface of another kind is refused, since sending on it
    would put the packets on a wire. An existing dummy (or ifb) interface
    is used as it is, and must be up. Creating the interface needs root or
    CAP_NET_ADMIN; sending needs CAP_NET_RAW.

    With TYPE ETHER, the default, packets must start with an Ethernet
    header. With TYPE IP they start with an IP header, and an Ethernet
    header without addresses is put in front (its type from the IP
    version).

    Ports
    one push input, no outputs

    Keyword arguments
    DEVNAME -- the dummy interface, default pyclicksniff0
    TYPE -- ETHER or IP, the packets' first header, default ETHER

    Element handlers
    count (read) -- packets handed to the sniffers
    drops (read) -- packets the interface's queue had no room for

    Example
    FromDump(trace.pcap) -> ToHostSniffers(sniff0);
    """

    port_count = "1/0"

    def configure(self, args: Args) -> None:
        self.devname: str = args.read_p("DEVNAME", WORD, DEFAULT_DEVNAME)
        self.type: str = args.read("TYPE", Choice("ETHER", "IP"), "ETHER")
        args.complete()
        live_only(self, args)
        self.count = 0
        self.drops = 0
        self._socket: SendSocket | None = None
        self._claim: InterfaceClaim | None = None
        self._created = 0
        self._guard: int | None = None

    def initialize(self) -> None:
        from pyclick.kernel import dummy
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.ownership import InterfaceBusy
        from pyclick.kernel.recovery import RestoreError
        from pyclick.kernel.ring import SendSocket
        from pyclick.kernel.staterecord import RecordError

        try:
            kind = dummy.link_kind(self.devname)
            if kind is None:
                self._create()
            elif kind not in dummy.DROPPING_KINDS:
                raise DeviceError(self.devname, (
                    f"'{self.devname}' is {f'a {kind}' if kind else 'a network'} interface, "
                    f"not a dummy one: packets sent on it would leave on a wire; name a dummy "
                    f"interface, or a free name for ToHostSniffers to create one"))
            elif not dummy.is_up(self.devname):
                raise DeviceError(self.devname, f"{kind} interface '{self.devname}' is down "
                                                f"('ip link set {self.devname} up')")
            self._socket = SendSocket(self.devname)
        except (DeviceError, OSError, InterfaceBusy, RestoreError, RecordError) as err:
            self.cleanup()
            raise initialize_failed(self, err) from None

    def _create(self) -> None:
        from pyclick.kernel import dummy

        self._claim = self.router.exit_guard.claim(self.devname)
        self._created, kind = dummy.create(self.devname)
        self._claim.note_created(self._created)
        self._guard = self.router.exit_guard.on_exit(f"{kind} interface {self.devname}",
                                                     self._delete)
        self.log.info("%s: %s interface created for the sniffers, deleted at exit",
                      self.devname, kind)

    def _delete(self) -> None:
        from pyclick.kernel import dummy

        if self._created:
            dummy.delete(self.devname, self._created)
            self._created = 0
            if self._claim is not None:
                self._claim.forget_created()

    def cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        try:
            self._delete()
        finally:
            if self._guard is not None:
                self.router.exit_guard.cancel(self._guard)
                self._guard = None
            if self._claim is not None:
                self.router.exit_guard.unclaim(self._claim)
                self._claim = None

    def push(self, port: int, batch: list[Packet]) -> None:
        sock = self._socket
        if sock is not None and self.type == "IP":
            self.hand_over(batch, self._send_ip)
        else:
            self.hand_over(batch, None if sock is None else sock.send)

    def _send_ip(self, frame: bytes) -> bool:
        """Send an IP packet behind an Ethernet header of its IP version's type."""
        assert self._socket is not None
        version = frame[0] >> 4 if frame else 4
        return self._socket.send(_ETHER_HEADERS.get(version, _ETHER_HEADERS[4]) + frame)
