"""The address tables of ARPResponder and IP6NDAdvertiser: networks, each
with the Ethernet address that answers for it.

An argument is ``ADDR/PREFIX [ADDR/PREFIX...] ETH``: every network of the
argument gets its Ethernet address. An address alone is a network of one
address (/32, /128). Every word may be a name (AddressInfo, a network
device); a name that stands for both an address and an Ethernet address
may be the whole argument (``ARPResponder(me)``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyclick.elements.inet import ETHERADDR, IP6ADDR, IP6PREFIX, IP_OR_PREFIX, unparse_ether

if TYPE_CHECKING:
    from pyclick.args import Args

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: An address argument type giving an address and its prefix length.
PrefixType = Callable[[str, "Args | None"], tuple[bytes, int]]


@dataclass(frozen=True)
class Entry:
    network: Network
    ether: bytes

    def text(self) -> str:
        return f"{self.network} {unparse_ether(self.ether)}"


def IP6_OR_PREFIX(text: str, args: Args | None = None) -> tuple[bytes, int]:
    """An IPv6 prefix where an address stands for itself alone (/128); a name
    for both an address and a prefix is its address unless written NAME:ip6net."""
    word = text.strip()
    if "/" not in word:
        try:
            return IP6ADDR(word, args), 128
        except ValueError:
            pass
    return IP6PREFIX(word, args)


def parse_entries(text: str, args: Args | None, prefix: PrefixType, what: str,
                  syntax: str) -> list[Entry]:
    """The entries of one argument (see the module docstring), its networks read
    by ``prefix``; ValueError naming ``what`` a network is (``IP address or
    network``) or the ``syntax`` (``IP/MASK [IP/MASK...] ETH``) when it is wrong."""
    words = text.split()
    networks: list[Network] = []
    ether = None
    for word in words:
        try:
            networks.append(ipaddress.ip_network(prefix(word, args), strict=False))
            continue
        except ValueError:
            pass
        try:
            found = ETHERADDR(word, args)
        except ValueError:
            raise ValueError(f"bad {what} '{word}'") from None
        if ether is not None:
            raise ValueError("more than one ETH")
        ether = found
    if ether is None:
        # A name read as a network may stand for an Ethernet address too.
        for word in words:
            try:
                ether = ETHERADDR(word, args)
                break
            except ValueError:
                pass
    if not networks or ether is None:
        raise ValueError(f"expected '{syntax}'")
    return [Entry(network, ether) for network in networks]


def parse_ip_entries(text: str, args: Args | None = None) -> list[Entry]:
    """ARPResponder's entries: IPv4 networks."""
    return parse_entries(text, args, IP_OR_PREFIX, "IP address or network",
                         "IP/MASK [IP/MASK...] ETH")


def parse_ip6_entries(text: str, args: Args | None = None) -> list[Entry]:
    """IP6NDAdvertiser's entries: IPv6 networks."""
    return parse_entries(text, args, IP6_OR_PREFIX, "IPv6 address or prefix",
                         "IP6/PREFIX [IP6/PREFIX...] ETH")


def read_entries(args: Args, parse: Callable[[str, Args], list[Entry]]) -> list[Entry]:
    """Every argument's entries, each parsed by ``parse``; a bad one is an error
    naming its position. Arguments are read whole, as Click reads them: a
    capitalized name (MY_ADDR 10.0.0.1) is not a keyword."""
    entries: list[Entry] = []
    for number, text in enumerate(args.accept_rest(), 1):
        try:
            entries += parse(text, args)
        except ValueError as err:
            args.error(f"argument {number}: {err}")
    args.complete()
    return entries


def nested_first(entries: list[Entry],
                 duplicate: Callable[[Network], None] | None = None) -> list[Entry]:
    """``entries`` in Click's table order: a network inside an earlier one moves
    just before it, other networks keep their order, and of two entries for
    the same network the later one stays, in the earlier one's place (and
    ``duplicate``, when given, is told of the network)."""
    ordered: list[Entry] = []
    for entry in entries:
        same = next((i for i, old in enumerate(ordered) if old.network == entry.network), None)
        if same is not None:
            ordered[same] = entry
            if duplicate is not None:
                duplicate(entry.network)
            continue
        outer = next((i for i, old in enumerate(ordered)
                      if entry.network.version == old.network.version
                      and entry.network.subnet_of(old.network)), len(ordered))  # type: ignore[arg-type]
        ordered.insert(outer, entry)
    return ordered


def most_specific(entries: list[Entry], address: bytes) -> bytes | None:
    """The Ethernet address of the most specific network holding ``address``, or None."""
    ip = ipaddress.ip_address(address)
    best: Entry | None = None
    for entry in entries:
        if ip in entry.network and (best is None
                                    or entry.network.prefixlen > best.network.prefixlen):
            best = entry
    return None if best is None else best.ether
