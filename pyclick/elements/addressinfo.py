"""AddressInfo: names for addresses, usable in every element's configuration."""

from __future__ import annotations

from typing import Any

from pyclick.args import Args, split_words
from pyclick.element import CONFIGURE_PHASE_FIRST, Element
from pyclick.elements.addressnames import AddressKind
from pyclick.elements.inet import ETHERADDR, IP6PREFIX, IPPREFIX

def address_kinds(word: str) -> dict[AddressKind, Any]:
    """Every kind of address ``word`` is, written out, with its value.

    A prefix whose address has host bits set (``10.0.0.1/24``) is also
    that address; a bare address is not a prefix.
    """
    kinds: dict[AddressKind, Any] = {}
    try:
        kinds[AddressKind.ETHER] = ETHERADDR(word)
    except ValueError:
        pass
    for kind, network_kind, parse in ((AddressKind.IP, AddressKind.IPNET, IPPREFIX),
                                      (AddressKind.IP6, AddressKind.IP6NET, IP6PREFIX)):
        try:
            address, length = parse(word)
        except ValueError:
            continue
        if "/" not in word or _has_host_bits(address, length):
            kinds[kind] = address
        if "/" in word:
            kinds[network_kind] = (address, length)
    return kinds


def _has_host_bits(address: bytes, length: int) -> bool:
    bits = len(address) * 8
    return int.from_bytes(address, "big") & ((1 << (bits - length)) - 1) != 0


class AddressInfo(Element):
    """AddressInfo(NAME ADDRESS [ADDRESS...], ...) -- specifies address information

    Description
    Gives names to addresses, so that the other elements of the
    configuration can be written with names rather than numbers. Each
    argument is a NAME followed by one or more addresses: IPv4 addresses
    (10.0.0.1), IPv4 prefixes (10.0.0.0/8, or 10.0.0.1/8, which also
    names the address 10.0.0.1), Ethernet addresses (00:01:02:03:04:05 or
    with dashes), IPv6 addresses and IPv6 prefixes.

    Wherever an element expects an address, it then accepts the NAME, and
    takes from it the kind of address it needs: after
    AddressInfo(me 10.0.0.1 00:01:02:03:04:05), IPEncap(4, me, 10.0.0.2)
    reads me as 10.0.0.1 and EtherEncap(0x0800, me, 1:2:3:4:5:6) as
    00:01:02:03:04:05, while ARPResponder(me) takes both. A suffix asks for
    one kind: NAME:ip (an IPv4 address), NAME:ipnet (an IPv4 prefix),
    NAME:eth (an Ethernet address), NAME:ip6 and NAME:ip6net. NAME:bcast is
    the broadcast address of NAME's IPv4 prefix, and NAME:gw its first
    address (the usual gateway). A name with both an address and a prefix
    is read as the address where either would do; write NAME:ipnet for the
    prefix. An address or a prefix length may themselves be written with a
    name, as in me/32.

    Names are local to compound elements: a name an AddressInfo inside a
    compound defines is known within that compound (and the compounds in
    it) only. AddressInfo elements configure before all others, so a name
    may be used before the AddressInfo that defines it.

    A name no AddressInfo defines may be a network device's name: its
    Ethernet address, or its primary IPv4 address and prefix.

    Ports
    none

    Example
    AddressInfo(me 10.0.0.1/24 00:01:02:03:04:05);
    Idle -> ARPResponder(me) -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_FIRST

    def configure(self, args: Args) -> None:
        # Kept before any mistake is reported: the elements configured after
        # this one still look their names up in it.
        self.definitions: dict[tuple[str, AddressKind], Any] = {}
        definitions = self.definitions
        for number, text in enumerate(args.accept_rest(), 1):
            words = split_words(text)
            if len(words) < 2:
                args.error(f"argument {number}: expected 'NAME ADDRESS [ADDRESS...]'")
                continue
            name = words[0]
            given: set[AddressKind] = set()
            for word in words[1:]:
                kinds = address_kinds(word)
                if not kinds:
                    args.error(f"argument {number}: '{word}' is not a recognizable address")
                # A word of one kind always defines it; a word of several kinds
                # defines only those an earlier word did not.
                for kind, value in kinds.items():
                    if len(kinds) == 1 or kind not in given:
                        definitions[(name, kind)] = value
                given.update(kinds)
        args.complete()

    def address_definition(self, name: str, kind: AddressKind) -> Any | None:
        return self.definitions.get((name, kind))
