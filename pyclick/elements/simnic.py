"""SimNIC and SimCounter: a simulated RSS NIC and its per-bucket counter.

They stand in for FromDevice and XDPLoader so that DeviceBalancer runs,
unchanged, without root, hardware or real traffic: the whole router runs in
simulated time and the NIC model (``pyclick.sim``) plays the traffic, the
indirection table, the queues and the cores.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from pyclick.args import (BOOL, BYTES, ELEMENT, FILENAME, FLOAT, STRING, TIME, UNSIGNED, Args,
                          Choice, shorten)
from pyclick.element import Element, read_handler, write_handler
from pyclick.elements.argtypes import CORE_COUNT, OrValue
from pyclick.rss.keys import MICROSOFT_KEY
from pyclick.runtime.timers import Timer
from pyclick.seams import CYCLES_MODES
from pyclick.sim.families import BY_NAME, DEFAULT_FAMILY, family_config
from pyclick.sim.heap import keep_freed_heap
from pyclick.sim.profile import LoadProfile, parse_profile
from pyclick.sim.progress import Progress, SilentProgress, progress_bar
from pyclick.sim.trafficconfig import TrafficConfig

# The model and its numpy load when the router first needs the NIC, not when
# a configuration is only checked.
if TYPE_CHECKING:
    import numpy as np

    from pyclick.sim.nic import SimulatedNIC
    from pyclick.sim.traffic import PcapTraffic

#: Indirection table sizes real NICs offer.
MIN_RETA_SIZE = 64
MAX_RETA_SIZE = 2048
#: The longest hash input, an IPv6 4-tuple, needs a key this long.
MIN_KEY_BYTES = 40
#: Per-core capacity (packets/s) and offered load (fraction of all cores) by default.
DEFAULT_CAPACITY = 1_000_000.0
DEFAULT_LOAD = 0.6
#: A progress line every PROGRESS, at least 10 ms apart (0: none).
PROGRESS = OrValue(TIME.range(0.01, 86400), 0)


def _divides_second(step: float) -> bool:
    return abs(round(1.0 / step) * step - 1.0) < 1e-9


class SimNIC(Element):
    """SimNIC(CORES, RETA_SIZE, CAPACITY, LOAD, RATE, TRAFFIC, PROFILE, FLOWS, ELEPHANTS, SEED, DURATION, PCAP, SHIFT_AT, STEP, ...) -- a simulated RSS NIC and its cores

    Description
    Simulates a multi-queue NIC with an RSS indirection table of RETA_SIZE
    buckets, one RX queue per core, and CORES cores that each serve up to
    CAPACITY packets per second from a queue of QUEUE packets; what a full
    queue cannot take is dropped. Each packet's bucket is its Toeplitz hash
    (under KEY) modulo RETA_SIZE, and the table names the queue, so the
    core, of every bucket. SimNIC takes the place of FromDevice: give it
    to DeviceBalancer as DEV, and a SimCounter on it as RSSCOUNTER.

    The traffic is synthetic unless PCAP is given: about FLOWS concurrent
    flows arriving as a Poisson process, with Pareto-distributed rates and
    short lives, plus ELEPHANTS long, bursty elephant flows; at SHIFT_AT
    every elephant is replaced by a new one at once. Together they offer
    RATE packets per second, or LOAD times the capacity of all cores. With
    an even table on 8 cores and 128 buckets the default traffic's median
    per-second imbalance, (max - min) / min of the per-core packet counts,
    is 40 to 55% depending on SEED, as on the campus trace of the RSS++
    paper. SEED makes every run of a configuration identical.

    TRAFFIC picks a family of synthetic traffic (FLOWS, ELEPHANTS and
    SHIFT_AT, when given, replace the family's own):

    campus: the default described above;
    shift: 20,000 flows with log-normal rates and heavy-tailed lives, plus
    six steady elephants (12% of the load) all replaced half-way through
    the run;
    onoff: 30,000 short-lived mice with Pareto rates, plus ten elephants
    (20% of the load) that live the whole run, switching on and off;
    steady: 1,000 flows with log-normal rates that live the whole run, no
    elephants;
    dense: 100,000 flows living a second on average, 32 strongly bursting
    elephants, fast and deep flicker of every bucket.

    PROFILE scales the offered rate over time, as a list of points 'TIME
    LEVEL' separated by commas: the level (a factor of the rate) holds
    from each point to the next, or ramps linearly to the next point's
    when the point ends with 'ramp'; 'day PERIOD [LOW HIGH]' compresses a
    day of traffic into PERIOD, between LOW and HIGH (default 0.2 and 1).
    With 'PROFILE "0s 0.2, 10s 0.8 ramp, 20s 0.3"' the rate is 0.2 times
    RATE for ten seconds, then falls linearly from 0.8 to 0.3 times at 20s.

    With PCAP the file's packets are replayed instead (classic pcap; SPEEDUP
    divides its inter-packet times). The capture is read and hashed as
    simulated time advances, never whole; a damaged record stops the run
    with the file's name and byte offset when the replay reaches it.

    A configuration with a SimNIC runs in simulated time, wherever the
    SimNIC is declared: timers fire in order without waiting, so a minute
    of traffic takes a second or two. The model moves in steps of STEP; it
    is brought up to date whenever the balancer reads or writes it and at
    least every PROGRESS. Every PROGRESS of simulated time SimNIC prints a
    line with each core's load, the imbalance, the drops and the buckets
    moved so far, and for each DeviceBalancer of its table the buckets that
    balancer moved. When standard error is a terminal and QUIET is false, a
    bar there shows the simulated time done and the time left.

    Each packet's latency is its queueing delay plus its service, from its
    arrival to the end of its service, as the RSS++ paper measures it: each
    core serves its queue first in, first out, one packet every 1 /
    CAPACITY seconds; within a step the packets arrive evenly spaced, so a
    core fed below its capacity serves every packet in one service time,
    and a core fed beyond it queues them, up to QUEUE / CAPACITY seconds
    of wait, then drops. The delays are gathered in histograms with bins
    1% apart, whatever the length of the run.

    The imbalance of a second, (max - min) / min of per-core packets, is
    taken over the cores in use in it: those the table named throughout
    the second (a core DeviceBalancer's AUTOSCALE leaves idle, adds or
    removes does not count). Beside the run, the same arrivals meet a
    static RSS table, even over as many cores, with queues of its own:
    the baseline of the summary.

    After DURATION SimNIC prints a summary and stops the router: mean load
    per core; median and 95th percentile of the per-second imbalance, the
    50th, 95th and 99th percentiles of the latency (µs) and the share of
    packets dropped, for the run and for the static table; the buckets
    moved. When a DeviceBalancer balances the table, the summary also
    gives the cores in use against the ideal, the fewest cores that would
    keep the offered load under its TARGET_LOAD (ceil(offered / (TARGET_LOAD
    x CAPACITY)) each second, at most CORES): their mean, the core-seconds used over the
    ideal ones and how many times a core was added or removed. These
    cover the complete simulated seconds; what arrived after the last of
    them (a capture's replay ends within a second) is counted on a line of
    its own. The last ten minutes are kept second by second; the whole run in running sums
    and histograms, so that a run of days takes no more memory than one of
    minutes.

    No packet is pushed out of output 0, which may stay unconnected or go
    to Discard: the model counts packets per bucket and per core instead of
    making Packet objects, which is what makes long runs fast. With PACKETS
    true, SimNIC also emits every simulated packet (with its 5-tuple flow,
    RSS hash, timestamp and, in the 'rx_queue' annotation, the queue the
    table sent it to), one batch per STEP; keep RATE modest then.

    Keyword arguments
    CORES -- simulated cores, one RX queue each, 1 to 4096, default 8
    RETA_SIZE -- buckets in the indirection table, 64 to 2048, default 128
    KEY -- Toeplitz key (hex, at least 40 bytes), default the Microsoft verification key
    CAPACITY -- packets per second one core can process, above 0 to 1e9, default 1000000
    LOAD -- offered load as a fraction of the capacity of all cores, above 0 to 10, default 0.6
    RATE -- offered load in packets per second (instead of LOAD), above 0 to 1e10
    QUEUE -- RX queue length in packets, 1 to 2^24, default 1024
    TRAFFIC -- family of synthetic traffic: campus, shift, onoff, steady or dense; default campus
    PROFILE -- offered rate over time, as a factor of RATE (see above); default constant
    FLOWS -- mean number of concurrent (mouse) flows, 1 to 10^6, default the family's (campus: 8000)
    ELEPHANTS -- number of concurrent elephant flows, 0 to 10^4, default the family's (campus: 16)
    SEED -- random seed, 0 to 2^64-1, default 1
    SHIFT_AT -- simulated time when all elephant flows change, 0 to 10^6 s, default never
    PCAP -- replay this classic pcap file instead of synthetic traffic
    SPEEDUP -- PCAP: replay speed factor, above 0 to 10^6, default 1
    DURATION -- simulated time to run, then stop, up to 10^7 s; 0 = until stopped; default 60s or PCAP's length (from its first to its last packet, found at the end of the file)
    STEP -- simulation step, dividing 1 second, 1 µs to 1 s, default 1ms
    PROGRESS -- interval between progress lines, 10 ms to 1 day, 0 for none, default 1s
    QUIET -- print neither progress lines nor the summary, default false
    PACKETS -- also emit every packet on output 0, default false

    Element handlers
    stats (read) -- summary of the run so far
    imbalance (read) -- (max - min) / min of per-core packets in the last complete second, over the cores in use
    loads (read) -- each core's busy fraction in the last complete second
    drops (read) -- packets dropped since the start
    latency (read) -- 'p50 X p95 Y p99 Z': percentiles of the latency of every packet since the start, µs
    table (read/write) -- the indirection table, the core of each bucket
    counts (read) -- packets per bucket since the start
    time (read) -- simulated time reached, seconds

    Example
    fd :: SimNIC(CORES 8, RETA_SIZE 128, DURATION 30) -> Discard;
    db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu);
    xdp :: SimCounter(DEV fd);
    """

    port_count = "0/0-1"
    simulated_time = True

    def configure(self, args: Args) -> None:
        self.cores: int = args.read("CORES", CORE_COUNT, 8)
        reta_size: int = args.read("RETA_SIZE", UNSIGNED, 128,
                                   range=(MIN_RETA_SIZE, MAX_RETA_SIZE))
        self.key: bytes = args.read("KEY", BYTES, MICROSOFT_KEY)
        capacity: float = args.read("CAPACITY", FLOAT.range(0, 1e9, open_low=True),
                                    DEFAULT_CAPACITY)
        load: float | None = args.read("LOAD", FLOAT.range(0, 10, open_low=True))
        rate: float | None = args.read("RATE", FLOAT.range(0, 1e10, open_low=True))
        queue: int = args.read("QUEUE", UNSIGNED.range(1, 2**24), 1024)
        family: str | None = args.read("TRAFFIC", Choice(*BY_NAME))
        profile_text: str | None = args.read("PROFILE", STRING)
        flows: int | None = args.read("FLOWS", UNSIGNED.range(1, 10**6))
        elephants: int | None = args.read("ELEPHANTS", UNSIGNED.range(0, 10**4))
        seed: int = args.read("SEED", UNSIGNED.range(0, 2**64 - 1), 1)
        shift_at: float | None = args.read("SHIFT_AT", TIME.range(0, 1e6))
        pcap: str | None = args.read("PCAP", FILENAME)
        speedup: float = args.read("SPEEDUP", FLOAT.range(0, 1e6, open_low=True), 1.0)
        duration: float | None = args.read("DURATION", TIME.range(0, 1e7))
        self.step: float = args.read("STEP", TIME.range(1e-6, 1), 0.001)
        self.progress: float = args.read("PROGRESS", PROGRESS, 1.0)
        self.quiet: bool = args.read("QUIET", BOOL, False)
        self.emit_packets: bool = args.read("PACKETS", BOOL, False)
        self._check(args, load, rate, pcap, shift_at)
        if pcap is not None and (family is not None or profile_text is not None):
            args.error("TRAFFIC and PROFILE apply to synthetic traffic, not to PCAP")
        profile = self._profile(args, profile_text)
        args.complete()
        if rate is None:
            rate = (DEFAULT_LOAD if load is None else load) * capacity * self.cores
        if duration is None and pcap is None:
            duration = 60.0
        self._config: TrafficConfig = family_config(
            family or DEFAULT_FAMILY, seed=seed, rate_pps=rate, flows=flows, elephants=elephants,
            shift_at=shift_at, duration=duration or 0.0, profile=profile)
        self._replay: PcapTraffic | None = None
        if pcap is not None:
            # A capture is opened now, so that a missing or damaged file is a
            # configuration error; synthetic traffic is only checked.
            self._replay = self._open_capture(args, pcap, speedup, reta_size)
            if duration is None and self._replay is not None:
                # A replay ends one step after its last packet, so that it is counted.
                duration = self._capture_length(args, self._replay) + self.step
        else:
            try:
                self._config.validate()
            except ValueError as err:
                args.error(str(err))
        args.complete()
        self.duration = duration
        self._reta_size = reta_size
        self._capacity = capacity
        self._queue = queue
        self._seed = seed
        self._bar: Progress = SilentProgress()
        self._timer: Timer | None = None
        #: Buckets moved by each balancer of this table, as they announce them.
        self.balancer_moves: dict[str, int] = {}

    @cached_property
    def nic(self) -> SimulatedNIC:
        """The NIC model, made when the router first needs it."""
        from pyclick.sim.nic import SimulatedNIC
        from pyclick.sim.traffic import TrafficGenerator

        traffic = self._replay if self._replay is not None else \
            TrafficGenerator(self._config, self.key, self._reta_size)
        nic = SimulatedNIC(self.cores, self._reta_size, traffic, self._capacity, self._queue,
                           self.key, self.step, seed=self._seed)
        #: The cores the table named at every write since the last progress line.
        self._named = nic.named_cores()
        return nic

    def _check(self, args: Args, load: float | None, rate: float | None, pcap: str | None,
               shift_at: float | None) -> None:
        """Report every clashing argument (the ranges are the types')."""
        if self.key is not None and len(self.key) < MIN_KEY_BYTES:
            args.error(f"KEY: must have at least {MIN_KEY_BYTES} bytes, got {len(self.key)}")
        if load is not None and rate is not None:
            args.error("LOAD and RATE are mutually exclusive")
        if pcap is not None and shift_at is not None:
            args.error("SHIFT_AT applies to synthetic traffic, not to PCAP")
        if self.step is not None and not _divides_second(self.step):
            args.error(f"STEP: must divide one second evenly, got {self.step:g}s")

    @staticmethod
    def _profile(args: Args, text: str | None) -> LoadProfile | None:
        if text is None:
            return None
        try:
            return parse_profile(text)
        except ValueError as err:
            # The message quotes the point it could not read, which may be long.
            args.error(f"PROFILE: {shorten(str(err), 200)}")
        return None

    def _capture_length(self, args: Args, traffic: PcapTraffic) -> float:
        """The replay's length; a bar shows the file being read when its end must be found
        by walking the records."""
        from pyclick.sim.pcap import PcapError

        bar = progress_bar(traffic.size, f"{self.name}: reading {traffic.path.name}", "B",
                           shown=not self.quiet)
        try:
            return traffic.capture_length(bar.advance_to)
        except PcapError as err:
            args.error(f"PCAP: {err}")
            return 0.0
        finally:
            bar.close()

    def _open_capture(self, args: Args, pcap: str, speedup: float,
                      reta_size: int) -> PcapTraffic | None:
        from pyclick.sim.pcap import PcapError
        from pyclick.sim.traffic import PcapTraffic

        try:
            return PcapTraffic(pcap, self.key, reta_size, speedup)
        except OSError as err:
            args.error(f"PCAP: cannot read '{shorten(pcap)}': {err.strerror}")
        except (PcapError, ValueError) as err:
            args.error(f"PCAP: {err}")
        return None

    def initialize(self) -> None:
        # The model makes and drops arrays of megabytes every simulated second.
        keep_freed_heap()
        self._summary_printed = False
        self._bar = progress_bar(self.duration if self.duration > 0 else None, self.name,
                                 "simulated s", shown=not self.quiet)
        self._last_progress = self._snapshot()
        self._timer = Timer(self, self._on_timer)
        self._timer.schedule_at(self._next_wakeup())

    def cleanup(self) -> None:
        if self._timer is not None:
            self._timer.unschedule()
            if self.nic.stats.seconds and not self._summary_printed:
                self._print_summary()
        self._bar.close()

    # --- time
    def _period(self) -> float:
        if self.emit_packets:
            return self.step
        return self.progress if self.progress > 0 else 1.0

    def _next_wakeup(self) -> float:
        wakeup = self.nic.now + self._period()
        return min(wakeup, self.duration) if self.duration > 0 else wakeup

    def _sync(self) -> None:
        """Bring the model up to the router's time."""
        if not self.emit_packets:
            self.nic.advance_to(self.router.now())

    def _on_timer(self) -> None:
        now = self.router.now()
        if self.emit_packets:
            self._emit_step()
        else:
            self.nic.advance_to(now)
        self._bar.advance_to(now)
        if self.progress > 0 and now - self._last_progress["time"] >= self.progress - 1e-9:
            self._print_progress()
        if self.duration > 0 and now >= self.duration - 1e-9:
            self._print_summary()
            self.router.stop(f"{self.name}: {self.duration:g} simulated seconds done")
            return
        self._timer.schedule_at(self._next_wakeup())

    def _emit_step(self) -> None:
        """PACKETS mode: one step of real packets, counted by the model and pushed out."""
        import numpy as np

        from pyclick.rss.indirection import buckets_of

        traffic, nic = self.nic.traffic, self.nic
        batch = traffic.packets(nic.now, self.step)
        table = nic.read_table()
        size = len(table)
        buckets = buckets_of(np.fromiter((p.rss_hash for p in batch), dtype=np.uint32,
                                         count=len(batch)), size)
        nic.receive(np.bincount(buckets, minlength=size))
        for packet, bucket in zip(batch, buckets.tolist()):
            packet.anno["rx_queue"] = int(table[bucket])
        if batch:
            self.output_push(0, batch)

    # --- progress and summary
    def _snapshot(self) -> dict:
        nic = self.nic
        return {"time": nic.now, "received": nic.received_total.copy(),
                "processed": nic.processed_total.copy(), "dropped": nic.dropped_total.copy(),
                "named": nic.named_cores()}

    def _print_progress(self) -> None:
        now, before = self._snapshot(), self._last_progress
        self._last_progress = now
        # The imbalance is over the cores the table named throughout the interval.
        named, self._named = self._named & before["named"], now["named"]
        elapsed = now["time"] - before["time"]
        if self.quiet or elapsed <= 0:
            return
        nic = self.nic
        loads = (now["processed"] - before["processed"]) / (nic.capacity * elapsed)
        received = (now["received"] - before["received"])[named]
        low = received.min() if len(received) else 0
        imbalance = (f"{(received.max() - low) / low * 100:5.1f}%" if low
                     else "  inf" if len(received) else "  n/a")
        dropped = int((now["dropped"] - before["dropped"]).sum())
        parts = [f"{self.name} {now['time']:7.2f}s", "load " + " ".join(f"{x:.2f}" for x in loads),
                 f"imbalance {imbalance}", f"drops {dropped}",
                 f"buckets moved {nic.stats.buckets_moved}"]
        parts += [f"{name}.moves {moves}" for name, moves in self.balancer_moves.items()]
        self._print(" | ".join(parts))

    def _print_summary(self) -> None:
        self._summary_printed = True
        if not self.quiet:
            self._print(f"{self.name}: summary\n{self.nic.summary()}")

    def _print(self, text: str) -> None:
        self._bar.write(text)

    # --- RssDevice
    def reta_size(self) -> int:
        return self.nic.reta_size()

    def queue_count(self) -> int:
        return self.nic.queue_count()

    def read_table(self) -> np.ndarray:
        self._sync()
        return self.nic.read_table()

    def write_table(self, table: np.ndarray) -> None:
        self._sync()
        self.nic.write_table(table)
        self._named &= self.nic.named_cores()

    def hash_key(self) -> bytes:
        return self.nic.hash_key()

    def set_reta_size(self, size: int) -> None:
        """Resize the table (RETA_SIZE of the balancer); 64 to 2048 buckets."""
        if not MIN_RETA_SIZE <= size <= MAX_RETA_SIZE:
            raise ValueError(f"{self.name}: a table has {MIN_RETA_SIZE} to {MAX_RETA_SIZE} "
                             f"buckets, got {size}")
        self._sync()
        self.nic.set_reta_size(size)

    def describe_queues(self) -> str:
        """Where the queue count comes from, for the balancer's error messages."""
        return f"SimNIC '{self.name}' simulates {self.cores} cores; its CORES sets the count"

    # --- what DeviceBalancer asks besides the table (seams.OwnLoadSource, seams.MoveListener,
    # seams.TargetListener) and what Metrics and RECORD read (seams.ServiceMeter)
    def load_source(self, cycles: str) -> "SimNIC":
        """The simulated cores are the machine: every CYCLES mode reads their busy time."""
        if cycles not in CYCLES_MODES:
            raise ValueError(f"unknown CYCLES mode '{cycles}' (known: {', '.join(CYCLES_MODES)})")
        return self

    def moves_applied(self, balancer: str, moves: int) -> None:
        """Count the buckets ``balancer`` moved, for the progress lines."""
        self.balancer_moves[balancer] = self.balancer_moves.get(balancer, 0) + moves

    def target_load_set(self, balancer: str, target_load: float) -> None:
        """The summary weighs the cores in use against those TARGET_LOAD calls for."""
        self.nic.stats.target_load = target_load

    def latency_histogram(self) -> tuple[np.ndarray, np.ndarray]:
        self._sync()
        return self.nic.latency_histogram()

    def packets_dropped(self) -> int:
        self._sync()
        return self.nic.packets_dropped()

    def core_capacity(self) -> float:
        return self.nic.core_capacity()

    def read_loads(self, cores) -> np.ndarray:
        self._sync()
        return self.nic.read_loads(cores)

    def read_counts(self) -> np.ndarray:
        self._sync()
        return self.nic.read_counts()

    # --- handlers
    @read_handler("stats")
    def _read_stats(self) -> str:
        self._sync()
        return self.nic.summary()

    @read_handler("imbalance")
    def _read_imbalance(self) -> str:
        self._sync()
        per_second = self.nic.stats.imbalance_per_second()
        return f"{per_second[-1]:.4f}" if len(per_second) else "nan"

    @read_handler("loads")
    def _read_loads(self) -> str:
        self._sync()
        loads = self.nic.stats.loads_per_second()
        return " ".join(f"{x:.4f}" for x in loads[-1]) if len(loads) else ""

    @read_handler("drops")
    def _read_drops(self) -> str:
        self._sync()
        return str(int(self.nic.dropped_total.sum()))

    @read_handler("latency")
    def _read_latency(self) -> str:
        self._sync()
        return self.nic.latency_summary()

    @read_handler("table")
    def _read_table(self) -> str:
        return " ".join(str(q) for q in self.read_table().tolist())

    @write_handler("table")
    def _write_table(self, value: str) -> None:
        try:
            entries = [int(word) for word in value.split()]
        except ValueError:
            raise ValueError("expected the queue of every bucket, space separated") from None
        import numpy as np

        self.write_table(np.array(entries, dtype=np.int64))

    @read_handler("counts")
    def _read_counts(self) -> str:
        self._sync()
        return " ".join(str(c) for c in self.nic.bucket_totals.tolist())

    @read_handler("time")
    def _read_time(self) -> str:
        self._sync()
        return f"{self.nic.now:.6f}"


class SimCounter(Element):
    """SimCounter(DEV) -- per-bucket packet counts of a SimNIC

    Description
    The bucket counter of a simulated NIC, in the place XDPLoader takes on
    a real interface: DeviceBalancer names it as RSSCOUNTER and reads from
    it, every tick, how many packets each bucket of DEV's indirection
    table received since the previous tick. The counts are taken where the
    NIC steers packets, before any queue drop.

    Keyword arguments
    DEV -- the SimNIC element, mandatory

    Element handlers
    dev (read) -- the name of DEV

    Example
    fd :: SimNIC(CORES 8) -> Discard;
    xdp :: SimCounter(DEV fd);
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        dev = args.read_mp("DEV", ELEMENT)
        if dev is not None and not isinstance(dev, SimNIC):
            args.error(f"DEV: '{dev.name}' is a {dev.class_name()}, expected a SimNIC")
        args.complete()
        self.dev: SimNIC = dev

    def read_counts(self) -> np.ndarray:
        """Packets per bucket of DEV's table since the previous call (seams.BucketCounter)."""
        return self.dev.read_counts()

    @read_handler("dev")
    def _read_dev(self) -> str:
        return self.dev.name
