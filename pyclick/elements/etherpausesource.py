"""EtherPauseSource: Ethernet flow control (802.3x PAUSE) frames."""

from __future__ import annotations

import struct

from pyclick.args import BOOL, INT, TIME, UNSIGNED, Args
from pyclick.element import AGNOSTIC, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.elements.inet import ETHERADDR, unparse_ether
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.elements.switchable import Switchable
from pyclick.packet import Packet
from pyclick.runtime.timers import Timer

#: The multicast address reserved for PAUSE frames.
PAUSE_DESTINATION = bytes.fromhex("0180c2000001")
#: MAC control frames: their ethertype, and the PAUSE operation.
ETHERTYPE_MACCONTROL = 0x8808
OPCODE_PAUSE = 1
#: A PAUSE frame is a minimum-size frame (without its CRC): zeros after the pause time.
FRAME_LENGTH = 64
_HEAD = struct.Struct("!HHH")
PAUSETIME = UNSIGNED.range(0, 0xFFFF)
_LIMIT = INT.range(-2**31, 2**31 - 1)
#: INTERVAL is counted in whole milliseconds; a zero period would hold a
#: simulated clock at one instant for ever.
_INTERVAL = TIME.range(0.001, 4294967.295)


class EtherPauseSource(Switchable):
    """EtherPauseSource(SRC, PAUSETIME, KEYWORDS) -- creates and emits Ethernet 802.3x pause frames

    Description
    Makes Ethernet PAUSE frames, the MAC control frames of 802.3x flow
    control: a device that honours them stops sending for PAUSETIME pause
    quanta, a quantum being the time to send 512 bits at the link's speed
    (195 quanta are 100 µs at 1 Gbps). Sending them at some rate caps the
    rate of the link. SRC must be the address of the device that sends them.
    Each frame is 64 bytes long: destination DST, source SRC, type 0x8808,
    operation 1 (PAUSE), PAUSETIME, then zeros. Pulled, EtherPauseSource
    gives a frame at each pull; pushed, it sends one every INTERVAL, the
    first INTERVAL after the start. It stops after LIMIT frames, and sends
    none while ACTIVE is false. Writing active, limit or reset_counts lets a
    stopped source go on at once.

    Ports
    one agnostic output

    Keyword arguments
    SRC -- the source Ethernet address; mandatory
    PAUSETIME -- the pause time, in quanta, 0 to 65535; mandatory
    DST -- the destination Ethernet address; default 01-80-C2-00-00-01, the multicast
    address of PAUSE frames
    LIMIT -- frames to send, negative for no limit; default -1
    ACTIVE -- send only while true; default true
    INTERVAL -- time between pushed frames, in whole milliseconds, 1 ms to 49 days; default 1s

    Element handlers
    count (read) -- frames sent
    src, dst, pausetime, limit, active (read/write) -- the settings of the same names
    reset_counts (write) -- sets count to 0

    Example
    EtherPauseSource(00:1e:13:22:48:91, 390, LIMIT 3) -> Print(CONTENTS HEX) -> Discard;
    """

    port_count = "0/1"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.src = args.read_mp("SRC", ETHERADDR)
        self.pausetime = args.read_mp("PAUSETIME", PAUSETIME)
        self.dst = args.read("DST", ETHERADDR, PAUSE_DESTINATION)
        self.limit = args.read("LIMIT", _LIMIT, -1)
        self.active = args.read("ACTIVE", BOOL, True)
        self.interval = int(args.read("INTERVAL", _INTERVAL, 1.0) * 1000 + 0.5) / 1000
        args.complete()
        self.count = 0
        self._timer = Timer(self, self._tick)

    def initialize(self) -> None:
        if self.limit != 0 and self.active and self.output_is_push(0):
            self._timer.schedule_after(self.interval)

    def _done(self) -> bool:
        return 0 <= self.limit <= self.count

    def _frame(self) -> Packet | None:
        if not self.active or self._done():
            return None
        self.count += 1
        packet = Packet.make((self.dst + self.src + _HEAD.pack(
            ETHERTYPE_MACCONTROL, OPCODE_PAUSE, self.pausetime)).ljust(FRAME_LENGTH, b"\0"))
        packet.set_mac_header(0)
        return packet

    def _tick(self) -> None:
        packet = self._frame()
        if packet is None:
            return
        self.output_push(0, [packet])
        if not self._done():
            self._timer.reschedule_after(self.interval)

    def pull(self, port: int) -> Packet | None:
        return self._frame()

    def _wake(self) -> None:
        if (self.active and self.output_is_push(0) and not self._timer.scheduled
                and self.scheduling.scheduler is not None):
            self._timer.schedule_after(0)

    _read_src, _write_src = setting_handlers("src", ETHERADDR, unparse_ether)
    _read_dst, _write_dst = setting_handlers("dst", ETHERADDR, unparse_ether)
    _read_pausetime, _write_pausetime = setting_handlers("pausetime", PAUSETIME)

    @read_handler("limit")
    def _read_limit(self) -> str:
        return str(self.limit)

    @write_handler("limit")
    def _write_limit(self, value: str) -> None:
        self.limit = parse_value(_LIMIT, value)
        self._wake()

    @write_handler("reset_counts")
    def _write_reset_counts(self, value: str) -> None:
        self.count = 0
        self._wake()
