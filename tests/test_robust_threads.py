"""Worker threads never die silently and never keep a stopped router waiting.

In-process counterparts of the subprocess exits in test_robust_signals: a
callback raising BaseException, the worker loop itself failing, a handler
called after the stop on a thread stuck in a callback.
"""

from __future__ import annotations

import logging
import threading

import pytest

import pyclick.router
import pyclick.runtime.threads
from pyclick.args import WORD, Args
from pyclick.element import Element, read_handler
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.timers import Timer
from tests.helpers import configured_router


class RobustRaiser(Element):
    """RobustRaiser(WHAT) -- a timer that raises KeyboardInterrupt, SystemExit or GeneratorExit"""

    def configure(self, args: Args) -> None:
        self.what = args.read_mp("WHAT", WORD)
        args.complete()

    def initialize(self) -> None:
        Timer(self, self.boom).schedule_after(0.001)

    def boom(self) -> None:
        raise {"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit,
               "GeneratorExit": GeneratorExit}[self.what]()


class RobustStuck(Element):
    """RobustStuck() -- a timer that spins until the test releases it; handler 'value'"""

    release = threading.Event()

    def initialize(self) -> None:
        self.spinning = threading.Event()
        Timer(self, self.spin).schedule_after(0.001)

    def spin(self) -> None:
        self.spinning.set()
        self.release.wait(60)

    @read_handler("value")
    def _value(self) -> str:
        return "42"


@pytest.mark.parametrize("simtime", [False, True])
@pytest.mark.parametrize("what", ["KeyboardInterrupt", "SystemExit", "GeneratorExit"])
def test_a_callback_raising_a_base_exception_stops_the_router_with_status_1(caplog, what,
                                                                           simtime):
    router = configured_router([("r", "RobustRaiser", what), ("i", "Idle", "")],
                               at="exits.click", simtime=simtime)
    with caplog.at_level(logging.ERROR):
        assert router.run(handle_signals=False) == 1
    assert router.stop_reason == "timer of 'r' failed"
    (failure,) = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failure.landmark == "exits.click:1"
    assert failure.getMessage().startswith(f"timer of 'r :: RobustRaiser' failed: {what}")


def test_a_failing_worker_loop_is_reported_and_stops_the_router(caplog, monkeypatch):
    # A sleep bound past what a wait accepts: the loop itself fails, as it
    # did for every timer due in 1e300 s before waits were bounded.
    monkeypatch.setattr(pyclick.runtime.threads, "MAX_SLEEP", 1e301)
    router = configured_router([("s", "Script", "wait 1e300")], at="exits.click")
    with caplog.at_level(logging.ERROR):
        assert router.run(handle_signals=False) == 1
    assert router.stop_reason == "worker thread 0 failed"
    assert "worker thread 0 failed: OverflowError" in caplog.text


def test_a_handler_of_a_stuck_thread_called_after_the_stop_gives_up(monkeypatch, caplog):
    monkeypatch.setattr(pyclick.router, "STOP_TIMEOUT", 0.3)
    RobustStuck.release.clear()
    router = configured_router([("s", "RobustStuck", "")], at="exits.click")
    answers = []
    # The stop comes from outside the router: a stop event of an element (Script's
    # stop) is run by the driver thread, which is the stuck one here.
    stopper = threading.Timer(0.05, router.stop, args=("stopped from outside",))
    stopper.start()

    def read_at_exit() -> None:
        try:
            answers.append(router.handlers.read("s.value"))
        except HandlerError as err:
            answers.append((err.code, err.message))

    try:
        with caplog.at_level(logging.WARNING):
            assert router.run(before_cleanup=read_at_exit, handle_signals=False) == 0
    finally:
        stopper.cancel()
        RobustStuck.release.set()
    assert answers == [(520, "worker thread 0 is stuck in a timer or task")]
    assert "worker thread 0 did not stop within 0.3 s" in caplog.text
