"""KernelTun: IP packets to and from the kernel through a TUN device."""

from __future__ import annotations

from pyclick.args import UNSIGNED, WORD, Args
from pyclick.element import Element, read_handler
from pyclick.elements.fromhost import DEFAULT_MTU, tap_address
from pyclick.elements.inet import IPPREFIX
from pyclick.elements.polldevice import ReceiveTask, initialize_failed, live_only
from pyclick.kernel.netdev import DeviceError
from pyclick.kernel.tap import TunDevice
from pyclick.packet import DEFAULT_HEADROOM, Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task

#: Packets a pull input takes per task run.
PULL_BURST = 32
_IP_HEADER = 20


def is_ipv4(data: bytes) -> bool:
    """Whether ``data`` starts with a plausible IPv4 header as long as it says."""
    if len(data) < _IP_HEADER or data[0] >> 4 != 4 or (data[0] & 0xF) * 4 < _IP_HEADER:
        return False
    return int.from_bytes(data[2:4], "big") <= len(data)


class KernelTun(Element):
    """KernelTun(ADDR, KEYWORDS) -- interface to a Linux TUN device

    Description
    Creates a TUN device through the universal TUN/TAP driver
    (/dev/net/tun), gives the kernel the address ADDR on it (an address
    with its prefix length, such as 192.0.2.1/24), and brings it up, so
    that the kernel routes the prefix through the device. IP packets the
    kernel sends to the prefix are emitted on output 0, at most BURST per
    scheduling; anything else the kernel sends (not IPv4, or a truncated
    header) goes out output 1 if it exists and is dropped otherwise.

    IP packets that arrive on the input, pushed or pulled, are handed to
    the kernel as if they came in on the device. Packets longer than MTU
    are dropped, as are those the kernel refuses.

    Packets addressed to ADDR itself are answered by the kernel: say
    KernelTun(192.0.2.1/24) runs, 'ping 192.0.2.1' never reaches the
    router, but 'ping 192.0.2.2' does. The device, its address and its
    route disappear when KernelTun closes it, however the process ends.
    KernelTun needs real time and CAP_NET_ADMIN; it creates the device when
    the router starts.

    Ports
    zero or one agnostic input; one or two push outputs

    Keyword arguments
    ADDR -- the kernel's address and prefix on the device, mandatory
    DEVNAME -- the device's name; default the kernel's choice (tun0...)
    BURST -- most packets emitted per scheduling, at least 1; default 1
    MTU -- the device's MTU; default 1500
    HEADROOM -- bytes of headroom in each packet; default 28

    Element handlers
    dev_name (read) -- the device's name
    count (read) -- IP packets emitted on output 0
    drops (read) -- input packets dropped (too long, or refused by the kernel)

    Example
    tun :: KernelTun(192.0.2.1/24);
    tun -> IPPrint(tun) -> tun;
    """

    port_count = "0-1/1-2"
    processing = "a/h"
    flow_code = "x/y"

    def configure(self, args: Args) -> None:
        self.addr = tap_address(args.read_mp("ADDR", IPPREFIX))
        self.devname: str = args.read("DEVNAME", WORD, "")
        self.burst: int = args.read("BURST", UNSIGNED.range(1, 1 << 20), 1)
        self.mtu: int = args.read("MTU", UNSIGNED.range(68, 65535), DEFAULT_MTU)
        self.headroom: int = args.read("HEADROOM", UNSIGNED.range(0, 1 << 16), DEFAULT_HEADROOM)
        args.complete()
        live_only(self, args)
        self.count = 0
        self.drops = 0
        self.device: TunDevice | None = None
        self._receiver: ReceiveTask | None = None
        self._pull_task: Task | None = None

    def initialize(self) -> None:
        try:
            self.device = TunDevice(self.devname, tap=False)
            self.device.set_up(prefix=self.addr, mtu=self.mtu)
        except (DeviceError, OSError) as err:
            self.cleanup()
            raise initialize_failed(self, err) from err
        self.devname = self.device.name
        self._receiver = ReceiveTask(self, self.device, self.burst, self._emit)
        if self.ninputs and self.input_is_pull(0):
            self._pull_task = Task(self, self._pull)
            self._signal = upstream_empty_signal(self, 0, self._pull_task.reschedule)
            self._pull_task.reschedule()

    def cleanup(self) -> None:
        if self._pull_task is not None:
            self._pull_task.unschedule()
            self._pull_task = None
        if self._receiver is not None:
            self._receiver.stop()
            self._receiver = None
        if self.device is not None:
            self.device.close()
            self.device = None

    def _emit(self, limit: int) -> int:
        assert self.device is not None
        data = self.device.read(limit)
        if not data:
            return 0
        now = self.router.now()
        good: list[Packet] = []
        bad: list[Packet] = []
        for raw in data:
            packet = Packet.make(raw, headroom=self.headroom, timestamp=now)
            if is_ipv4(raw):
                packet.set_network_header(0, (raw[0] & 0xF) * 4)
                good.append(packet)
            else:
                bad.append(packet)
        self.count += len(good)
        if good:
            self.output_push(0, good)
        if bad:
            self.output_push(1, bad)
        return len(data)

    def push(self, port: int, batch: list[Packet]) -> None:
        device = self.device
        for packet in batch:
            if device is None or len(packet) > self.mtu or not device.write(packet.data):
                self.drops += 1

    def _pull(self) -> bool:
        assert self._pull_task is not None
        batch = self.input_pull_batch(0, PULL_BURST)
        if batch:
            self.push(0, batch)
        if len(batch) == PULL_BURST or self._signal:
            self._pull_task.reschedule()
        return bool(batch)

    @read_handler("dev_name")
    def _read_dev_name(self) -> str:
        return self.devname

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @read_handler("drops")
    def _read_drops(self) -> str:
        return str(self.drops)
