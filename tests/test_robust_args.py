"""Every keyword of every element, given hostile values and values from its declared range.

Each element class starts from a configuration that configures: its
manual's example, or one of BASE_CONFIGS below where the example cannot run
here. Then, keyword by keyword (every keyword its ``configure`` reads, as
``Args.declared`` records it), the value is replaced by each of BAD_VALUES
(huge, negative, infinite, NaN, empty, not a number, very long) and, for a
number with a declared range, by values drawn from that range (hypothesis).
The verdict for each value:

- accepted, or refused with a ConfigError naming the keyword, whose lines
  stay short (long values are shortened);
- never another exception (a traceback), never more than LIMIT_SECONDS,
  never more than LIMIT_MB of memory.

Configuring happens in a worker process (``python -m tests.test_robust_args
worker``) with its address space limited, so that a value that would
allocate gigabytes fails the test instead of the machine; a worker that
hangs or dies is killed (by its PID) and started again.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyclick.args import Args, ListOf, Number
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.registry import Registry
from pyclick.router import Router
from tests.helpers import manual_example

REPO = Path(__file__).resolve().parent.parent

#: One configure with one value: at most this long, this much memory.
LIMIT_SECONDS = 5.0
LIMIT_MB = 500
#: The worker's address space beyond what it uses once started.
WORKER_HEADROOM_MB = 1500
#: Longest line of an error message (landmark, declaration, keyword, shortened value).
LONGEST_MESSAGE = 400

#: Thirty values no numeric keyword should take blindly.
BAD_VALUES = [
    "", " ", "-1", "-0", "-1e9", "-0.5", "0", "1e999", "-1e999", "inf", "-inf", "Infinity",
    "nan", "NaN", "9" * 30, "9" * 5000, "18446744073709551616", "2147483648", "1e308",
    "1e-12", "1e-999", "abc", "0x", "1.2.3", "--1", "\u00b2", "\u0661\u0662", "5 6", "x" * 100_000,
    "\x00",
]
assert len(BAD_VALUES) == 30

#: Where an element's manual example needs what a test machine does not have (or is
#: only a fragment), the configuration its keywords are tried from.
BASE_CONFIGS = {
    "FlowIPManager": "Idle -> fim :: FlowIPManager(RETA_SIZE 128, TIMEOUT 30s) -> Discard;",
    "StaticThreadSched": "a :: Idle -> Discard; StaticThreadSched(a 0);",
    "EtherMirror": "Idle -> EtherMirror -> Discard;",
    "Strip": "Idle -> Strip(14) -> Discard;",
}


# --- the worker: configures one element again and again --------------------------------

class Overtime(BaseException):
    """A configure took longer than LIMIT_SECONDS (raised by SIGALRM)."""


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


class _Worker:
    def __init__(self) -> None:
        self.classes = {name: cls for name, cls in Registry().all_classes().items()
                        if cls.__module__.startswith("pyclick.elements.")}
        self.bases: dict[str, Any] = {}

    def base(self, name: str) -> Any:
        """The configured router holding an element of class ``name``, and that element."""
        if name not in self.bases:
            cls = self.classes[name]
            text = BASE_CONFIGS.get(name) or manual_example(cls)
            if text is None:
                raise LookupError(f"{name}: its manual has no Example section")
            router = Router(flatten(text, filename=f"{name}-example"))
            router.configure()
            element = next((e for e in router.elements if type(e) is cls), None)
            if element is None:
                raise LookupError(f"{name}: the example does not declare one")
            self.bases[name] = (router, element)
        return self.bases[name]

    def describe(self, name: str) -> dict[str, Any]:
        try:
            _, element = self.base(name)
        except Exception as err:  # the answer is the problem itself
            return {"problem": f"{type(err).__name__}: {err}"}
        args = Args(element.config, element)
        element.configure(args)
        keys = []
        for key, kind in args.declared.items():
            number = kind.item_type if isinstance(kind, ListOf) else kind
            entry: dict[str, Any] = {"key": key, "type": repr(kind), "list": kind is not number}
            if isinstance(number, Number):
                entry["number"] = {"integral": number.name in ("INT", "UNSIGNED"),
                                   "time": bool(number.unit), "declared": number.declared,
                                   "low": number.low, "high": number.high,
                                   "open_low": number.open_low, "open_high": number.open_high}
            keys.append(entry)
        return {"keys": keys}

    def attempt(self, name: str, key: str, value: str) -> dict[str, Any]:
        _, element = self.base(name)
        args = SubstitutingArgs(element.config, element, key, value)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets the peak resident size
        before = _status_kb("VmRSS")
        outcome, detail = "accepted", []
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, LIMIT_SECONDS)
        try:
            element.configure(args)
            args.complete()
        except ConfigError as err:
            outcome, detail = "refused", err.messages
        except Overtime:
            outcome, detail = "failed", [f"over {LIMIT_SECONDS:g} s"]
        except Exception as err:
            # As the router does: a bad argument read as None may break the
            # code after it, and the argument's own error is then the cause.
            if args.errors:
                outcome, detail = "refused", list(args.errors)
            else:
                outcome = "failed"
                detail = traceback.format_exception_only(type(err), err)[-1:]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        seconds = time.perf_counter() - start
        grown = max(0, _status_kb("VmHWM") - before) // 1024
        return {"outcome": outcome, "detail": [d[:2000] for d in detail],
                "seconds": seconds, "grown_mb": grown}


class SubstitutingArgs(Args):
    """Args that read ``text`` for ``key``, whatever the configuration says.

    The configuration's own argument for ``key``, if any, is consumed (so
    that it is neither "too many" nor shifts the positions) and ignored.
    """

    def __init__(self, config: str, element: Any, key: str, text: str) -> None:
        super().__init__(config, element)
        self.key, self.text = key, text

    def _swap(self, key: str, kind: Any, bounds: Any, value: Any) -> Any:
        if key != self.key:
            return value
        if bounds is not None:
            kind = kind.range(*bounds)
        return self.convert(key, self.text, kind)

    def read_mp(self, key, type, *, range=None):
        return self._swap(key, type, range, super().read_mp(key, type, range=range))

    def read_p(self, key, type, default=None, *, range=None):
        return self._swap(key, type, range, super().read_p(key, type, default, range=range))

    def read_m(self, key, type, *, range=None):
        return self._swap(key, type, range, super().read_m(key, type, range=range))

    def read(self, key, type, default=None, *, range=None):
        return self._swap(key, type, range, super().read(key, type, default, range=range))

    def read_all(self, key, type):
        values = super().read_all(key, type)
        if key != self.key:
            return values
        value = self.convert(key, self.text, type)
        return [] if value is None else [value]


def _worker_main() -> None:
    reply = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever an element prints stays off the replies
    sys.stdout = sys.stderr

    def overtime(signum: int, frame: Any) -> None:
        raise Overtime()

    signal.signal(signal.SIGALRM, overtime)
    worker = _Worker()
    limit = (_status_kb("VmSize") // 1024 + WORKER_HEADROOM_MB) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    reply.write(json.dumps({"ready": sorted(worker.classes)}) + "\n")
    reply.flush()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "describe":
            answer: Any = worker.describe(request["cls"])
        else:
            answer = [worker.attempt(request["cls"], request["key"], v)
                      for v in request["values"]]
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


# --- the test side ------------------------------------------------------------------

@dataclass
class Verdict:
    value: str
    outcome: str
    detail: list[str]
    seconds: float = 0.0
    grown_mb: int = 0


class WorkerProcess:
    """The worker, started on demand, killed (by PID) and restarted when it hangs or dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.classes: list[str] = []
        self.tried = 0

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.test_robust_args", "worker"],
                                     cwd=REPO, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.classes = self._answer(60.0)["ready"]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def _answer(self, timeout: float) -> Any:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            raise TimeoutError(f"no answer within {timeout:g} s (worker killed)")
        return json.loads(line)

    def ask(self, request: dict[str, Any], timeout: float) -> Any:
        if self.proc is None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        return self._answer(timeout)

    def describe(self, cls: str) -> dict[str, Any]:
        return self.ask({"op": "describe", "cls": cls}, 60.0)

    def attempt(self, cls: str, key: str, values: list[str]) -> list[Verdict]:
        self.tried += len(values)
        try:
            answers = self.ask({"op": "attempt", "cls": cls, "key": key, "values": values},
                               LIMIT_SECONDS * len(values) + 30.0)
        except (TimeoutError, OSError, ValueError) as err:
            if len(values) == 1:
                return [Verdict(values[0], "failed", [f"worker lost: {err}"])]
            # Find which value it was, one at a time.
            return [v for value in values for v in self.attempt(cls, key, [value])]
        return [Verdict(value, **answer) for value, answer in zip(values, answers)]


@pytest.fixture(scope="module")
def worker():
    process = WorkerProcess()
    process.start()
    yield process
    process.stop()


def element_classes() -> list[str]:
    return sorted(name for name, cls in Registry().all_classes().items()
                  if cls.__module__.startswith("pyclick.elements."))


def shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + f"...({len(value)})")


def problems_of(cls: str, key: str, verdict: Verdict, in_range: bool = False) -> list[str]:
    """What is wrong with one verdict (nothing when it is as it should be)."""
    where = f"{cls} {key} {shown(verdict.value)}"
    found = []
    if verdict.outcome == "failed":
        found.append(f"{where}: {' '.join(verdict.detail).strip()}")
    if verdict.seconds > LIMIT_SECONDS:
        found.append(f"{where}: took {verdict.seconds:.1f} s")
    if verdict.grown_mb > LIMIT_MB:
        found.append(f"{where}: grew by {verdict.grown_mb} MB")
    if verdict.outcome == "refused":
        if not any(re.search(rf"\b{re.escape(key)}\b", line) for line in verdict.detail):
            found.append(f"{where}: refused without naming {key}: {verdict.detail[:2]}")
        long_lines = [line for line in verdict.detail if len(line) > LONGEST_MESSAGE]
        if long_lines:
            found.append(f"{where}: a message of {len(long_lines[0])} characters")
        if in_range and any(f"{key}: must be" in line for line in verdict.detail):
            found.append(f"{where}: in the declared range, yet refused: {verdict.detail}")
    return found


CLASSES = element_classes()


@pytest.mark.parametrize("cls", CLASSES)
def test_every_element_has_a_configuration_to_start_from(worker, cls):
    description = worker.describe(cls)
    assert "problem" not in description, description.get("problem")


@pytest.mark.parametrize("cls", CLASSES)
def test_thirty_bad_values_for_every_keyword(worker, cls):
    description = worker.describe(cls)
    if "problem" in description:
        pytest.fail(description["problem"])
    found = []
    for entry in description["keys"]:
        for verdict in worker.attempt(cls, entry["key"], BAD_VALUES):
            found += problems_of(cls, entry["key"], verdict)
    assert found == []


def test_every_numeric_keyword_declares_its_range(worker):
    missing = []
    for cls in CLASSES:
        for entry in worker.describe(cls).get("keys", []):
            if "number" in entry and not entry["number"]["declared"]:
                missing.append(f"{cls} {entry['key']} ({entry['type']})")
    assert missing == []


def in_range(number: dict[str, Any]) -> st.SearchStrategy[str]:
    """Texts of values inside a declared range (a side left open is capped for the test)."""
    low, high = number["low"], number["high"]
    if number["integral"]:
        low = -10**6 if low is None else int(low) + (1 if number["open_low"] else 0)
        high = low + 10**6 if high is None else int(high) - (1 if number["open_high"] else 0)
        return st.integers(low, high).map(str)
    low = 0.0 if low is None and number["time"] else -1e6 if low is None else low
    high = low + 1e6 if high is None else high
    values = st.floats(low, high, exclude_min=number["open_low"],
                       exclude_max=number["open_high"], allow_nan=False, allow_infinity=False)
    return values.map(lambda x: f"{x!r}s" if number["time"] else repr(x))


@pytest.mark.parametrize("cls", CLASSES)
def test_values_from_each_declared_range(worker, cls):
    ranged = [entry for entry in worker.describe(cls).get("keys", [])
              if "number" in entry and entry["number"]["declared"] and not entry["list"]]
    if not ranged:
        return

    @settings(max_examples=15 * len(ranged), deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def check(data: st.DataObject) -> None:
        entry = data.draw(st.sampled_from(ranged))
        value = data.draw(in_range(entry["number"]))
        verdict = worker.attempt(cls, entry["key"], [value])[0]
        assert problems_of(cls, entry["key"], verdict, in_range=True) == []

    check()


if __name__ == "__main__" and sys.argv[1:] == ["worker"]:
    _worker_main()
