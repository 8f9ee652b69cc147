"""FromDevice: packets from a kernel interface, and its RSS table for DeviceBalancer."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from pyclick.args import BOOL, BYTES, STRING, UNSIGNED, WORD, Args, Choice, ListOf, shorten
from pyclick.element import CONFIGURE_PHASE_PRIVILEGED, Element, read_handler, write_handler
from pyclick.elements.argtypes import PACKET_SOCKET_METHODS, XDP_MODES
from pyclick.elements.inet import mark_ip_header
from pyclick.elements.polldevice import ReceiveTask, initialize_failed
from pyclick.elements.stackblock import StackBlock, has_net_admin
from pyclick.errors import ConfigError
from pyclick.packet import DEFAULT_HEADROOM, Packet
from pyclick.seams import TableBalancer

if TYPE_CHECKING:  # the kernel adapters and numpy load when the router starts
    import numpy as np

    from pyclick.kernel.ring import Frame, ReceiveRing
    from pyclick.kernel.softrss import SoftwareRSS
    from pyclick.kernel.takeover import TableTakeover

#: Click's user-level FromDevice reads one packet per scheduling by default.
DEFAULT_BURST = 1
#: Keywords of the RSS table, used only when a DeviceBalancer balances the device.
TABLE_KEYWORDS = ("MODE", "RETA_SIZE", "QUEUE_CPUS", "KEY", "XDP_MODE")
#: Keywords that only mean something for software RSS.
SOFTWARE_KEYWORDS = ("QUEUE_CPUS", "KEY", "XDP_MODE")
#: TCP and UDP: the protocols whose ports enter the RSS hash.
_HASHED_PORTS = (6, 17)
#: Click's snap length, and the range it accepts.
DEFAULT_SNAPLEN = 2046
SNAPLEN_RANGE = (14, 65535)
#: Click's default headroom, grown so that an IP header after a 14-byte
#: Ethernet header starts on a 4-byte boundary.
FROMDEVICE_HEADROOM = DEFAULT_HEADROOM + (4 - (DEFAULT_HEADROOM + 2) % 4) % 4
MAX_HEADROOM = 8190


def rss_hash(key: bytes, flow: tuple[str, str, int, int, int] | None) -> int:
    """The NIC's Toeplitz hash of a flow: 4-tuple for TCP/UDP, addresses otherwise."""
    import numpy as np

    from pyclick.rss.toeplitz import toeplitz_hashes, tuple_bytes

    if flow is None:
        return 0
    src, dst, sport, dport, proto = flow
    data = tuple_bytes(src, dst, sport, dport) if proto in _HASHED_PORTS else tuple_bytes(src, dst)
    return int(toeplitz_hashes(key, np.frombuffer(data, dtype=np.uint8)[None, :])[0])


def _ethtool(ifname: str) -> Any:
    from pyclick.kernel.ethtool import EthtoolRSS

    return EthtoolRSS(ifname)


def _software_rss(ifname: str, **settings: Any) -> SoftwareRSS:
    from pyclick.kernel.softrss import SoftwareRSS

    return SoftwareRSS(ifname, **settings)


class FromDevice(Element):
    """FromDevice(DEVNAME [, PROMISC, SNAPLEN, KEYWORDS]) -- reads packets from a network device; the RSS device DeviceBalancer programs

    Description
    Emits every frame the Linux interface DEVNAME receives, link-level
    header included, with the packet type, flow and RSS hash annotations
    set (the hash is the Toeplitz hash the NIC computes, under the key of
    the balanced table, else the Microsoft key), the MAC header at the
    start, and, with TIMESTAMP true, the timestamp annotation set to the
    time the kernel received the frame (on the router's clock). Frames
    longer than SNAPLEN are cut to SNAPLEN bytes, the rest counted in the
    extra length annotation. Frames are read through an AF_PACKET socket
    with a memory-mapped TPACKET_V3 ring, at most BURST per scheduling,
    whatever METHOD says: Click's LINUX and PCAP methods are both accepted
    and read the same way, and a BPF_FILTER expression is refused. With
    PROTOCOL, only frames of that link-level protocol (an EtherType, such
    as 0x0800) are emitted. With FORCE_IP true, output 0 gets only IP
    packets (IPv4 or IPv6 after the Ethernet header and at most one VLAN
    tag), with the IP header annotation and, for IPv4, the destination
    address annotation set; the other frames go to output 1, or are
    dropped when it is not connected. With PROMISC true the interface also
    receives frames for other hosts while FromDevice runs (the socket's
    promiscuous membership, which the kernel drops with the socket, however
    the process ends). With OUTBOUND true, the frames this host sends on
    DEVNAME are emitted too. Receiving needs real time and CAP_NET_RAW.

    As Click's user-level FromDevice, it is a sniffer by default: the
    kernel's network stack also receives every frame. With SNIFFER false,
    the stack gets none of the frames arriving on DEVNAME while FromDevice
    still receives them all: the kernel hands a frame to packet sockets
    before its traffic-control ingress hook, so FromDevice adds a clsact
    qdisc to DEVNAME whose ingress filter drops everything, says so in one
    log line, and removes it at cleanup, as it does the RSS table below
    (exit, exceptions, signals; after SIGKILL or a crash, the next start or
    'pyclick --cleanup DEVNAME'). A clsact or ingress qdisc already on
    DEVNAME is somebody else's: FromDevice refuses to start rather than
    touch it. SNIFFER false needs root (CAP_NET_ADMIN, and CAP_BPF for the
    filter's two-instruction program) and a kernel with the cls_bpf
    classifier. Frames this host sends are not affected.

    With ACTIVE false, no packet enters the router: FromDevice opens no
    socket and only stands for the interface, as the RSS++ setup of a
    socket application does.

    Otherwise FromDevice changes nothing on the interface unless a
    DeviceBalancer names it as DEV. Then FromDevice takes the interface's RSS indirection
    table over for it, and says so in one log line naming the interface:
    bucket i of the table names the RX queue, and so the core, that serves
    the packets whose RSS hash is i modulo the table size. Taking the table
    over needs root or CAP_NET_ADMIN.

    With MODE hardware, the table is the NIC's own, read and written with
    ethtool (netlink on kernels that have RSS_SET, the SIOCETHTOOL ioctl
    otherwise). The table found at start is saved and put back at cleanup,
    and also when the process ends in any other way Python notices (an
    exception, exit, SIGHUP, SIGTERM, SIGQUIT).

    With MODE software, for drivers without a programmable table (veth,
    virtio_net, many virtual NICs), an XDP program implements one: it
    hashes each packet with the Toeplitz function under KEY and steers it
    through a CPUMAP to the CPU the table names, queue q being CPU
    QUEUE_CPUS[q]. The program also counts packets per bucket; an
    XDPLoader on the same interface reads those counters. The program is
    detached at cleanup (and at any other exit, as above). Two FromDevice
    elements cannot both run software RSS on one interface.

    MODE auto, the default, uses the NIC's table when its driver has one
    and software RSS otherwise.

    Before taking the table over, FromDevice locks DEVNAME for the process
    (/run/pyclick/DEVNAME.lock): a second pyclick balancing the same
    interface is refused with the first one's PID (so does SNIFFER false).
    What it changes is noted in a state record beside the lock (the table
    found at start, the XDP program and CPUMAP of software RSS, the program
    they replaced, the clsact qdisc of SNIFFER false). After
    SIGKILL or a crash, the next start on DEVNAME, or 'pyclick --cleanup
    DEVNAME', puts back what the record names and says so in one line.
    DeviceBalancer checks its CPUS against the queue count FromDevice
    reports; with a NIC, 'ethtool -L DEVNAME combined N' changes the number
    of queues. The table keywords (MODE, RETA_SIZE, QUEUE_CPUS, KEY,
    XDP_MODE) are ignored, with a warning, when no DeviceBalancer names
    the element.

    FromDevice looks at DEVNAME only when the router starts: checking a
    configuration (pyclick -q) never touches an interface.

    Ports
    no inputs; output 0 emits the frames, output 1 (optional) the non-IP
    frames when FORCE_IP is true

    Keyword arguments
    DEVNAME -- interface name, mandatory
    PROMISC -- ACTIVE true: receive frames for other hosts too, default false
    SNAPLEN -- longest packet emitted, 14 to 65535 bytes, default 2046
    SNIFFER -- the kernel's stack receives the frames too, default true; false drops them before the stack (ACTIVE true)
    FORCE_IP -- emit only IP packets on output 0, IP header annotation set, default false
    METHOD -- LINUX or PCAP (both read through the packet-socket ring), default PCAP
    CAPTURE -- old name of METHOD
    BPF_FILTER -- must be empty (filter expressions are not supported), default empty
    PROTOCOL -- emit only frames of this link-level protocol, 0 to 65535 (0: all), default 0
    OUTBOUND -- ACTIVE true: emit the frames this host sends on DEVNAME too, default false
    ENCAP -- the link-level encapsulation asked for: ETHER, what an AF_PACKET socket gives (Click's other link types are refused), default ETHER
    HEADROOM -- bytes of headroom in each packet, 0 to 8190, default 30
    BURST -- most packets emitted per scheduling, 1 to 65536, default 1
    TIMESTAMP -- set the timestamp annotation to the frame's arrival, default true
    ACTIVE -- emit received frames as packets, default true
    MODE -- balanced table: auto, hardware or software, default auto
    RETA_SIZE -- balanced table size, 1 to 65536; software RSS default 128; with a NIC, only its own size is accepted
    QUEUE_CPUS -- software RSS: the CPU serving each queue (0 to 4095), space separated, default all CPUs
    KEY -- software RSS: Toeplitz key (hex), default the Microsoft key
    XDP_MODE -- software RSS: auto, native or generic XDP, default auto

    Element handlers
    count (read) -- packets emitted, on either output
    reset_counts (write) -- sets count to 0
    kernel_drops (read) -- frames the kernel dropped because the ring was full
    mode (read) -- balanced table: hardware or software; empty when not balanced
    driver (read) -- balanced table: the interface's driver
    reta_size (read) -- balanced table: buckets in the table
    queues (read) -- balanced table: RX queues (hardware) or CPUs (software) the table may name
    table (read) -- balanced table: the current table, the queue of each bucket, space separated
    saved_table (read) -- MODE hardware: the table found at start, put back at cleanup
    key (read) -- balanced table: the RSS hash key, hex
    restore (write) -- MODE hardware: put the saved table back now

    Example
    FromDevice(eth0, PROMISC true) -> c :: Counter -> Discard;

    FromDevice(eth0, SNIFFER false, METHOD LINUX) -> Queue -> ToDevice(eth1);

    fd :: FromDevice(eth0, ACTIVE false) -> Discard;
    db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu);
    xdp :: XDPLoader(PATH conf/bpf/xdp_count.o, DEV eth0, CLEAN false);
    """

    port_count = "0/1-2"
    # Click's: before ToDevice, which may share its socket.
    configure_phase = CONFIGURE_PHASE_PRIVILEGED - 1
    #: Opens the NIC's table (see pyclick.kernel.takeover.Backends).
    hardware_backend: ClassVar[Callable[[str], Any]] = staticmethod(_ethtool)
    #: Builds software RSS (see pyclick.kernel.takeover.Backends).
    software_backend: ClassVar[Callable[..., Any]] = staticmethod(_software_rss)
    #: Whether this process may change interfaces (CAP_NET_ADMIN); asked when balanced.
    may_change_devices: ClassVar[Callable[[], bool]] = staticmethod(has_net_admin)

    def configure(self, args: Args) -> None:
        # Asked before reading: has() does not see arguments already read.
        self._table_given = [k for k in TABLE_KEYWORDS if args.has(k)]
        self._software_given = [k for k in SOFTWARE_KEYWORDS if args.has(k)]
        self.devname: str = args.read_mp("DEVNAME", WORD)
        self.promisc: bool = args.read_p("PROMISC", BOOL, False)
        self.snaplen: int = args.read_p("SNAPLEN", UNSIGNED.range(*SNAPLEN_RANGE),
                                        DEFAULT_SNAPLEN)
        self.sniffer: bool = args.read("SNIFFER", BOOL, True)
        self.force_ip: bool = args.read("FORCE_IP", BOOL, False)
        method = args.read("METHOD", WORD)
        capture = args.read("CAPTURE", WORD)
        bpf_filter: str = args.read("BPF_FILTER", STRING, "")
        self.protocol: int = args.read("PROTOCOL", UNSIGNED.range(0, 0xFFFF), 0)
        self.outbound: bool = args.read("OUTBOUND", BOOL, False)
        args.read("ENCAP", Choice("ETHER"), "ETHER")
        self.headroom: int = args.read("HEADROOM", UNSIGNED.range(0, MAX_HEADROOM),
                                       FROMDEVICE_HEADROOM)
        self.burst: int = args.read("BURST", UNSIGNED.range(1, 65536), DEFAULT_BURST)
        self.timestamp: bool = args.read("TIMESTAMP", BOOL, True)
        self.active: bool = args.read("ACTIVE", BOOL, True)
        self.wanted_mode: str = args.read("MODE", Choice("auto", "hardware", "software"), "auto")
        self.wanted_size: int | None = args.read("RETA_SIZE", UNSIGNED.range(1, 65536))
        self.queue_cpus: list[int] | None = args.read("QUEUE_CPUS",
                                                      ListOf(UNSIGNED.range(0, 4095)))
        self.key: bytes | None = args.read("KEY", BYTES)
        self.xdp_mode: str = args.read("XDP_MODE", Choice(*XDP_MODES), "auto")
        self.method = self._method(args, method, capture)
        if bpf_filter.strip():
            args.error("BPF_FILTER: filter expressions are not supported (no compiler for "
                       "them is built in); leave it empty and select packets with "
                       "Classifier or IPClassifier after FromDevice")
        if not self.active:
            idle = [said for said, on in (("PROMISC true", self.promisc),
                                          ("OUTBOUND true", self.outbound),
                                          ("SNIFFER false", not self.sniffer)) if on]
            if idle:
                args.error(f"{' and '.join(idle)}: only used with ACTIVE true (ACTIVE false "
                           f"receives nothing)")
        elif self.router.simtime:
            args.error("ACTIVE true receives live packets and cannot run in simulated time")
        if self.wanted_mode == "hardware" and self._software_given:
            args.error(f"{', '.join(self._software_given)}: only used by MODE software")
        #: The RSS table, once a DeviceBalancer's takeover started.
        self.table: TableTakeover | None = None
        self._stack_block: StackBlock | None = None
        self._ring: ReceiveRing | None = None
        self._receiver: ReceiveTask | None = None
        self._hash_key = b""
        self.count = 0
        self._drops = 0

    @staticmethod
    def _method(args: Args, method: str | None, capture: str | None) -> str:
        if method is not None and capture is not None and method != capture:
            args.error(f"METHOD {shorten(method)} and CAPTURE {shorten(capture)}: CAPTURE is "
                       f"the old name of METHOD, give one")
        chosen = method or capture or "PCAP"
        if chosen not in PACKET_SOCKET_METHODS:
            methods = " or ".join(PACKET_SOCKET_METHODS)
            args.error(f"{'METHOD' if method else 'CAPTURE'} {shorten(chosen)}: unknown capture "
                       f"method; on Linux FromDevice reads with {methods}")
        return chosen

    # --- lifecycle
    def initialize(self) -> None:
        if self.active and not self.sniffer and not self.may_change_devices():
            raise ConfigError(f"While initializing '{self.declaration()}': SNIFFER false "
                              f"keeps received frames from the network stack of "
                              f"'{self.devname}' with a tc ingress filter, which needs root "
                              f"or CAP_NET_ADMIN", self.landmark)
        try:
            if self._balanced():
                self._take_table_over()
            elif self._table_given:
                self.log.warning("%s: %s ignored, no DeviceBalancer balances '%s'",
                                 self.devname, ", ".join(self._table_given), self.name)
            if self.active:
                self._start_receiving()
                if not self.sniffer:
                    self._keep_frames_from_stack()
        except BaseException:
            self.cleanup()
            raise

    def _balanced(self) -> bool:
        return any(isinstance(element, TableBalancer) and element.balances(self)
                   for element in self.router.elements if element is not self)

    def _take_table_over(self) -> None:
        from pyclick.kernel.takeover import (Backends, TableTakeover, TakeoverError,
                                             TakeoverRequest)

        request = TakeoverRequest(
            self.devname, self.name, mode=self.wanted_mode, reta_size=self.wanted_size,
            queue_cpus=self.queue_cpus, key=self.key, xdp_mode=self.xdp_mode,
            software_given=self._software_given)
        backends = Backends(self.hardware_backend, self.software_backend,
                            self.may_change_devices)
        self.table = TableTakeover(request, backends, self.router.exit_guard, self.log)
        others = [element for element in self.router.elements if element is not self]
        try:
            self.table.start(others)
        except TakeoverError as err:
            raise ConfigError(f"While initializing '{self.declaration()}': {err}",
                              self.landmark) from None

    def _start_receiving(self) -> None:
        from pyclick.kernel.netdev import DeviceError
        from pyclick.kernel.ring import ReceiveRing
        from pyclick.rss.toeplitz import MICROSOFT_KEY

        self._hash_key = self.table.hash_key() if self.table is not None else MICROSOFT_KEY
        try:
            self._ring = ReceiveRing(self.devname, outbound=self.outbound, promisc=self.promisc)
        except (DeviceError, OSError) as err:
            raise initialize_failed(self, err) from None
        self._receiver = ReceiveTask(self, self._ring, self.burst, self._emit)

    def _keep_frames_from_stack(self) -> None:
        """SNIFFER false: a tc ingress filter drops every received frame after the
        ring's copy (pyclick.kernel.ingressfilter)."""
        self._stack_block = StackBlock(self, self.devname)
        self._stack_block.start()
        self.log.info("%s: SNIFFER false: a clsact qdisc drops every frame arriving on it "
                      "after FromDevice's copy, so the network stack gets none; removed at exit",
                      self.devname)

    def cleanup(self) -> None:
        try:
            if self._stack_block is not None:
                self._stack_block.stop()
                self._stack_block = None
        finally:
            self._stop_receiving()

    def _stop_receiving(self) -> None:
        try:
            if self._receiver is not None:
                self._receiver.stop()
                self._receiver = None
            if self._ring is not None:
                self._ring.close()
                self._ring = None
        finally:
            if self.table is not None:
                self.table.stop()

    def _emit(self, limit: int) -> int:
        frames = self._ring.receive(limit)
        if not frames:
            return 0
        # The kernel stamps frames on the wall clock; packets carry the router's.
        clock_offset = self.router.now() - time.time()
        batch: list[Packet] = []
        other: list[Packet] = []
        for frame in frames:
            if self.protocol and frame.protocol != self.protocol:
                continue
            packet = self._packet(frame, clock_offset)
            if self.force_ip and not mark_ip_header(packet):
                other.append(packet)
            else:
                batch.append(packet)
        self.count += len(batch) + len(other)
        if batch:
            self.output_push(0, batch)
        if other:
            self.output_push(1, other)
        return len(frames)

    def _packet(self, frame: Frame, clock_offset: float) -> Packet:
        from pyclick.flow.key import parse_frame

        data = frame.data[:self.snaplen]
        packet = Packet.make(data, headroom=self.headroom,
                             timestamp=frame.timestamp + clock_offset if self.timestamp else 0.0)
        # The flow and hash of the whole frame, as the NIC sees it.
        packet.flow = parse_frame(frame.data)
        packet.rss_hash = rss_hash(self._hash_key, packet.flow)
        packet.packet_type = frame.packet_type
        packet.set_mac_header(0)
        if frame.wire_length > len(data):
            packet.extra_length = frame.wire_length - len(data)
        return packet

    # --- RssDevice, through the takeover
    def _taken(self) -> TableTakeover:
        if self.table is None:
            raise RuntimeError(f"FromDevice '{self.name}' is not initialized or no "
                               f"DeviceBalancer balances it")
        return self.table

    def reta_size(self) -> int:
        return self._taken().reta_size()

    def queue_count(self) -> int:
        return self._taken().queue_count()

    def hash_key(self) -> bytes:
        return self._taken().hash_key()

    def read_table(self) -> np.ndarray:
        return self._taken().read_table()

    def write_table(self, table: np.ndarray) -> None:
        self._taken().write_table(table)

    # --- what others ask besides the table (seams.QueueDescription, softrss.SoftwareRssHost)
    def describe_queues(self) -> str:
        """Where the queue count comes from and how to change it, for error messages."""
        return self._taken().describe_queues(self.name)

    def software_rss(self, ifname: str) -> SoftwareRSS | None:
        """The software RSS this element runs on ``ifname``, if it runs one."""
        if self.table is None or ifname != self.devname:
            return None
        return self.table.software_rss()

    # --- handlers
    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @write_handler("reset_counts")
    def _write_reset(self, value: str) -> None:
        self.count = 0
        self._drops = 0
        if self._ring is not None:
            self._ring.statistics()

    @read_handler("kernel_drops")
    def _read_kernel_drops(self) -> str:
        if self._ring is not None:
            self._drops += self._ring.statistics()[1]
        return str(self._drops)

    @read_handler("mode")
    def _read_mode(self) -> str:
        return self.table.mode if self.table is not None else ""

    @read_handler("driver")
    def _read_driver(self) -> str:
        return self.table.driver if self.table is not None else ""

    @read_handler("reta_size")
    def _read_reta_size(self) -> str:
        return str(self.reta_size())

    @read_handler("queues")
    def _read_queues(self) -> str:
        return str(self.queue_count())

    @read_handler("table")
    def _read_table(self) -> str:
        return " ".join(str(q) for q in self.read_table().tolist())

    @read_handler("saved_table")
    def _read_saved_table(self) -> str:
        saved = self.table.saved if self.table is not None else None
        return "" if saved is None else " ".join(str(q) for q in saved.tolist())

    @read_handler("key")
    def _read_key(self) -> str:
        return self.hash_key().hex()

    @write_handler("restore")
    def _write_restore(self, value: str) -> None:
        self._taken().restore()
