"""Metrics: Prometheus metrics of the router's balancers."""

from __future__ import annotations

from typing import Iterator

from pyclick.args import BOOL, ELEMENT, STRING, UNSIGNED, Args
from pyclick.element import Element, read_handler
from pyclick.errors import ConfigError


class Metrics(Element):
    """Metrics(PORT, ADDRESS, BALANCER, BUCKETS) -- Prometheus metrics of DeviceBalancers

    Description
    Serves the state of DeviceBalancer elements in the Prometheus text
    format on http://ADDRESS:PORT/metrics, through the prometheus_client
    library (pip install pyclick-router[metrics]). Every metric carries the
    label ``device`` (the balancer's DEV element); per-core metrics also
    carry ``core`` and per-bucket ones ``bucket``.

    pyclick_core_load -- load of each core in use at the last tick (0..1)
    pyclick_bucket_packet_rate -- packets per second of each bucket at the last tick
    pyclick_imbalance -- residual imbalance the balancer expects after its last tick
    pyclick_buckets_moved_total -- buckets moved since start
    pyclick_tick_seconds -- current tick period
    pyclick_solver_seconds -- time the last decision took
    pyclick_table_writes_total -- indirection-table writes since start
    pyclick_errors_total -- failed ticks since start

    Keyword arguments
    PORT -- TCP port to listen on (0 picks a free one, see the port handler). Default 9100.
    ADDRESS -- address to listen on. Default 127.0.0.1.
    BALANCER -- a DeviceBalancer to export; may be repeated. Default: every DeviceBalancer.
    BUCKETS -- bool: export per-bucket rates. Default true.

    Element handlers
    port (read) -- the TCP port the server listens on.
    url (read) -- the address to scrape.

    Example
    Metrics(PORT 9100)
    """

    port_count = "0/0"

    def configure(self, args: Args) -> None:
        self.port = args.read_p("PORT", UNSIGNED, 9100)
        self.address = args.read("ADDRESS", STRING, "127.0.0.1")
        self.balancer_elements = args.read_all("BALANCER", ELEMENT)
        self.buckets = args.read("BUCKETS", BOOL, True)
        args.complete()
        if self.port > 65535:
            raise ConfigError(f"While configuring '{self.declaration()}': PORT: "
                              f"expected a port number (0..65535), got {self.port}",
                              self.landmark)
        self._server = None
        self.balancers: list[Element] = []

    def initialize(self) -> None:
        try:
            from prometheus_client import start_http_server
            from prometheus_client.registry import CollectorRegistry
        except ImportError:
            raise ConfigError(f"'{self.declaration()}' needs the prometheus_client package: "
                              "pip install 'pyclick-router[metrics]'", self.landmark) from None
        balancers = self.balancer_elements or [
            e for e in self.router.elements if e.class_name() == "DeviceBalancer"]
        for balancer in balancers:
            if not hasattr(balancer, "last_decision"):
                raise ConfigError(f"While initializing '{self.declaration()}': BALANCER: "
                                  f"'{balancer.declaration()}' is not a DeviceBalancer",
                                  self.landmark)
        self.balancers = balancers
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        try:
            self._server, _ = start_http_server(self.port, addr=self.address, registry=registry)
        except OSError as err:
            raise ConfigError(f"'{self.declaration()}': cannot listen on "
                              f"{self.address}:{self.port}: {err.strerror}", self.landmark) from None
        self.port = self._server.server_port

    def cleanup(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- prometheus_client collector protocol
    def collect(self) -> Iterator[object]:
        """Called by the HTTP thread at every scrape.

        It reads each balancer's last published decision, a reference the
        balancer replaces whole after every tick, so a scrape always sees one
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
        for balancer in self.balancers:
            device = balancer.dev.name
            decision = balancer.last_decision
            if decision is not None:
                for core, value in zip(decision.cores, decision.loads):
                    load.add_metric([device, str(core)], float(value))
                if self.buckets and decision.elapsed > 0:
                    for bucket, count in enumerate(decision.counts):
                        rate.add_metric([device, str(bucket)], float(count) / decision.elapsed)
                imbalance.add_metric([device], float(decision.imbalance))
                tick.add_metric([device], float(decision.next_tick))
                solver.add_metric([device], float(decision.solver_time))
            moved.add_metric([device], balancer.total_moves)
            writes.add_metric([device], balancer.table_writes)
            errors.add_metric([device], balancer.tick_errors)
        yield from (load, rate, imbalance, tick, solver, moved, writes, errors)

    @read_handler("port")
    def _read_port(self) -> str:
        return str(self.port)

    @read_handler("url")
    def _read_url(self) -> str:
        return f"http://{self.address}:{self.port}/metrics"
