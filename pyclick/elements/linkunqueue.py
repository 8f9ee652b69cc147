"""LinkUnqueue: a serial link emulated between a pull input and a push output."""

from __future__ import annotations

from collections import deque

from pyclick.args import TIME, Args
from pyclick.element import read_handler, write_handler
from pyclick.elements.clickargs import BANDWIDTH
from pyclick.elements.handlercall import parse_value
from pyclick.elements.intervals import unparse_interval
from pyclick.elements.timedpuller import TimedPuller
from pyclick.packet import Packet

LATENCY = TIME.range(0, 86400)
#: Bytes per second: Click's least (100) to 100 GB/s.
LINK_BANDWIDTH = BANDWIDTH.range(100, 1e11)
_USEC = 1e-6


class LinkUnqueue(TimedPuller):
    """LinkUnqueue(LATENCY, BANDWIDTH) -- link emulator

    Description
    Pulls packets and pushes them out again as a serial link would deliver
    them: with latency LATENCY, at BANDWIDTH (such as 384kbps). A packet
    takes LATENCY plus its length (with its extra length annotation)
    divided by BANDWIDTH, and waits for the packets ahead of it on the
    link. Times are counted in whole microseconds.

    LinkUnqueue pulls only while the link has room, that is while the last
    packet on it would arrive within LATENCY from now; it stores only the
    packets in transit. Put a Queue in front of it to emulate a link fed by
    a queue. Packets leave with their timestamp set to their arrival time.
    It sleeps while the elements upstream say nothing will come.

    Ports
    one pull input, one push output

    Keyword arguments
    LATENCY -- the link's latency, 0 to a day; mandatory
    BANDWIDTH -- the link's bandwidth, at least 100 bytes per second; mandatory

    Element handlers
    latency (read/write) -- the LATENCY setting (a write empties the link)
    bandwidth (read/write) -- the BANDWIDTH, in bytes per second (a write empties the link)
    size (read) -- packets on the link, wholly or partly
    reset (write) -- drops every packet on the link

    Example
    InfiniteSource(LIMIT 3, LENGTH 100) -> Queue -> LinkUnqueue(10ms, 1Mbps)
        -> c :: Counter -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.latency = args.read_mp("LATENCY", LATENCY)
        self.bandwidth = args.read_mp("BANDWIDTH", LINK_BANDWIDTH)
        args.complete()
        self._link: deque[Packet] = deque()
        self._back_to_back = False
        self.make_task()

    def cleanup(self) -> None:
        super().cleanup()
        self._task.unschedule()
        self._link.clear()

    def _arrival(self, packet: Packet, start: float) -> float:
        """When ``packet``, sent at ``start``, has wholly arrived (whole microseconds,
        rounded down, as Click counts them)."""
        per_100 = int(self.bandwidth) // 100
        length = len(packet) + packet.extra_length
        return start + (length * 10000 // per_100) * _USEC

    def _run(self) -> bool:
        link = self._link
        now = self.router.now()
        delayed = now + self.latency
        worked = False
        while not link or link[-1].timestamp <= delayed:
            packet = self.input_pull(0)
            if packet is None:
                self._back_to_back = False
                break
            start = link[-1].timestamp if link and self._back_to_back else delayed
            packet.timestamp = self._arrival(packet, start)
            link.append(packet)
            worked = self._back_to_back = True
        due: list[Packet] = []
        while link and link[0].timestamp <= now:
            due.append(link.popleft())
        if due:
            self.output_push(0, due)
            worked = True
        if link:
            first = link[0].timestamp
            room = link[-1].timestamp - self.latency if self._signal else first
            if room <= now:
                # Polling upstream while the link has room; the first packet's
                # due time stays on the timer, for simulated time to reach it
                # while the polls find nothing.
                self._task.reschedule()
                self._timer.schedule_at(first)
            else:
                self._timer.schedule_at(min(first, room))
        elif self._signal:
            self._task.reschedule()
        return worked

    def _empty_link(self) -> None:
        self._link.clear()
        self._back_to_back = False
        self._timer.unschedule()
        if self.scheduling.scheduler is not None:
            self._task.reschedule()

    @read_handler("latency")
    def _read_latency(self) -> str:
        return unparse_interval(self.latency)

    @write_handler("latency")
    def _write_latency(self, value: str) -> None:
        self.latency = parse_value(LATENCY, value)
        self._empty_link()

    @read_handler("bandwidth")
    def _read_bandwidth(self) -> str:
        return str(int(self.bandwidth) // 100 * 100)

    @write_handler("bandwidth")
    def _write_bandwidth(self, value: str) -> None:
        self.bandwidth = parse_value(LINK_BANDWIDTH, value)
        self._empty_link()

    @read_handler("size")
    def _read_size(self) -> str:
        return str(len(self._link))

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self._empty_link()
