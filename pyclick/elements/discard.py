"""Discard and Idle: the two ways a configuration throws packets away."""

from __future__ import annotations

from pyclick.args import BOOL, UNSIGNED, Args
from pyclick.element import AGNOSTIC, Element, read_handler, write_handler
from pyclick.elements.handlercall import parse_value
from pyclick.packet import Packet
from pyclick.runtime.notifier import upstream_empty_signal
from pyclick.runtime.tasks import Task


class Discard(Element):
    """Discard(KEYWORDS) -- drops all packets

    Description
    Discards all packets received on its single input, counting them. In
    pull context it is a pull sink: its task pulls BURST packets whenever
    packets are available, and sleeps while the elements upstream say none
    will come (an empty Queue).

    Ports
    one agnostic input

    Keyword arguments
    ACTIVE -- pull only while true (pull context only); default true
    BURST -- packets pulled per task run, 0 to 65536, 0 for no limit (pull context only); default 1

    Element handlers
    count (read) -- packets dropped since the start or the last reset
    reset_counts (write) -- sets count back to 0
    active (read/write) -- the ACTIVE setting (pull context only)

    Example
    InfiniteSource(LIMIT 5) -> d :: Discard;
    InfiniteSource(LIMIT 5) -> Queue -> Discard;
    """

    port_count = "1/0"
    processing = AGNOSTIC

    def configure(self, args: Args) -> None:
        self.active = args.read("ACTIVE", BOOL, True)
        burst = args.read("BURST", UNSIGNED.range(0, 65536), 1)
        if not self.active and self.input_is_push(0):
            args.error("ACTIVE is meaningless in push context")
        args.complete()
        self.burst = burst or 0x7FFFFFFF
        self.count = 0
        self._task: Task | None = None

    def add_handlers(self) -> None:
        if self.input_is_pull(0):
            self.router.handlers.add_read(self, "active", self._read_active)
            self.router.handlers.add_write(self, "active", self._write_active)

    def initialize(self) -> None:
        if not self.input_is_pull(0):
            return
        self._task = self.own_task(self._run)
        self._signal = upstream_empty_signal(self, 0, self._task.reschedule)
        if self.active:
            self._task.reschedule()

    def push(self, port: int, batch: list[Packet]) -> None:
        self.count += len(batch)

    def _run(self) -> bool:
        assert self._task is not None
        batch = self.input_pull_batch(0, self.burst)
        self.count += len(batch)
        if self.active and (batch or self._signal):
            self._task.reschedule()
        return bool(batch)

    @read_handler("count")
    def _read_count(self) -> str:
        return str(self.count)

    @write_handler("reset_counts")
    def _reset_counts(self, value: str) -> None:
        self.count = 0

    def _read_active(self) -> str:
        return "true" if self.active else "false"

    def _write_active(self, value: str) -> None:
        self.active = parse_value(BOOL, value)
        if self._task is not None and self.scheduling.scheduler is not None:
            if self.active:
                self._task.reschedule()
            else:
                self._task.unschedule()


class Idle(Element):
    """Idle() -- discards packets

    Description
    Idle has any number of inputs and outputs, push or pull. It never
    emits a packet, answers every pull with nothing, and silently drops any
    packet pushed to it. It fills ports that must be connected but carry
    nothing; a puller downstream of Idle sleeps (Idle neither makes nor
    takes packets, as far as notification is concerned).

    Ports
    any number of agnostic inputs and outputs

    Example
    Idle -> c :: Counter -> Discard;
    Idle -> Unqueue -> Discard;
    """

    port_count = "-/-"
    processing = AGNOSTIC
    flow_code = "x/y"
    flags = "S0"

    def push(self, port: int, batch: list[Packet]) -> None:
        """Drop the batch."""

    def pull(self, port: int) -> Packet | None:
        return None

    def pull_batch(self, port: int, max_packets: int) -> list[Packet]:
        return []
