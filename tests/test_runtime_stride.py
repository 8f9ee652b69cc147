"""Click's stride scheduling of tasks: tickets, passes, ScheduleInfo, the tickets handler.

Expected orders are worked out by hand from the rules in
``pyclick.runtime.tasks`` (strides are 65536 // tickets) and were checked
against Click's own scheduler on the same configurations.
"""

from __future__ import annotations

import logging

import pytest

from pyclick.cli import main
from pyclick.runtime.clock import SimClock
from pyclick.runtime.scheduling import SchedulingHandle
from pyclick.runtime.tasks import DEFAULT_TICKETS, MAX_TICKETS, Task, TaskQueue
from pyclick.runtime.ticketbook import TicketBook
from tests.helpers import FakeHost, FakeOwner, bound_scheduling


def run_order(tickets: dict[str, int], runs: dict[str, int]) -> str:
    """The order in which tasks named by ``tickets`` run, each ``runs[name]`` times
    (rescheduling itself until then), scheduled in the order given."""
    host = FakeHost(SimClock())
    handle = bound_scheduling(host)
    seen: list[str] = []
    tasks: dict[str, Task] = {}

    def runner(name: str):
        def run() -> bool:
            seen.append(name)
            if seen.count(name) < runs[name]:
                tasks[name].reschedule()
            return True
        return run

    for name, count in tickets.items():
        tasks[name] = Task(FakeOwner(name, handle), runner(name))
        tasks[name].set_tickets(count)
    for task in tasks.values():
        task.reschedule()
    host.scheduler.run()
    return "".join(seen)


def test_equal_tickets_take_turns():
    assert run_order({"a": 1024, "b": 1024, "c": 1024}, {"a": 3, "b": 3, "c": 2}) == "abcabcab"


def test_twice_the_tickets_run_twice_as_often():
    # Strides 32 and 64. a scheduled first: 0 + 32 = 32; b: 32 + 64 = 96. a runs
    # at 32 and 64, moving to 96, behind b; b at 96 (to 160); a at 96 and 128
    # (to 160, behind b); b at 160; a at 160 and 192; b at 224.
    assert run_order({"a": 2048, "b": 1024}, {"a": 6, "b": 3}) == "aabaabaab"


def test_a_task_scheduled_while_another_runs_starts_from_the_running_pass():
    # a (stride 64) runs at pass 64 and schedules c (stride 64): 64 + 64 = 128,
    # behind b, scheduled at 128 before it; a itself moves on to 128, behind both.
    host = FakeHost(SimClock())
    handle = bound_scheduling(host)
    seen: list[str] = []
    tasks: dict[str, Task] = {}

    def run_a() -> bool:
        seen.append("a")
        if seen.count("a") == 1:
            tasks["c"].reschedule()
            tasks["a"].reschedule()
        return True

    tasks["a"] = Task(FakeOwner("a", handle), run_a)
    for name in "bc":
        tasks[name] = Task(FakeOwner(name, handle), lambda name=name: seen.append(name) or True)
    tasks["a"].reschedule()
    tasks["b"].reschedule()
    host.scheduler.run()
    assert seen == ["a", "b", "c", "a"]


def test_an_idle_run_goes_behind_the_next_task_and_alone_ends_the_batch():
    handle = SchedulingHandle(lambda: 0.0)
    queue = TaskQueue()
    a = Task(FakeOwner("a", handle), lambda: False)
    b = Task(FakeOwner("b", handle), lambda: True)
    a.set_tickets(2048)                       # stride 32
    queue.push(a)                             # 0 + 32
    queue.push(b)                             # 32 + 64 = 96
    assert queue.pop() is a
    queue.push(a)                             # rescheduled while running
    # Idle: 32 + 32 = 64 would run next; it takes b's pass, 96, behind b.
    assert queue.finish(a, worked=False) is True
    assert (a.pass_number, queue.pop()) == (96, b)
    assert queue.finish(b, worked=True) is True   # not rescheduled: gone
    assert queue.pop() is a
    queue.push(a)
    # Alone and idle: the thread should look at its timers.
    assert queue.finish(a, worked=False) is False
    assert (queue.pending(), a.pass_number) == (1, 128)


def test_tickets_are_pinned_and_a_zero_parameter_never_runs():
    handle = SchedulingHandle(lambda: 0.0)
    task = Task(FakeOwner("t", handle), lambda: True)
    assert (task.tickets, task.stride) == (DEFAULT_TICKETS, 64)
    task.set_tickets(0)
    assert (task.tickets, task.stride) == (1, 65536)
    task.set_tickets(10**9)
    assert (task.tickets, task.stride) == (MAX_TICKETS, 2)
    handle.tickets.define("", "off", 0)
    off = Task(FakeOwner("off", handle), lambda: True)
    queue = TaskQueue()
    queue.push(off)
    assert (off.tickets, off.scheduled, queue.pending()) == (0, False, 0)


def test_the_ticket_book_reads_as_the_manual_says():
    book = TicketBook()
    assert book.granted("anything") == 1024
    # A compound's parameter scales its components: 4 x 0.5.
    book.define("c/", "i", 0.5)
    book.define("", "c", 4)
    assert (book.granted("c/i"), book.granted("c/j"), book.granted("d")) == (2048, 4096, 1024)
    # An outer definition of a component's full name is its whole parameter.
    book.define("", "c/i", 10.5)
    assert book.granted("c/i") == 10752
    # Nested: c scales d, d's own ScheduleInfo gives x 3: 4 x 3.
    book.define("c/d/", "x", 3)
    assert book.granted("c/d/x") == 12288
    # Parameters are read to 1/1024 (0.3 is 307/1024); products round down.
    small = TicketBook()
    small.define("", "s", 0.3)
    small.define("s/", "t", 0.3)
    assert (small.granted("s"), small.granted("s/t")) == (307, 307 * 307 >> 10)


def test_scheduleinfo_weighs_real_time_tasks(capsys):
    config = ("a :: SchedOrderTest(1, SIZE 12); b :: SchedOrderTest(2); "
              "c :: SchedOrderTest(3, LIMIT 2); ScheduleInfo(a 3, c 0.5); "
              "DriverManager(wait 10ms, stop)")
    assert main(["-e", config, "-h", "a.order", "-h", "a.tickets", "-h", "c.tickets"]) == 0
    # Strides 21, 64, 128. a: 0 + 21 = 21; b: 21 + 64 = 85; c: 21 + 128 = 149.
    # a runs at 21, 42, 63 and 84; b at 85 (then 149, behind c, there first);
    # a at 105, 126 and 147; c at 149 (its last run); b at 149; a at 168, 189.
    assert capsys.readouterr().out == (
        "a.order:\n1 1 1 1 2 1 1 1 3 2 1 1\n\n"
        "a.tickets:\n3072\n\nc.tickets:\n512\n\n")


def test_the_tickets_handler_reads_writes_and_pins(capsys, caplog):
    config = ("u :: Unqueue; Idle -> Queue -> u -> Discard; ScheduleInfo(u 2); "
              "DriverManager(read u.tickets, write u.tickets 0x100, read u.tickets, "
              "write u.tickets 99999, read u.tickets, write u.tickets -3, read u.tickets, stop)")
    with caplog.at_level(logging.WARNING):
        assert main(["-e", config]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines()
            if not line.endswith(":") and "warning" not in line] == ["2048", "256", "32768", "1"]
    assert [r.getMessage() for r in caplog.records] == [
        "u :: Unqueue: tickets pinned at 32768", "u :: Unqueue: tickets pinned at 1"]


def test_a_tickets_write_that_is_no_number_fails_and_changes_nothing(capsys):
    # Too many digits for an integer is no number either, and is quoted short.
    config = ("u :: Unqueue; Idle -> Queue -> u -> Discard; "
              f"DriverManager(write u.tickets many, write u.tickets {'9' * 5000}, "
              "read u.tickets, stop)")
    assert main(["-e", config]) == 0
    err = capsys.readouterr().err
    assert "write u.tickets: u.tickets: expected integer, got 'many'" in err
    assert f"expected integer, got '{'9' * 60}…(5000 bytes)'" in err
    assert err.endswith("u.tickets:\n1024\n")


@pytest.mark.parametrize("source", ["InfiniteSource(LIMIT 3)", "RatedSource(LIMIT 3)"])
def test_a_zero_parameter_keeps_an_element_from_running(capsys, source):
    config = (f"s :: {source} -> c :: Counter -> Discard; ScheduleInfo(s 0); "
              "DriverManager(wait 20ms, stop)")
    assert main(["-e", config, "-h", "c.count", "-h", "s.scheduled"]) == 0
    assert capsys.readouterr().out == "c.count:\n0\n\ns.scheduled:\nfalse\n\n"
