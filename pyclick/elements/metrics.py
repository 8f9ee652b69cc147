"""Metrics: Prometheus metrics of the router's balancers."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Iterator

from pyclick.args import BOOL, STRING, UNSIGNED, Args
from pyclick.balance.published import Balancer
from pyclick.element import Element, read_handler
from pyclick.elements.argtypes import Role
from pyclick.errors import ConfigError
from pyclick.seams import ServiceMeter

if TYPE_CHECKING:  # numpy and the balancing core load when metrics are first served
    from pyclick.balance import Decision

#: The delay quantiles exported for a device that measures them.
LATENCY_QUANTILES = (0.5, 0.95, 0.99)
#: A metering device is read at a balancer's tick at most this often (router seconds).
METER_PERIOD = 1.0

#: Outside Prometheus' exporter register, which node_exporter's 9100 opens.
DEFAULT_PORT = 19100


class Metrics(Element):
    """Metrics(PORT, ADDRESS, BALANCER, BUCKETS) -- Prometheus metrics of DeviceBalancers

    Description
    Serves the state of DeviceBalancer elements in the Prometheus text
    format on http://ADDRESS:PORT/metrics, through the prometheus_client
    library (pip install pyclick-router[metrics]). Metrics subscribes to
    each balancer's decisions and shows the last one it was told of. Every
    metric carries the label ``device`` (the balancer's DEV element);
    per-core metrics also carry ``core`` and per-bucket ones ``bucket``.

    pyclick_core_load -- load of each core in use at the last tick (0..1)
    pyclick_bucket_packet_rate -- packets per second of each bucket at the last tick
    pyclick_imbalance -- residual imbalance the balancer expects after its last tick
    pyclick_buckets_moved_total -- buckets moved since start
    pyclick_tick_seconds -- current tick period
    pyclick_solver_seconds -- time the last decision took
    pyclick_table_writes_total -- indirection-table writes since start
    pyclick_errors_total -- failed ticks since start

    When the balanced device measures how its cores serve packets (a
    SimNIC does), also these, read at the balancer's ticks once a second:

    pyclick_latency_seconds -- delay of the packets since start, arrival to end of
    service, at the quantiles 0.5, 0.95 and 0.99 (label ``quantile``)
    pyclick_dropped_packets_total -- packets dropped since start

    The default port, 19100, is pyclick's own: 9100 is node_exporter's, and
    the Prometheus register of exporter default ports (9100 to 9999, full,
    then on from 10000) is left alone, so that pyclick runs beside any
    registered exporter.

    Keyword arguments
    PORT -- TCP port to listen on, 0 to 65535 (0 picks a free one, see the port handler). Default 19100.
    ADDRESS -- address to listen on. Default 127.0.0.1.
    BALANCER -- a DeviceBalancer to export; may be repeated. Default: every balancer of the router.
    BUCKETS -- bool: export per-bucket rates. Default true.

    Element handlers
    port (read) -- the TCP port the server listens on.
    url (read) -- the address to scrape.

    Example
    Metrics(PORT 19100)
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        self.port = args.read_p("PORT", UNSIGNED.range(0, 65535), DEFAULT_PORT)
        self.address = args.read("ADDRESS", STRING, "127.0.0.1")
        self.balancer_elements = args.read_all("BALANCER", Role(Balancer, "a balancer"))
        self.buckets = args.read("BUCKETS", BOOL, True)
        self._server = None
        self.balancers: list[Balancer] = []
        #: The device of each balancer, when it meters its service.
        self.meters: dict[int, ServiceMeter] = {}
        #: Per metering device: router time of the reading, delay quantiles (s), drops.
        self.service: dict[int, tuple[float, list[float], int]] = {}
        #: The last decision each balancer published, by its place in ``balancers``.
        self.last: dict[int, Decision] = {}

    def initialize(self) -> None:
        try:
            from prometheus_client import start_http_server
            from prometheus_client.registry import CollectorRegistry
        except ImportError:
            raise ConfigError(f"'{self.declaration()}' needs the prometheus_client package: "
                              "pip install 'pyclick-router[metrics]'", self.landmark) from None
        self.balancers = self.balancer_elements or list(self.router.elements_of(Balancer))
        for i, balancer in enumerate(self.balancers):
            balancer.subscribe(partial(self._heard, i))
            device = self.router.element(balancer.device_name())
            if isinstance(device, ServiceMeter):
                self.meters[i] = device
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        try:
            self._server, _ = start_http_server(self.port, addr=self.address, registry=registry)
        except OSError as err:
            raise ConfigError(f"'{self.declaration()}': cannot listen on "
                              f"{self.address}:{self.port}: {err.strerror}", self.landmark) from None
        self.port = self._server.server_port

    def _heard(self, i: int, decision: Decision) -> None:
        self.last[i] = decision
        meter = self.meters.get(i)
        now = self.router.now()
        if meter is not None and (i not in self.service
                                  or now - self.service[i][0] >= METER_PERIOD):
            from pyclick.sim.histogram import quantiles

            # Read here, on the balancer's thread, never from the scraping one.
            seconds = [x / 1e6 for x in quantiles(*meter.latency_histogram(), LATENCY_QUANTILES)]
            self.service[i] = (now, seconds, meter.packets_dropped())

    def cleanup(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- prometheus_client collector protocol
    def collect(self) -> Iterator[object]:
        """Called by the HTTP thread at every scrape.

        It reads each balancer's last published decision, a reference the
        observer replaces whole after every tick, so a scrape always sees one
        tick's numbers and never blocks the balancer.
        """
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        load = GaugeMetricFamily("pyclick_core_load", "Load of each core at the last tick",
                                 labels=["device", "core"])
        rate = GaugeMetricFamily("pyclick_bucket_packet_rate",
                                 "Packets per second of each bucket at the last tick",
                                 labels=["device", "bucket"])
        imbalance = GaugeMetricFamily("pyclick_imbalance", "Residual imbalance after the last tick",
                                      labels=["device"])
        tick = GaugeMetricFamily("pyclick_tick_seconds", "Current tick period", labels=["device"])
        solver = GaugeMetricFamily("pyclick_solver_seconds", "Time the last decision took",
                                   labels=["device"])
        moved = CounterMetricFamily("pyclick_buckets_moved", "Buckets moved since start",
                                    labels=["device"])
        writes = CounterMetricFamily("pyclick_table_writes", "Table writes since start",
                                     labels=["device"])
        errors = CounterMetricFamily("pyclick_errors", "Failed ticks since start",
                                     labels=["device"])
        latency = GaugeMetricFamily("pyclick_latency_seconds",
                                    "Delay of the packets since start, arrival to end of service",
                                    labels=["device", "quantile"])
        dropped = CounterMetricFamily("pyclick_dropped_packets", "Packets dropped since start",
                                      labels=["device"])
        for i, balancer in enumerate(self.balancers):
            device = balancer.device_name()
            decision = self.last.get(i)
            if decision is not None:
                for core, value in zip(decision.cores, decision.loads):
                    load.add_metric([device, str(core)], float(value))
                if self.buckets and decision.elapsed > 0:
                    for bucket, count in enumerate(decision.counts):
                        rate.add_metric([device, str(bucket)], float(count) / decision.elapsed)
                imbalance.add_metric([device], float(decision.imbalance))
                tick.add_metric([device], float(decision.next_tick))
                solver.add_metric([device], float(decision.solver_time))
            counters = balancer.counters()
            moved.add_metric([device], counters.moves)
            writes.add_metric([device], counters.table_writes)
            errors.add_metric([device], counters.tick_errors)
            if i in self.service:
                _, seconds, drops = self.service[i]
                for q, value in zip(LATENCY_QUANTILES, seconds):
                    latency.add_metric([device, f"{q:g}"], value)
                dropped.add_metric([device], drops)
        yield from (load, rate, imbalance, tick, solver, moved, writes, errors, latency, dropped)

    @read_handler("port")
    def _read_port(self) -> str:
        return str(self.port)

    @read_handler("url")
    def _read_url(self) -> str:
        return f"http://{self.address}:{self.port}/metrics"
