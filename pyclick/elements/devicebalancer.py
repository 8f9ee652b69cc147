"""DeviceBalancer: RSS++ intra-server load balancing of a NIC's indirection table.

The element is glue: every tick it reads the cores' loads and the buckets'
packet counts, asks ``pyclick.balance.Controller`` for a new table, tells
the MANAGER which buckets move (pre_migrate per source core, table write,
post_migrate) and publishes what it did through handlers and observers.
"""

from __future__ import annotations

import glob
import os
import re
from typing import Callable, Sequence

import numpy as np

from pyclick.args import BOOL, ELEMENT, FLOAT, INT, STRING, TIME, UNSIGNED, WORD, Args, Choice
from pyclick.balance import BalanceParams, Controller, Decision, canonical_name
from pyclick.balance.run_stats import RunStatsTable
from pyclick.balance.tables import moves_by_source
from pyclick.element import Element, read_handler, write_handler
from pyclick.errors import ConfigError
from pyclick.record import Recorder, TickRecord
from pyclick.runtime.timers import Timer
from pyclick.seams import BucketCounter, LoadSource, MigrationListener, RssDevice

CYCLES_MODES = ("realcpu", "cycles", "cpu", "queue", "cyclesqueue")
#: Modes measuring the load of the router's own threads.
THREAD_MODES = ("cycles", "cpu")
#: Modes needing the fill level of the device's RX queues.
QUEUE_MODES = ("queue", "cyclesqueue")
#: Methods that weigh buckets and so need RSSCOUNTER.
COUNTING_METHODS = ("rsspp", "rsspp-ref")


def MSEC(text: str, args: Args) -> float:
    """A duration in seconds, where a bare number means milliseconds (Click's TIMER)."""
    if re.fullmatch(r"\s*(\d+\.?\d*|\.\d+)\s*", text):
        return float(text) / 1000.0
    try:
        return TIME(text, args)
    except ValueError:
        raise ValueError("expected milliseconds or a time (e.g. 100, 100ms, 1s)") from None


def given(value, default):
    """``value``, or ``default`` for an argument that failed to parse.

    The parse error is already reported; the stand-in keeps the checks of
    the other arguments meaningful.
    """
    return default if value is None else value


class ThreadBusyLoad:
    """LoadSource over the router's worker threads: busy time of the thread on each CPU."""

    def __init__(self, workers: Sequence[object], now: Callable[[], float]) -> None:
        self.workers = {w.cpu: w for w in workers if getattr(w, "cpu", None) is not None}
        self.now = now
        self.last_time = now()
        self.last_busy = {cpu: w.busy_seconds for cpu, w in self.workers.items()}

    def read_loads(self, cores: Sequence[int]) -> np.ndarray:
        now = self.now()
        elapsed = max(now - self.last_time, 1e-9)
        loads = np.zeros(len(cores))
        for i, cpu in enumerate(cores):
            worker = self.workers.get(cpu)
            if worker is not None:
                busy = worker.busy_seconds
                loads[i] = min(1.0, (busy - self.last_busy.get(cpu, 0.0)) / elapsed)
                self.last_busy[cpu] = busy
        self.last_time = now
        return loads


class DeviceBalancer(Element):
    """DeviceBalancer(METHOD, DEV, KEYWORDS) -- balances a NIC's RSS table among cores (RSS++)

    Description
    Every TIMER, DeviceBalancer reads the load of each core serving DEV's RX
    queues and the packets each RSS bucket received since the last tick
    (from RSSCOUNTER), decides a new indirection table with METHOD, and
    writes it to DEV. When buckets change core it first tells MANAGER, per
    source core, which buckets are leaving (pre_migrate), then writes the
    table, then tells it the moves are live (post_migrate), so that per-flow
    state follows its flows.

    Methods: 'rss' keeps the even table of static RSS; 'rssrr' moves every
    entry to the next core at each tick; 'rsspp' (also 'pianorss', 'rss++')
    is RSS++: it predicts each bucket's load from smoothed packet rates and
    per-core packet costs and moves the few buckets that best relieve
    overloaded cores; 'rsspp-ref' is the original RSS++ decision (its
    greedy and its allowed-overshoot search), kept as a baseline. 'metron'
    needs DPDK flow rules and is refused.

    Queue q of DEV is served by CPU CORE_OFFSET + q. The table names queues
    0 to CPUS-1; STARTCPU of them are in use at start. With AUTOSCALE, a
    core is added when the load would exceed TARGET_LOAD by 10% of a core
    even if spread perfectly, and the least loaded core is removed when the
    others could absorb it with room to spare. The tick starts at TIMER,
    returns to TIMER while cores are imbalanced and doubles while they are
    calm, up to TIMER_MAX. A core that just received buckets is left alone
    for one tick. IMBALANCE_THRESHOLD is the deviation from the average load
    under which a core is considered balanced; IMBALANCE_ALPHA the fraction
    of a core's deviation one tick corrects.

    Load (CYCLES): 'realcpu' is each CPU's busy time from /proc/stat;
    'cycles' and 'cpu' the busy time of the router thread pinned to each
    CPU (StaticThreadSched or -j); 'queue' and 'cyclesqueue' need a device
    that reports its RX queue fill. A device that models its own cores
    (SimNIC) answers every mode with its simulated cores. With TARGET
    balance, loads are taken relative to the average over CPUS cores.

    Keyword arguments
    METHOD -- rss, rssrr, rsspp (pianorss, rss++) or rsspp-ref; mandatory
    DEV -- the device element (FromDevice, SimNIC); mandatory
    CPUS -- cores that may serve queues, default all of DEV's queues
    STARTCPU -- cores in use at start, -1 for CPUS, default -1
    CORE_OFFSET -- CPU number of queue 0, default 0
    TIMER -- shortest tick, milliseconds (or a time such as 10ms), default 100
    TIMER_MAX -- longest tick, default TIMER
    CYCLES -- load measure: realcpu, cycles, cpu, queue or cyclesqueue, default cycles
    TARGET -- load or balance, default load
    AUTOSCALE -- add and remove cores with the load, default false
    ACTIVE -- balance from the start, default true
    VERBOSE -- 0 quiet, 1 log moves, 2 log every tick, default 1
    MANAGER -- element told of migrations (FlowIPManager), default none
    RETA_SIZE -- indirection table size; DEV is resized when it can be, default 128
    MARK -- DPDK flow-rule marking; accepted for compatibility, no effect here, default true
    GROUP -- DPDK flow-rule groups; accepted for compatibility, no effect here, default true
    TARGET_LOAD -- load a core should not exceed (autoscale, dancers), default 0.8
    RSSCOUNTER -- per-bucket counter (XDPLoader, SimCounter); mandatory for rsspp, rsspp-ref
    IMBALANCE_ALPHA -- fraction of the imbalance corrected per tick, default 1
    IMBALANCE_THRESHOLD -- deviation from the average load tolerated, default 0.02
    DANCER -- move a bucket carrying over half a core off a core above TARGET_LOAD, default false
    NUMA -- balance within each NUMA socket first, default false
    RECORD -- file to write one JSON line per tick to (loads, counts, table, moves; see pyclick-plot), default none

    Element handlers
    active (read/write) -- whether the balancer runs
    autoscale (read/write) -- whether cores are added and removed with the load
    cpus (read/write) -- cores in use; write N to bring cores into use up to N
    table (read) -- the indirection table, the queue of each bucket
    load (read) -- 'CORE LOAD' of each core in use at the last tick
    imbalance (read) -- residual imbalance expected after the last tick
    moves (read) -- buckets moved so far, then the last tick's moves as 'BUCKET OLD NEW'
    tick (read) -- current tick, milliseconds
    run_stats (read) -- per solver run: 'RUN COUNT MEAN_SQUARED_IMBALANCE MEAN_USEC'
    run_stats_imbalance_first (read) -- mean squared imbalance of the first run
    run_stats_time_first (read) -- mean duration of the first run, microseconds

    Example
    fd :: SimNIC(CORES 8, RETA_SIZE 128) -> Discard;
    db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu,
                         TIMER 10, TIMER_MAX 1000, TARGET_LOAD 0.75);
    xdp :: SimCounter(DEV fd);
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        method = args.read_mp("METHOD", WORD)
        self.dev = args.read_mp("DEV", ELEMENT)
        cpus = args.read("CPUS", UNSIGNED)
        start = args.read("STARTCPU", INT, -1)
        self.core_offset: int = args.read("CORE_OFFSET", UNSIGNED, 0)
        timer = args.read("TIMER", MSEC, 0.1)
        timer_max = args.read("TIMER_MAX", MSEC)
        self.cycles: str = args.read("CYCLES", Choice(*CYCLES_MODES), "cycles")
        target = args.read("TARGET", Choice("load", "balance"), "load")
        autoscale = args.read("AUTOSCALE", BOOL, False)
        self.active: bool = args.read("ACTIVE", BOOL, True)
        self.verbose: int = args.read("VERBOSE", UNSIGNED, 1)
        self.manager = args.read("MANAGER", ELEMENT)
        reta_size = args.read("RETA_SIZE", UNSIGNED, 128)
        args.read("MARK", BOOL, True)
        args.read("GROUP", BOOL, True)
        target_load = args.read("TARGET_LOAD", FLOAT, 0.8)
        self.counter = args.read("RSSCOUNTER", ELEMENT)
        alpha = args.read("IMBALANCE_ALPHA", FLOAT, 1.0)
        threshold = args.read("IMBALANCE_THRESHOLD", FLOAT, 0.02)
        dancer = args.read("DANCER", BOOL, False)
        numa = args.read("NUMA", BOOL, False)
        self.record_path: str | None = args.read("RECORD", STRING)

        self.method = self._check_method(args, method)
        self._check_roles(args)
        self._cpus_given = cpus is not None
        if cpus is None:
            # Known once DEV can tell its queue count; a stand-in until then.
            cpus = max(start or 1, 1)
        self.params = BalanceParams(
            method=self.method or "rss", reta_size=given(reta_size, 128), cpus=cpus,
            start_cpus=None if start is None or start < 0 else start,
            timer=given(timer, 0.1), timer_max=timer_max, target=given(target, "load"),
            target_load=given(target_load, 0.8), imbalance_alpha=given(alpha, 1.0),
            imbalance_threshold=given(threshold, 0.02), autoscale=bool(autoscale),
            dancer=bool(dancer), numa=bool(numa))
        for keyword, problem in self.params.problems():
            args.error(f"{keyword}: {problem}")
        if start is not None and start < -1:
            args.error(f"STARTCPU: must be -1 (all of CPUS) or a core count, got {start}")
        args.complete()

        self.controller: Controller | None = None
        self.load_source: LoadSource | None = None
        #: True when the load source numbers cores like the table (DEV's own cores).
        self._loads_by_queue = False
        self.last_decision: Decision | None = None
        self.observers: list[Callable[[Decision], None]] = []
        self.total_moves = 0
        #: Table writes done, and ticks skipped because a counter or load read failed.
        self.table_writes = 0
        self.tick_errors = 0
        self.recorder: Recorder | None = None
        self.run_stats = RunStatsTable()
        self._last_tick_time = 0.0
        self._started = False
        self._timer: Timer | None = None

    def _check_method(self, args: Args, method: str | None) -> str | None:
        if method is None:
            return None
        try:
            return canonical_name(method)
        except ValueError as err:
            args.error(f"METHOD: {err}")
            return None

    def _check_roles(self, args: Args) -> None:
        """DEV, RSSCOUNTER and MANAGER must implement their seams."""
        if self.dev is not None and not isinstance(self.dev, RssDevice):
            args.error(f"DEV: '{self.dev.declaration()}' is not an RSS device (it must offer "
                       "reta_size, queue_count, read_table, write_table and hash_key)")
        if self.counter is not None and not isinstance(self.counter, BucketCounter):
            args.error(f"RSSCOUNTER: '{self.counter.declaration()}' does not count packets "
                       "per bucket (it must offer read_counts)")
        if self.counter is None and self.method in COUNTING_METHODS:
            args.error(f"RSSCOUNTER: missing mandatory argument for METHOD {self.method} "
                       "(a per-bucket counter such as XDPLoader or SimCounter)")
        if self.manager is not None and not isinstance(self.manager, MigrationListener):
            args.error(f"MANAGER: '{self.manager.declaration()}' does not take migration "
                       "notices (it must offer init_assignment, pre_migrate and post_migrate)")

    # --- start
    def initialize(self) -> None:
        self.load_source = self._make_load_source()
        if self.record_path is not None:
            try:
                self.recorder = Recorder(self.record_path)
            except OSError as err:
                self._fail(f"RECORD: cannot write '{self.record_path}': {err.strerror}")
        self._timer = Timer(self, self._tick)
        if self._dev_ready():
            self._start()
        else:
            Timer(self, self._start).schedule_after(0.0)
        if self.active:
            self._timer.schedule_after(self.params.timer)

    def _dev_ready(self) -> bool:
        """Whether DEV was initialized before this element (it comes first)."""
        return self._initialized_before(self.dev)

    def _initialized_before(self, element: Element) -> bool:
        """Elements initialize in configuration order: those before this one are ready."""
        elements = self.router.elements
        return elements.index(element) < elements.index(self)

    def _start(self) -> None:
        """Check DEV's table, install the first table and tell MANAGER."""
        if self._started:
            return
        self._check_device()
        self.controller = Controller(self.params)
        table = self.controller.table.copy()
        self.dev.write_table(table)
        if self.manager is not None:
            self.manager.init_assignment(table)
        self._discard_history()
        self._started = True

    def _check_device(self) -> None:
        params, dev = self.params, self.dev
        queues = dev.queue_count()
        if not self._cpus_given:
            params.cpus = queues
            for keyword, problem in params.problems():
                self._fail(f"{keyword}: {problem}")
        elif params.cpus > queues:
            self._fail(f"CPUS: {params.cpus} cores but DEV '{dev.name}' has {queues} queues"
                       + self._queue_hint())
        if dev.reta_size() != params.reta_size:
            self._resize_table()
        if params.numa:
            params.sockets = self._sockets(params.cpus)

    def _queue_hint(self) -> str:
        describe = getattr(self.dev, "describe_queues", None)
        return f" ({describe()})" if describe is not None else ""

    def _resize_table(self) -> None:
        size, have = self.params.reta_size, self.dev.reta_size()
        resize = getattr(self.dev, "set_reta_size", None)
        if resize is None:
            self._fail(f"RETA_SIZE: {size} buckets, but DEV '{self.dev.name}' has a table of "
                       f"{have} buckets and cannot resize it")
        try:
            resize(size)
        except (ValueError, OSError) as err:
            self._fail(f"RETA_SIZE: DEV '{self.dev.name}' cannot resize its table of {have} "
                       f"buckets to {size}: {err}")

    def _sockets(self, cpus: int) -> list[int]:
        """NUMA node of the CPU serving each queue (0 when the system does not say)."""
        own = getattr(self.dev, "core_sockets", None)
        if own is not None:
            return list(own())[:cpus]
        nodes = []
        for q in range(cpus):
            found = glob.glob(f"/sys/devices/system/cpu/cpu{self.core_offset + q}/node*")
            nodes.append(int(os.path.basename(found[0])[4:]) if found else 0)
        return nodes

    def _fail(self, message: str) -> None:
        raise ConfigError(f"While initializing '{self.declaration()}': {message}",
                          self.landmark)

    def _device_loads(self) -> LoadSource | None:
        own = getattr(self.dev, "load_source", None)
        return own(self.cycles) if own is not None else None

    def _make_load_source(self) -> LoadSource:
        source = self._device_loads()
        if source is not None:
            self._loads_by_queue = True
            return source
        if self.cycles == "realcpu":
            from pyclick.kernel.procstat import ProcStatLoad
            return ProcStatLoad()
        if self.cycles in THREAD_MODES:
            workers = getattr(self.router.scheduler, "workers", None)
            pinned = [w for w in workers or () if getattr(w, "cpu", None) is not None]
            if not pinned:
                self._fail(f"CYCLES {self.cycles} needs the busy time of router threads pinned "
                           "to the balanced CPUs (StaticThreadSched or -j); use CYCLES realcpu")
            return ThreadBusyLoad(pinned, self.router.now)
        self._fail(f"CYCLES {self.cycles} needs a device that reports its RX queue fill; "
                   f"DEV '{self.dev.name}' does not (use CYCLES realcpu)")
        raise AssertionError("unreachable")

    def _discard_history(self) -> None:
        """Start the first tick's measurements now, not at some earlier time."""
        self.load_source.read_loads(self._cpu_ids(self.controller.active))
        # A counter declared after this element (the README's XDPLoader) is
        # not running yet: it starts from zero by itself.
        if self.counter is not None and self._initialized_before(self.counter):
            self.counter.read_counts()
        self._last_tick_time = self.router.now()

    def cleanup(self) -> None:
        if self._timer is not None:
            self._timer.unschedule()
        if self.recorder is not None:
            self.recorder.close()

    # --- the tick
    def _cpu_ids(self, queues: Sequence[int]) -> list[int]:
        """What the load source calls the cores serving ``queues``."""
        if self._loads_by_queue:
            return list(queues)
        return [self.core_offset + q for q in queues]

    def _tick(self) -> None:
        if not self.active:
            return
        if not self._started:
            self._start()
        controller = self.controller
        now = self.router.now()
        try:
            loads = self.load_source.read_loads(self._cpu_ids(controller.active))
            counts = self._read_counts()
        except OSError as err:
            # A failed read (a map or /proc/stat momentarily unreadable) costs
            # this tick only; the next one measures from here.
            self.tick_errors += 1
            self.log.warning("tick skipped: %s", err)
            self._last_tick_time = now
            self._timer.schedule_after(controller.tick)
            return
        elapsed = now - self._last_tick_time
        self._last_tick_time = now
        decision = controller.step(loads, counts, elapsed if elapsed > 0 else None)
        self._apply(decision)
        self._publish(decision)
        if self.active:
            self._timer.schedule_after(decision.next_tick)

    def _read_counts(self) -> np.ndarray:
        size = self.params.reta_size
        if self.counter is None:
            return np.zeros(size, dtype=np.int64)
        counts = np.asarray(self.counter.read_counts())
        if counts.shape != (size,):
            raise RuntimeError(f"RSSCOUNTER '{self.counter.name}' reported {counts.size} "
                               f"buckets, the table has {size}")
        return counts

    def _apply(self, decision: Decision) -> None:
        """Migration notices and table write, in the order state migration needs."""
        if not decision.moves:
            return
        if self.manager is not None:
            for source, moves in moves_by_source(decision.moves).items():
                self.manager.pre_migrate(source, moves)
        self.dev.write_table(decision.table)
        self.table_writes += 1
        if self.manager is not None:
            self.manager.post_migrate(decision.moves)

    def _publish(self, decision: Decision) -> None:
        self.last_decision = decision
        self.total_moves += len(decision.moves)
        self.run_stats.add(decision.runs)
        if self.verbose >= 2 or (self.verbose and (decision.moves or decision.added
                                                   or decision.removed)):
            self._log_decision(decision)
        if self.recorder is not None:
            self.recorder.write(TickRecord.of(self.router.now(), decision))
        for observer in self.observers:
            observer(decision)

    def _log_decision(self, decision: Decision) -> None:
        loads = " ".join(f"{x:.2f}" for x in decision.loads)
        text = (f"loads {loads}; {len(decision.moves)} moves; imbalance "
                f"{decision.imbalance:.3f}; next tick {decision.next_tick * 1000:g} ms")
        if decision.added:
            text += f"; added cores {decision.added}"
        if decision.removed:
            text += f"; removed cores {decision.removed}"
        self.log.info("%s", text)

    # --- handlers
    @read_handler("active")
    def _read_active(self) -> str:
        return "true" if self.active else "false"

    @write_handler("active")
    def _write_active(self, value: str) -> None:
        active = BOOL(value.strip(), Args("", self))
        if active and not self.active:
            self._last_tick_time = self.router.now()
            if self._started:
                self._discard_history()
            self._timer.schedule_after(self.controller.tick if self.controller
                                       else self.params.timer)
        elif not active:
            self._timer.unschedule()
        self.active = active

    @read_handler("autoscale")
    def _read_autoscale(self) -> str:
        return "true" if self.params.autoscale else "false"

    @write_handler("autoscale")
    def _write_autoscale(self, value: str) -> None:
        self.params.autoscale = BOOL(value.strip(), Args("", self))

    @read_handler("cpus")
    def _read_cpus(self) -> str:
        cores = self.controller.active if self.controller else []
        return " ".join(str(c) for c in cores)

    @write_handler("cpus")
    def _write_cpus(self, value: str) -> None:
        count = UNSIGNED(value.strip(), Args("", self))
        if self.controller is None:
            raise ValueError("the balancer has not started yet")
        decision = self.controller.set_cpus(count)
        self._apply(decision)
        self._publish(decision)

    @read_handler("table")
    def _read_table(self) -> str:
        table = self.controller.table if self.controller else np.zeros(0, dtype=np.int64)
        return " ".join(str(q) for q in table.tolist())

    @read_handler("load")
    def _read_load(self) -> str:
        d = self.last_decision
        if d is None:
            return ""
        return "".join(f"{core} {load:.4f}\n" for core, load in zip(d.cores, d.loads))

    @read_handler("imbalance")
    def _read_imbalance(self) -> str:
        return "nan" if self.last_decision is None else f"{self.last_decision.imbalance:.6f}"

    @read_handler("moves")
    def _read_moves(self) -> str:
        last = self.last_decision.moves if self.last_decision else []
        return f"{self.total_moves}\n" + "".join(f"{b} {o} {n}\n" for b, o, n in last)

    @read_handler("tick")
    def _read_tick(self) -> str:
        tick = self.controller.tick if self.controller else self.params.timer
        return f"{tick * 1000:g}"

    @read_handler("run_stats")
    def _read_run_stats(self) -> str:
        return self.run_stats.table()

    @read_handler("run_stats_imbalance_first")
    def _read_run_stats_imbalance(self) -> str:
        return f"{self.run_stats.mean_imbalance(0):.6g}"

    @read_handler("run_stats_time_first")
    def _read_run_stats_time(self) -> str:
        return f"{self.run_stats.mean_microseconds(0):.1f}"
