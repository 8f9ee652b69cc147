"""PortInfo: names for TCP and UDP ports, usable in every element's configuration."""

from __future__ import annotations

from itertools import takewhile

from pyclick.args import UNSIGNED, Args, shorten, split_words
from pyclick.element import CONFIGURE_PHASE_FIRST, Element
from pyclick.elements.ipproto import IP_PROTO, TCP, UDP


def _port_and_protocols(word: str) -> tuple[int, tuple[int, ...]] | None:
    """``PORT[/PROTOCOL]``: the port and the protocols it is named for (TCP and UDP
    without a protocol, none with an unknown one); None when it is not a port."""
    number, slash, protocol = word.partition("/")
    try:
        port = UNSIGNED(number, None)
    except ValueError:
        return None
    if not slash:
        return port, (TCP, UDP)
    try:
        return port, (IP_PROTO(protocol),)
    except ValueError:
        return port, ()


class PortInfo(Element):
    """PortInfo(NAME PORT[/PROTOCOL], ...) -- stores named TCP/UDP port information

    Description
    Gives names to TCP and UDP ports, so that the other elements of the
    configuration can be written with names rather than numbers. Each
    argument is a NAME, a PORT number, optionally a /PROTOCOL, and
    optionally more names for the same port: 'http 80' names port 80 of
    both TCP and UDP, 'dns 53/udp' port 53 of UDP only ('/tcp', '/udp', or
    any IP protocol by name or number). Wherever an element expects a port
    (UDPIPEncap's SPORT, IPFilter's 'port' patterns...), it then accepts
    the NAME; a name PortInfo defines wins over a well-known service name
    such as www. A name defined twice for a protocol takes its last port.

    A word starting with # ends the argument, and an argument with an
    unknown protocol is skipped, so that lines of /etc/services may be
    used as they are. Empty arguments are allowed.

    Names are local to compound elements: a name a PortInfo inside a
    compound defines is known within that compound (and the compounds in
    it) only. PortInfo elements configure before all others, so a name may
    be used before the PortInfo that defines it.

    Ports
    none

    Example
    PortInfo(syslog 514/udp, web 8080 altweb);
    InfiniteSource(LIMIT 1) -> UDPIPEncap(10.0.0.1, syslog, 10.0.0.2, web) -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_FIRST

    def configure(self, args: Args) -> None:
        self.definitions: dict[tuple[str, int], int] = {}
        for text in args.accept_rest():
            words = split_words(text)
            if not words or words[0].startswith("#"):
                continue
            parsed = _port_and_protocols(words[1]) if len(words) > 1 else None
            if parsed is None:
                args.error(f"expected 'NAME PORT/PROTO', got '{shorten(text)}'")
                continue
            port, protocols = parsed
            for name in takewhile(lambda word: not word.startswith("#"), [words[0], *words[2:]]):
                for protocol in protocols:
                    self.definitions[(name, protocol)] = port
        args.complete()

    def port_definition(self, name: str, protocol: int) -> int | None:
        return self.definitions.get((name, protocol))
