"""SchedOrderTest: records the order in which the scheduler runs tasks."""

from __future__ import annotations

from pyclick.args import BOOL, INT, UNSIGNED, Args
from pyclick.element import Element, read_handler

DEFAULT_SIZE = 1024


class _Record:
    """The IDs of the first ``size`` task runs, shared by a router's SchedOrderTests."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.order: list[int] = []


class SchedOrderTest(Element):
    """SchedOrderTest(ID, KEYWORDS) -- remembers scheduling order

    Description
    Each SchedOrderTest runs a task that reschedules itself and, each time
    it runs, writes ID down in a record all the router's SchedOrderTests
    share, until the record holds SIZE IDs (the largest SIZE any of them
    gives; 1024 when none does). The order handler shows the record: the
    order in which the scheduler ran their tasks, which ScheduleInfo
    parameters change (an element with 2 runs twice as often as one
    with 1).

    Ports
    none

    Keyword arguments
    ID -- the number written down; mandatory
    SIZE -- the most IDs recorded, 1 to 2^20; default: another's, or 1024
    LIMIT -- runs of this task, at most 2^32-1 (0: no limit); default 0
    STOP -- once the record is full, send a driver stop event at each run; default false

    Element handlers
    order (read) -- the IDs recorded, separated by spaces

    Example
    a :: SchedOrderTest(1, SIZE 9); SchedOrderTest(2, STOP true);
    ScheduleInfo(a 2);   // order: 1 1 2 1 1 2 1 1 2
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        self.id = args.read_mp("ID", INT.range(-2**31, 2**31 - 1))
        self.size: int | None = args.read("SIZE", UNSIGNED.range(1, 1 << 20), None)
        self.stop = args.read("STOP", BOOL, False)
        self.limit = args.read("LIMIT", UNSIGNED.range(0, 2**32 - 1), 0)
        args.complete()
        self.count = 0
        self.record: _Record | None = None
        self._task = self.own_task(self._run)

    def initialize(self) -> None:
        tests = self.router.elements_of(SchedOrderTest)
        first = tests[0]
        if first.record is None:
            sizes = [test.size for test in tests if test.size is not None]
            first.record = _Record(max(sizes, default=DEFAULT_SIZE))
        self.record = first.record
        self._task.reschedule()

    def cleanup(self) -> None:
        self._task.unschedule()

    def _run(self) -> bool:
        record = self.record
        assert record is not None
        if len(record.order) < record.size:
            record.order.append(self.id)
        elif self.stop:
            self.router.please_stop_driver(f"{self.name}: record full")
        self.count += 1
        if self.limit == 0 or self.count < self.limit:
            self._task.reschedule()
        return True

    @read_handler("order")
    def _read_order(self) -> str:
        record = self.record
        return " ".join(str(i) for i in record.order) + "\n" if record and record.order else ""
