"""SimNIC and SimCounter: a simulated RSS NIC and its per-bucket counter.

They stand in for FromDevice and XDPLoader so that DeviceBalancer runs,
unchanged, without root, hardware or real traffic: the whole router runs in
simulated time and the NIC model (``pyclick.sim``) plays the traffic, the
indirection table, the queues and the cores.
"""

from __future__ import annotations

import sys

import numpy as np

from pyclick.args import BOOL, BYTES, ELEMENT, FLOAT, STRING, TIME, UNSIGNED, Args
from pyclick.element import Element, read_handler, write_handler
from pyclick.runtime.timers import Timer
from pyclick.sim.nic import SimulatedNIC
from pyclick.sim.pcap import PcapError
from pyclick.sim.toeplitz import MICROSOFT_KEY
from pyclick.sim.traffic import PcapTraffic, TrafficConfig, TrafficGenerator

#: Indirection table sizes real NICs offer.
MIN_RETA_SIZE = 64
MAX_RETA_SIZE = 2048
#: The longest hash input, an IPv6 4-tuple, needs a key this long.
MIN_KEY_BYTES = 40
#: Per-core capacity (packets/s) and offered load (fraction of all cores) by default.
DEFAULT_CAPACITY = 1_000_000.0
DEFAULT_LOAD = 0.6
#: Load modes DeviceBalancer may ask for; in simulation all read the simulated cores.
CYCLES_MODES = ("realcpu", "cycles", "cpu", "queue", "cyclesqueue")


def _divides_second(step: float) -> bool:
    return abs(round(1.0 / step) * step - 1.0) < 1e-9


class SimNIC(Element):
    """SimNIC(CORES, RETA_SIZE, CAPACITY, LOAD, RATE, FLOWS, ELEPHANTS, SEED, DURATION, PCAP, SHIFT_AT, STEP, ...) -- a simulated RSS NIC and its cores

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
    paper. SEED makes every run of a configuration identical. With
    PCAP the file's packets are replayed instead (classic pcap; SPEEDUP
    divides its inter-packet times).

    SimNIC puts the router in simulated time: timers fire in order without
    waiting, so a minute of traffic takes a second or two. The model moves
    in steps of STEP; it is brought up to date whenever the balancer reads
    or writes it and at least every PROGRESS. Every PROGRESS of simulated
    time SimNIC prints a line with each core's load, the imbalance, the
    drops and the buckets moved so far (and the 'moves' handler of every
    element that has one). After DURATION it prints a summary (mean load
    per core, median and 95th percentile of the per-second imbalance,
    drops) and stops the router.

    No packet is pushed out of output 0, which may stay unconnected or go
    to Discard: the model counts packets per bucket and per core instead of
    making Packet objects, which is what makes long runs fast. With PACKETS
    true, SimNIC also emits every simulated packet (with its 5-tuple flow,
    RSS hash, timestamp and, in the 'rx_queue' annotation, the queue the
    table sent it to), one batch per STEP; keep RATE modest then.

    Keyword arguments
    CORES -- simulated cores, one RX queue each, default 8
    RETA_SIZE -- buckets in the indirection table, 64 to 2048, default 128
    KEY -- Toeplitz key (hex, at least 40 bytes), default the Microsoft verification key
    CAPACITY -- packets per second one core can process, default 1000000
    LOAD -- offered load as a fraction of the capacity of all cores, default 0.6
    RATE -- offered load in packets per second (instead of LOAD)
    QUEUE -- RX queue length in packets, default 1024
    FLOWS -- mean number of concurrent (mouse) flows, default 8000
    ELEPHANTS -- number of concurrent elephant flows, default 16
    SEED -- random seed, default 1
    SHIFT_AT -- simulated time when all elephant flows change, default never
    PCAP -- replay this classic pcap file instead of synthetic traffic
    SPEEDUP -- PCAP: replay speed factor, default 1
    DURATION -- simulated time to run, then stop; 0 = until stopped; default 60s or PCAP's length
    STEP -- simulation step, dividing 1 second, default 1ms
    PROGRESS -- interval between progress lines, 0 for none, default 1s
    QUIET -- print neither progress lines nor the summary, default false
    PACKETS -- also emit every packet on output 0, default false

    Element handlers
    stats (read) -- summary of the run so far
    imbalance (read) -- (max - min) / min of per-core packets in the last complete second
    loads (read) -- each core's busy fraction in the last complete second
    drops (read) -- packets dropped since the start
    table (read/write) -- the indirection table, the core of each bucket
    counts (read) -- packets per bucket since the start
    time (read) -- simulated time reached, seconds

    Example
    fd :: SimNIC(CORES 8, RETA_SIZE 128, DURATION 30) -> Discard;
    db :: DeviceBalancer(METHOD rsspp, DEV fd, CPUS 8, RSSCOUNTER xdp, CYCLES realcpu);
    xdp :: SimCounter(DEV fd);
    """

    port_count = "0/0-1"

    def configure(self, args: Args) -> None:
        self.cores: int = args.read("CORES", UNSIGNED, 8)
        reta_size: int = args.read("RETA_SIZE", UNSIGNED, 128)
        self.key: bytes = args.read("KEY", BYTES, MICROSOFT_KEY)
        capacity: float = args.read("CAPACITY", FLOAT, DEFAULT_CAPACITY)
        load: float | None = args.read("LOAD", FLOAT)
        rate: float | None = args.read("RATE", FLOAT)
        queue: int = args.read("QUEUE", UNSIGNED, 1024)
        flows: int = args.read("FLOWS", UNSIGNED, TrafficConfig.flows)
        elephants: int = args.read("ELEPHANTS", UNSIGNED, TrafficConfig.elephants)
        seed: int = args.read("SEED", UNSIGNED, 1)
        shift_at: float | None = args.read("SHIFT_AT", TIME)
        pcap: str | None = args.read("PCAP", STRING)
        speedup: float = args.read("SPEEDUP", FLOAT, 1.0)
        duration: float | None = args.read("DURATION", TIME)
        self.step: float = args.read("STEP", TIME, 0.001)
        self.progress: float = args.read("PROGRESS", TIME, 1.0)
        self.quiet: bool = args.read("QUIET", BOOL, False)
        self.emit_packets: bool = args.read("PACKETS", BOOL, False)
        self._check(args, reta_size, capacity, load, rate, queue, flows, speedup, pcap, shift_at)
        args.complete()
        if rate is None:
            rate = (DEFAULT_LOAD if load is None else load) * capacity * self.cores
        traffic = self._traffic(args, pcap, speedup, reta_size,
                                TrafficConfig(seed=seed, rate_pps=rate, flows=flows,
                                              elephants=elephants, shift_at=shift_at,
                                              elephant_share=TrafficConfig.elephant_share
                                              if elephants else 0.0))
        args.complete()
        if duration is None:
            # A replay ends one step after its last packet, so that it is counted.
            duration = (traffic.duration + self.step if isinstance(traffic, PcapTraffic)
                        else 60.0)
        self.duration = duration
        self.nic = SimulatedNIC(self.cores, reta_size, traffic, capacity, queue, self.key,
                                self.step)
        self._timer: Timer | None = None
        self.router.use_simtime()

    def _check(self, args: Args, reta_size: int, capacity: float, load: float | None,
               rate: float | None, queue: int, flows: int, speedup: float, pcap: str | None,
               shift_at: float | None) -> None:
        """Report every out-of-range or clashing argument."""
        if self.cores is not None and self.cores < 1:
            args.error("CORES: must be at least 1")
        if reta_size is not None and not MIN_RETA_SIZE <= reta_size <= MAX_RETA_SIZE:
            args.error(f"RETA_SIZE: must be between {MIN_RETA_SIZE} and {MAX_RETA_SIZE}, "
                       f"got {reta_size}")
        if self.key is not None and len(self.key) < MIN_KEY_BYTES:
            args.error(f"KEY: must have at least {MIN_KEY_BYTES} bytes, got {len(self.key)}")
        if queue is not None and queue < 1:
            args.error("QUEUE: must be at least 1")
        if flows is not None and flows < 1:
            args.error("FLOWS: must be at least 1")
        if capacity is not None and not capacity > 0:
            args.error("CAPACITY: must be positive")
        if load is not None and rate is not None:
            args.error("LOAD and RATE are mutually exclusive")
        if load is not None and not load > 0:
            args.error("LOAD: must be positive")
        if rate is not None and not rate > 0:
            args.error("RATE: must be positive")
        if speedup is not None and not speedup > 0:
            args.error("SPEEDUP: must be positive")
        if pcap is not None and shift_at is not None:
            args.error("SHIFT_AT applies to synthetic traffic, not to PCAP")
        if self.step is not None and not (self.step > 0 and _divides_second(self.step)):
            args.error(f"STEP: must divide one second evenly, got {self.step:g}s")

    def _traffic(self, args: Args, pcap: str | None, speedup: float, reta_size: int,
                 config: TrafficConfig) -> TrafficGenerator | PcapTraffic | None:
        try:
            if pcap is not None:
                return PcapTraffic(pcap, self.key, reta_size, speedup)
            return TrafficGenerator(config, self.key, reta_size)
        except OSError as err:
            args.error(f"PCAP: cannot read '{pcap}': {err.strerror}")
        except (PcapError, ValueError) as err:
            args.error(f"PCAP: {err}" if pcap is not None else str(err))
        return None

    def initialize(self) -> None:
        self._summary_printed = False
        self._last_progress = self._snapshot()
        self._timer = Timer(self, self._on_timer)
        self._timer.schedule_at(self._next_wakeup())

    def cleanup(self) -> None:
        if self._timer is not None:
            self._timer.unschedule()
            if self.nic.stats.seconds and not self._summary_printed:
                self._print_summary()

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
        if self.progress > 0 and now - self._last_progress["time"] >= self.progress - 1e-9:
            self._print_progress()
        if self.duration > 0 and now >= self.duration - 1e-9:
            self._print_summary()
            self.router.stop(f"{self.name}: {self.duration:g} simulated seconds done")
            return
        self._timer.schedule_at(self._next_wakeup())

    def _emit_step(self) -> None:
        """PACKETS mode: one step of real packets, counted by the model and pushed out."""
        traffic, nic = self.nic.traffic, self.nic
        batch = traffic.packets(nic.now, self.step)
        table = nic.read_table()
        size = len(table)
        buckets = np.fromiter((p.rss_hash % size for p in batch), dtype=np.int64,
                              count=len(batch))
        nic.receive(np.bincount(buckets, minlength=size))
        for packet, bucket in zip(batch, buckets.tolist()):
            packet.anno["rx_queue"] = int(table[bucket])
        if batch:
            self.output_push(0, batch)

    # --- progress and summary
    def _snapshot(self) -> dict:
        nic = self.nic
        return {"time": nic.now, "received": nic.received_total.copy(),
                "processed": nic.processed_total.copy(), "dropped": nic.dropped_total.copy()}

    def _print_progress(self) -> None:
        now, before = self._snapshot(), self._last_progress
        self._last_progress = now
        elapsed = now["time"] - before["time"]
        if self.quiet or elapsed <= 0:
            return
        nic = self.nic
        loads = (now["processed"] - before["processed"]) / (nic.capacity * elapsed)
        received = (now["received"] - before["received"])[np.unique(nic.read_table())]
        low = received.min()
        imbalance = f"{(received.max() - low) / low * 100:5.1f}%" if low else "  inf"
        dropped = int((now["dropped"] - before["dropped"]).sum())
        parts = [f"{self.name} {now['time']:7.2f}s", "load " + " ".join(f"{x:.2f}" for x in loads),
                 f"imbalance {imbalance}", f"drops {dropped}",
                 f"buckets moved {nic.stats.buckets_moved}"]
        parts += [f"{name}.moves {value}" for name, value in self._moves_handlers()]
        self._print(" | ".join(parts))

    def _moves_handlers(self) -> list[tuple[str, str]]:
        """The 'moves' handler of every element that has one (the balancers)."""
        found = []
        for element in self.router.elements:
            if element is not self and "moves" in type(element).read_handlers:
                value = self.router.handlers.read(f"{element.name}.moves").strip()
                found.append((element.name, value.splitlines()[0] if value else "0"))
        return found

    def _print_summary(self) -> None:
        self._summary_printed = True
        if not self.quiet:
            self._print(f"{self.name}: summary\n{self.nic.stats.summary()}")

    @staticmethod
    def _print(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

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

    # --- what DeviceBalancer asks besides the table
    def load_source(self, cycles: str) -> "SimNIC":
        """The simulated cores are the machine: every CYCLES mode reads their busy time."""
        if cycles not in CYCLES_MODES:
            raise ValueError(f"unknown CYCLES mode '{cycles}' (known: {', '.join(CYCLES_MODES)})")
        return self

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
        return self.nic.stats.summary()

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

    @read_handler("table")
    def _read_table(self) -> str:
        return " ".join(str(q) for q in self.read_table().tolist())

    @write_handler("table")
    def _write_table(self, value: str) -> None:
        try:
            entries = [int(word) for word in value.split()]
        except ValueError:
            raise ValueError("expected the queue of every bucket, space separated") from None
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

    def read_counts(self, size: int | None = None) -> np.ndarray:
        """Packets per bucket since the previous call (``size``, if given, must be DEV's)."""
        if size is not None and size != self.dev.reta_size():
            raise ValueError(f"{self.name}: '{self.dev.name}' has {self.dev.reta_size()} "
                             f"buckets, not {size}")
        return self.dev.read_counts()

    @read_handler("dev")
    def _read_dev(self) -> str:
        return self.dev.name
