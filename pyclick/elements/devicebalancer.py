"""DeviceBalancer: arguments, wiring and handlers around a BalancerLoop (pyclick.balance.loop)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pyclick.args import BOOL, FILENAME, FLOAT, INT, UNSIGNED, Args, Choice
from pyclick.balance.params import BalanceParams
from pyclick.balance.published import DecisionObserver, LoopCounters
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.argtypes import CORE_COUNT, METHOD, SHARE, TICK, OrValue, Role
from pyclick.elements.loopviews import decision_view, loop_view
from pyclick.errors import ConfigError
from pyclick.runtime.timers import Timer
from pyclick.seams import (CYCLES_MODES, BucketCounter, MigrationListener, MoveListener,
                           RssDevice, TargetListener)

if TYPE_CHECKING:  # the balancing core, numpy and the kernel load when the balancer starts
    from pyclick.balance.controller import Decision
    from pyclick.balance.loop import BalancerLoop, DecisionLog
    from pyclick.record import Recorder


class DeviceBalancer(Element):
    """DeviceBalancer(METHOD, DEV, KEYWORDS) -- balances a NIC's RSS table among cores (RSS++)

    Description
    Every TIMER, DeviceBalancer reads the load of each core serving DEV's RX queues and the
    packets each RSS bucket received since the last tick (from RSSCOUNTER), decides a new
    indirection table with METHOD, and writes it to DEV. When buckets change core it first
    tells MANAGER, per source core, which buckets are leaving (pre_migrate), then writes the
    table, then tells it the moves are live (post_migrate), so that per-flow state follows
    its flows. DEV, RSSCOUNTER and MANAGER start first; the balancer then installs an even table.

    Methods: 'rss' keeps the even table; 'rssrr' moves every entry to the next core at each
    tick; 'rsspp' (also 'pianorss', 'rss++') is RSS++: it predicts each bucket's load from
    smoothed packet rates and per-core packet costs and moves the few buckets that best
    relieve overloaded cores; 'rsspp-ref' is the original RSS++ decision (its greedy and its
    allowed- overshoot search), kept as a baseline. 'metron' needs DPDK flow rules and is
    refused.

    Queue q of DEV is served by CPU CORE_OFFSET + q. The table names queues 0 to CPUS-1;
    STARTCPU of them are in use at start. With AUTOSCALE, a core is added when the load
    would exceed TARGET_LOAD by 10% of a core even if spread perfectly, and the least loaded
    core is removed when the others could absorb it with room to spare. The tick starts at
    TIMER, returns to TIMER while cores are imbalanced and doubles while they are calm, up
    to TIMER_MAX. A core that just received buckets is left alone for one tick.
    IMBALANCE_THRESHOLD is the deviation from the average load under which a core is
    considered balanced; IMBALANCE_ALPHA the fraction of a core's deviation one tick
    corrects. A RETA_SIZE other than DEV's table size needs a DEV that can resize its table
    (SimNIC). With NUMA, each queue's socket comes from DEV when it knows it, else from
    /sys.

    Load (CYCLES): 'realcpu' is each CPU's busy time from /proc/stat; 'cycles' and 'cpu' the
    busy time of the router thread pinned to each CPU (StaticThreadSched or -j); 'queue' and
    'cyclesqueue' need a device that reports its RX queue fill. A device that models its own
    cores (SimNIC) answers every mode with its simulated cores. With TARGET balance, loads
    are taken relative to the average over CPUS cores.

    VERBOSE 1 logs a line for each second of decisions in which buckets moved (how many, in
    how many ticks, the highest and the last imbalance) and one for each change of the cores
    in use; VERBOSE 2 logs every tick. A RECORD that can no longer be written (a full disk)
    ends with an error, and the balancing goes on without it.

    Keyword arguments
    METHOD -- rss, rssrr, rsspp (pianorss, rss++) or rsspp-ref; mandatory
    DEV -- the device element (FromDevice, SimNIC); mandatory
    CPUS -- cores that may serve queues, 1 to 4096, default all of DEV's queues
    STARTCPU -- cores in use at start, 1 to 4096 or -1 for CPUS, default -1
    CORE_OFFSET -- CPU number of queue 0, 0 to 4095, default 0
    TIMER -- shortest tick, milliseconds (or a time such as 10ms), 1 µs to 1 hour, default 100
    TIMER_MAX -- longest tick, 1 µs to 1 hour, default TIMER
    CYCLES -- load measure: realcpu, cycles, cpu, queue or cyclesqueue, default cycles
    TARGET -- load or balance, default load
    AUTOSCALE -- add and remove cores with the load, default false
    ACTIVE -- balance from the start, default true
    VERBOSE -- 0 quiet, 1 log each second's moves and changes of cores, 2 log every tick, default 1
    MANAGER -- element told of migrations (FlowIPManager), default none
    RETA_SIZE -- indirection table size, 1 to 65536; DEV is resized when it can be, default 128
    MARK -- DPDK flow-rule marking; accepted for compatibility, no effect here, default true
    GROUP -- DPDK flow-rule groups; accepted for compatibility, no effect here, default true
    TARGET_LOAD -- load a core should not exceed (autoscale, dancers), above 0 to 1, default 0.8
    RSSCOUNTER -- per-bucket counter (XDPLoader, SimCounter); mandatory for rsspp, rsspp-ref
    IMBALANCE_ALPHA -- fraction of the imbalance corrected per tick, above 0 to 1, default 1
    IMBALANCE_THRESHOLD -- deviation from the average load tolerated, 0 to below 1, default 0.02
    MOVE_COST -- rsspp: relative imbalance^2 x seconds a move must remove, 0 or more, default 0.01
    DANCER -- move a bucket carrying over half a core off a core above TARGET_LOAD, default false
    NUMA -- balance within each NUMA socket first, default false
    RECORD -- file to record each tick to (see pyclick-plot), compact unless named .jsonl, default none
    RECORD_MAX -- bytes after which RECORD is rotated to RECORD.1 (9 kept), up to 2^63-1, 0 never, default 0

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
        method = args.read_mp("METHOD", METHOD)
        self.dev = args.read_mp("DEV", Role(RssDevice, "an RSS device"))
        cpus = args.read("CPUS", CORE_COUNT)
        start = args.read("STARTCPU", OrValue(INT.range(1, 4096), -1), -1)
        self.core_offset: int = args.read("CORE_OFFSET", UNSIGNED.range(0, 4095), 0)
        timer, timer_max = args.read("TIMER", TICK, 0.1), args.read("TIMER_MAX", TICK)
        self.cycles: str = args.read("CYCLES", Choice(*CYCLES_MODES), "cycles")
        target = args.read("TARGET", Choice("load", "balance"), "load")
        autoscale = args.read("AUTOSCALE", BOOL, False)
        self.active: bool = args.read("ACTIVE", BOOL, True)
        self.verbose: int = args.read("VERBOSE", UNSIGNED.range(0, 2), 1)
        self.manager = args.read("MANAGER", Role(MigrationListener, "a migration listener"))
        reta_size = args.read("RETA_SIZE", UNSIGNED.range(1, 65536), 128)
        args.read("MARK", BOOL, True), args.read("GROUP", BOOL, True)
        target_load = args.read("TARGET_LOAD", SHARE, 0.8)
        self.counter = args.read("RSSCOUNTER", Role(BucketCounter, "a bucket counter"))
        alpha = args.read("IMBALANCE_ALPHA", SHARE, 1.0)
        threshold = args.read("IMBALANCE_THRESHOLD", FLOAT.range(0, 1, open_high=True), 0.02)
        move_cost = args.read("MOVE_COST", FLOAT.range(0), BalanceParams.move_cost)
        dancer, numa = args.read("DANCER", BOOL, False), args.read("NUMA", BOOL, False)
        self.record_path, self.record_max = args.read("RECORD", FILENAME), args.read(
            "RECORD_MAX", UNSIGNED.range(0, 2**63 - 1), 0)
        if self.counter is None and method in ("rsspp", "rsspp-ref"):  # they weigh buckets
            args.error(f"RSSCOUNTER: missing mandatory argument for METHOD {method} "
                       "(a per-bucket counter such as XDPLoader or SimCounter)")
        # Without CPUS, DEV's queue count decides at start; a stand-in until then.
        self._cpus_given = cpus is not None
        self.params = BalanceParams(
            method=method or "rss", reta_size=reta_size, cpus=max(start, 1) if cpus is None
            else cpus, start_cpus=None if start < 0 else start, timer=timer,
            timer_max=timer_max, target=target, target_load=target_load, imbalance_alpha=alpha,
            imbalance_threshold=threshold, autoscale=autoscale, dancer=dancer, numa=numa,
            move_cost=move_cost)
        for keyword, problem in self.params.problems():
            args.error(f"{keyword}: {problem}")
        self.observers: list[DecisionObserver] = []
        self.loop: BalancerLoop | None = None
        self.recorder: Recorder | None = None
        self.decision_log: DecisionLog | None = None
        self._timer = Timer(self, self._tick)

    # --- start: DEV, RSSCOUNTER and MANAGER are initialized already
    def initialize(self) -> None:
        from pyclick.balance import Controller
        from pyclick.balance.fit import DeviceMismatch, fit_to_device
        from pyclick.balance.loop import BalancerLoop, DecisionLog
        from pyclick.kernel.topology import cpu_nodes
        from pyclick.record import Recorder
        from pyclick.runtime.loads import NoLoadSource, load_source
        offset = self.core_offset
        try:
            fit_to_device(self.params, self.dev, self.dev.name, cpus_given=self._cpus_given,
                          cpu_sockets=lambda n: cpu_nodes(range(offset, offset + n)))
            loads, offset = load_source(self.cycles, self.dev, self.dev.name, offset,
                                        self.router.worker_threads(), self.router.now)
        except (DeviceMismatch, NoLoadSource) as err:
            self._fail(str(err))
        self.loop = BalancerLoop(Controller(self.params), self.dev, self.counter, loads,
                                 self.manager, core_offset=offset, observers=self.observers,
                                 log=self.log)
        self.decision_log = DecisionLog(self.log, self.verbose)
        self.subscribe(self.decision_log)
        if self.record_path is not None:
            try:
                self.recorder = Recorder(self.record_path, self.router.now, self.dev,
                                         self.params.target_load, self.record_max)
            except OSError as err:
                self._fail(f"RECORD: cannot write '{self.record_path}': {err.strerror}")
            self.subscribe(self._record)
        if isinstance(self.dev, TargetListener):
            self.dev.target_load_set(self.name, self.params.target_load)
        if isinstance(self.dev, MoveListener):
            self.dev.moves_applied(self.name, 0)
            self.subscribe(lambda decision: self.dev.moves_applied(self.name, len(decision.moves)))
        self.loop.start(self.router.now())
        if self.active:
            self._timer.schedule_after(self.params.timer)

    def _fail(self, message: str) -> None:
        raise ConfigError(f"While initializing '{self.declaration()}': {message}", self.landmark)

    def cleanup(self) -> None:
        self._timer.unschedule()
        if self.decision_log is not None:
            self.decision_log.flush()
        self._stop_recording()

    def _record(self, decision: Decision) -> None:
        """Record one decision. The recording observes the balancer and must not
        stop it: one that fails (a full disk, a vanished directory) ends there."""
        if self.recorder is None:
            return
        try:
            self.recorder(decision)
        except OSError as err:
            self._stop_recording(err, "; the balancing goes on without it")

    def _stop_recording(self, failure: OSError | None = None, then: str = "") -> None:
        """Close the recording; after ``failure`` (or a failing close), say it stopped,
        and ``then`` what happens next."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        try:
            recorder.close()
        except OSError as err:
            failure = failure or err
        if failure is not None:
            self.log.error("RECORD: cannot write '%s': %s; the recording ends here%s",
                           self.record_path, failure.strerror or failure, then)

    def _tick(self) -> None:
        if self.active:
            self.loop.tick(self.router.now())
            self._timer.reschedule_after(self.loop.controller.tick)

    # --- what the elements that follow the balancer see (pyclick.balance.loop.Balancer)
    def device_name(self) -> str:
        return self.dev.name

    def balances(self, device: object) -> bool:  # seams.TableBalancer
        return device is self.dev

    def subscribe(self, observer: DecisionObserver) -> None:
        self.observers.append(observer)

    def counters(self) -> LoopCounters:
        return replace(self.loop.counters) if self.loop else LoopCounters()

    # --- handlers: the read handlers declared as a table, as Click's add_handlers() does
    _read_active = read_handler("active")(lambda self: "true" if self.active else "false")
    _read_autoscale = read_handler("autoscale")(lambda self: str(self.params.autoscale).lower())
    _read_tick = read_handler("tick")(lambda self: "{:g}".format(
        1000 * (self.loop.controller.tick if self.loop else self.params.timer)))
    _read_cpus = loop_view("cpus", lambda loop: " ".join(map(str, loop.controller.active)))
    _read_table = loop_view("table", lambda loop: " ".join(map(str, loop.controller.table)))
    _read_load = decision_view("load", lambda last, _: "".join(
        f"{core} {load:.4f}\n" for core, load in zip(last.cores, last.loads)))
    _read_imbalance = decision_view("imbalance", lambda last, _: f"{last.imbalance:.6f}", "nan")
    _read_moves = decision_view("moves", lambda last, loop: f"{loop.counters.moves}\n" + "".join(
        f"{bucket} {old} {new}\n" for bucket, old, new in last.moves), "0\n")
    _read_run_stats = loop_view("run_stats", lambda loop: loop.run_stats.table())
    _read_run_stats_imbalance = loop_view(
        "run_stats_imbalance_first", lambda loop: f"{loop.run_stats.mean_imbalance(0):.6g}", "nan")
    _read_run_stats_time = loop_view(
        "run_stats_time_first", lambda loop: f"{loop.run_stats.mean_microseconds(0):.1f}", "nan")

    @write_handler("active")
    def _write_active(self, value: str) -> None:
        active = BOOL(value.strip(), Args("", self))
        if active and not self.active and self.loop is not None:
            self.loop.resume(self.router.now())
            self._timer.schedule_after(self.loop.controller.tick)
        elif not active:
            self._timer.unschedule()
        self.active = active

    @write_handler("autoscale")
    def _write_autoscale(self, value: str) -> None:
        self.params.autoscale = BOOL(value.strip(), Args("", self))

    @write_handler("cpus")
    def _write_cpus(self, value: str) -> None:
        count = UNSIGNED(value.strip(), Args("", self))
        if self.loop is None:
            raise ValueError("the balancer has not started yet")
        self.loop.set_cpus(count)
