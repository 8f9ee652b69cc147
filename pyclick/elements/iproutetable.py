"""What Click's IPv4 routing tables share: routes, their lookup, their handlers.

StaticIPLookup, LinearIPLookup, RadixIPLookup and DirectIPLookup read the
same routes (``ADDR/MASK [GW] OUT``), route packets by their destination
annotation the same way and answer the same ``table`` and ``lookup``
handlers; all but StaticIPLookup also change their routes at run time
(``add``, ``set``, ``remove``, ``ctrl``). The routes are kept in one
dictionary per prefix length, so a lookup costs one dictionary access per
prefix length in use, longest first, whatever the number of routes.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pyclick.args import Args
from pyclick.element import PUSH, Element, read_handler, write_handler
from pyclick.elements.inet import IP_OR_PREFIX, IPADDR, unparse_ip
from pyclick.packet import Packet

#: Packets without a route are reported this many times, then silently dropped.
COMPLAINTS = 5


def prefix_mask(prefix: int) -> int:
    """The IPv4 netmask of a prefix length, as an integer."""
    return (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF


@dataclass(frozen=True)
class Route:
    """``net``/``prefix`` to output ``port`` through ``gateway`` (None: none);
    ``port`` -1 in a removal that names no output."""

    net: int
    prefix: int
    gateway: bytes | None
    port: int

    @property
    def key(self) -> tuple[int, int]:
        return self.prefix, self.net

    @property
    def network(self) -> str:
        return f"{ipaddress.IPv4Address(self.net)}/{self.prefix}"

    def text(self) -> str:
        """The table line: network, gateway ('-' for none) and port, each
        column ended by a tab, and a second tab after a short one (as Click)."""
        net = self.network + "\t"
        gateway = ("-" if self.gateway is None else unparse_ip(self.gateway)) + "\t"
        return (net + ("\t" if len(net) < 17 else "") + gateway
                + ("\t" if len(gateway) < 9 else "") + str(self.port))

    def words(self) -> str:
        """The route as it is written: ``NET/PREFIX GW OUT``, '-' for no gateway."""
        gateway = "-" if self.gateway is None else unparse_ip(self.gateway)
        return f"{self.network} {gateway} {self.port}"

    def matches(self, removal: "Route") -> bool:
        """Whether ``removal`` names this route: its network, and its gateway
        and output too unless the removal gives no output."""
        return removal.port < 0 or (removal.gateway == self.gateway
                                    and removal.port == self.port)


def parse_route(text: str, args: Args | None = None, removal: bool = False) -> Route:
    """``ADDR/MASK [GW] OUT`` ('-' for no gateway); for a ``removal`` also
    ``ADDR/MASK [GW]`` (port -1). ValueError saying what is wrong. Addresses
    may be names (AddressInfo)."""
    words = text.split()
    expected = "expected 'ADDR/MASK [GW OUT]'" if removal else "expected 'ADDR/MASK [GW] OUT'"
    if not 1 <= len(words) <= 3 or (len(words) == 1 and not removal):
        raise ValueError(expected)
    try:
        network = ipaddress.IPv4Network(IP_OR_PREFIX(words[0], args), strict=False)
    except ValueError:
        raise ValueError(f"bad network '{words[0]}'") from None
    rest = words[1:]
    # The last word is the output unless a removal ends at its gateway.
    port = -1
    if rest and (len(rest) == 2 or not removal or rest[-1].isdigit()):
        if not rest[-1].isdigit():
            raise ValueError(f"bad output port '{rest[-1]}'")
        port = int(rest.pop())
    gateway = None
    if rest and rest[0] != "-":
        gateway = IPADDR(rest[0], args)
    return Route(int(network.network_address), network.prefixlen, gateway, port)


class RouteTable(Element):
    """The routes of an IPv4 routing table element and their lookup (see the module
    docstring); a subclass is an element with its own manual."""

    registered = False
    port_count = "1/-"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self._routes: dict[tuple[int, int], Route] = {}
        for number, text in enumerate(args.rest(), 1):
            try:
                route = parse_route(text, args)
                self._check_port(route)
            except ValueError as err:
                args.error(f"route {number}: {err}")
                continue
            if route.key in self._routes:
                args.error(f"route {number}: a route for {route.network} already exists")
            else:
                self._routes[route.key] = route
        args.complete()
        self._index()
        self._complaints = 0

    def _check_port(self, route: Route) -> None:
        if route.port >= self.noutputs:
            raise ValueError(f"output {route.port} out of range "
                             f"(the element has {self.noutputs} outputs)")

    def _index(self) -> None:
        """Sort the routes into one dictionary per prefix length, longest first."""
        by_prefix: dict[int, dict[int, Route]] = {}
        for route in self._routes.values():
            by_prefix.setdefault(route.prefix, {})[route.net] = route
        self._search = [(prefix_mask(prefix), by_prefix[prefix])
                        for prefix in sorted(by_prefix, reverse=True)]

    def lookup(self, destination: bytes) -> Route | None:
        address = int.from_bytes(destination, "big")
        for mask, routes in self._search:
            route = routes.get(address & mask)
            if route is not None:
                return route
        return None

    def push(self, port: int, batch: list[Packet]) -> None:
        groups: dict[int, list[Packet]] = {}
        for packet in batch:
            route = self.lookup(packet.dst_ip)
            if route is None:
                self._complain(packet)
                continue
            if route.gateway is not None:
                packet.dst_ip = route.gateway
            groups.setdefault(route.port, []).append(packet)
        for output, group in groups.items():
            self.output_push(output, group)

    def _complain(self, packet: Packet) -> None:
        self._complaints += 1
        if self._complaints <= COMPLAINTS:
            self.log.warning("%s: no route for %s", self.declaration(),
                             unparse_ip(packet.dst_ip))

    def add_handlers(self) -> None:
        self.router.handlers.add_read(self, "lookup", self._lookup_handler)

    @read_handler("table")
    def _read_table(self) -> str:
        return "".join(route.text() + "\n" for route in self._routes.values())

    def _lookup_handler(self, params: str) -> str:
        try:
            address = IPADDR(params.strip())
        except ValueError:
            raise ValueError(f"expected IP address, not '{params.strip()}'") from None
        route = self.lookup(address)
        if route is None:
            return "-1"
        return str(route.port) if route.gateway is None else \
            f"{route.port} {unparse_ip(route.gateway)}"


class ChangingRouteTable(RouteTable):
    """A RouteTable whose routes change at run time through its write handlers."""

    registered = False

    def _change(self, command: str, text: str) -> None:
        """Carry out ``add``, ``set`` or ``remove`` of the route ``text``; the
        lookup's index is the caller's to rebuild."""
        route = parse_route(text, removal=command == "remove")
        self._check_port(route)
        old = self._routes.get(route.key)
        if command == "remove":
            if old is None or not old.matches(route):
                raise ValueError(f"route '{route.words()}' not found")
            del self._routes[route.key]
        elif command == "add" and old is not None:
            raise ValueError(f"conflict with existing route '{old.words()}'")
        else:
            self._routes[route.key] = route

    def _apply(self, changes: list[tuple[str, str]]) -> None:
        """Carry out every change or none: a failing one puts the routes back as
        they were. The lookup's index is rebuilt once, whatever their number."""
        before = dict(self._routes)
        try:
            for command, route in changes:
                self._change(command, route)
        except ValueError:
            self._routes = before
            raise
        finally:
            self._index()

    def flush(self) -> None:
        """Remove every route."""
        self._routes = {}
        self._index()

    @write_handler("add")
    def _write_add(self, value: str) -> None:
        self._apply([("add", value)])

    @write_handler("set")
    def _write_set(self, value: str) -> None:
        self._apply([("set", value)])

    @write_handler("remove")
    def _write_remove(self, value: str) -> None:
        self._apply([("remove", value)])

    @write_handler("ctrl")
    def _write_ctrl(self, value: str) -> None:
        changes = []
        for line in value.splitlines():
            command, _, route = line.strip().partition(" ")
            if not command:
                continue
            if command not in ("add", "set", "remove"):
                # Found before any change is made: nothing to put back.
                raise ValueError(f"bad command '{command}'")
            changes.append((command, route))
        self._apply(changes)
