"""AddressInfo: names for addresses in every element's configuration, whatever the
declaration order, local to compounds, with Click's suffixes; errors naming the
element and the keyword."""

from __future__ import annotations

import pytest

from pyclick.elements.addressinfo import address_kinds
from pyclick.elements.addressnames import AddressKind, compound_of, split_suffix
from pyclick.errors import ConfigError
from pyclick.kernel import ifaddr
from pyclick.lang import flatten
from pyclick.router import Router
from tests.helpers import handler_values

ME = "AddressInfo(me 10.0.0.1/24 00:01:02:03:04:05 fd00::1/64);"


def configured(text: str) -> Router:
    router = Router(flatten(text, "ai.click"), simtime=True)
    router.configure()
    return router


def handlers_of(capsys, config: str, *names: str) -> list[str]:
    return handler_values(capsys, ["-q", "-e", config], *names)


# --- what a word defines

def test_address_kinds_of_each_written_form():
    assert address_kinds("10.0.0.1") == {AddressKind.IP: bytes([10, 0, 0, 1])}
    # A prefix with host bits is also the address; a network alone is not.
    assert address_kinds("10.0.0.1/24") == {AddressKind.IP: bytes([10, 0, 0, 1]),
                                            AddressKind.IPNET: (bytes([10, 0, 0, 1]), 24)}
    assert address_kinds("10.0.0.0/8") == {AddressKind.IPNET: (bytes([10, 0, 0, 0]), 8)}
    assert address_kinds("1:2:3:4:5:6") == {AddressKind.ETHER: bytes([1, 2, 3, 4, 5, 6])}
    assert address_kinds("fd00::/64") == {AddressKind.IP6NET: (bytes([0xFD] + [0] * 15), 64)}
    assert address_kinds("fd00::1") == {AddressKind.IP6: bytes([0xFD] + [0] * 14 + [1])}
    assert address_kinds("bogus") == {}


def test_suffixes_and_scopes():
    assert split_suffix("me:IP", AddressKind.IP) == "me"
    assert split_suffix("me:ip4net", AddressKind.IPNET) == "me"
    assert split_suffix("me:eth", AddressKind.IP) is None
    assert split_suffix("me", AddressKind.ETHER) == "me"
    assert compound_of("a/b/x") == "a/b/"
    assert compound_of("x") == ""


# --- names in other elements' configurations

def test_names_in_address_arguments_whatever_the_order(capsys):
    # EtherEncap is declared before the AddressInfo it reads.
    config = ("e :: EtherEncap(0x0800, me, peer:eth); Idle -> e -> Discard;"
              + ME + "AddressInfo(peer 10.0.0.2 1:2:3:4:5:6);"
              "u :: UDPIPEncap(me, 1234, peer, 80); Idle -> u -> Discard;"
              "s :: SetIPAddress(me:bcast); Idle -> s -> Discard")
    assert handlers_of(capsys, config, "e.src", "e.dst", "u.src", "u.dst", "s.addr") == [
        "00-01-02-03-04-05", "01-02-03-04-05-06", "10.0.0.1", "10.0.0.2", "10.0.0.255"]


def test_arpresponder_takes_both_addresses_from_one_name(capsys):
    # me has an address and a prefix: the address wins (a /32), unless :ipnet asks.
    config = ME + "a :: ARPResponder(me, me:ipnet 2:2:2:2:2:2); Idle -> a -> Discard"
    assert handlers_of(capsys, config, "a.table") == [
        "10.0.0.1/32 00-01-02-03-04-05\n10.0.0.0/24 02-02-02-02-02-02"]


def test_staticiplookup_routes_with_names(capsys):
    config = (ME + "s :: StaticIPLookup(me:ip/32 0, me:ipnet 1, 0/0 me:gw 1);"
              "Idle -> s; s[0] -> Discard; s[1] -> Discard")
    assert handlers_of(capsys, config, "s.table") == [
        "10.0.0.1/32\t\t-\t\t0\n10.0.0.0/24\t\t-\t\t1\n0.0.0.0/0\t\t10.0.0.1\t1"]


def test_names_are_local_to_compounds(capsys):
    config = ("AddressInfo(outer 10.0.0.1);"
              "elementclass C { AddressInfo(inner 10.9.9.9, outer 10.8.8.8);"
              " input -> s :: SetIPAddress(outer) -> t :: SetIPAddress(inner) -> output };"
              "c :: C; Idle -> c -> Discard; top :: SetIPAddress(outer); Idle -> top -> Discard")
    # Inside the compound its own definition hides the outer one.
    assert handlers_of(capsys, config, "c/s.addr", "c/t.addr", "top.addr") == [
        "10.8.8.8", "10.9.9.9", "10.0.0.1"]
    with pytest.raises(ConfigError) as err:
        configured("elementclass C { AddressInfo(inner 10.9.9.9); input -> output };"
                   "c :: C; Idle -> c -> s :: SetIPAddress(inner) -> Discard")
    assert str(err.value) == ("ai.click:1: While configuring 's :: SetIPAddress': "
                              "IPADDR: expected IP address, got 'inner'")


def test_wrong_kind_of_name_names_element_and_keyword():
    with pytest.raises(ConfigError) as err:
        configured(ME + "Idle -> e :: EtherEncap(0x0800, me:ip, me) -> Discard")
    assert str(err.value) == ("ai.click:1: While configuring 'e :: EtherEncap': "
                              "SRC: expected Ethernet address (e.g. 00:11:22:33:44:55), "
                              "got 'me:ip'")


def test_addressinfo_errors():
    with pytest.raises(ConfigError) as err:
        configured("AddressInfo(lonely, x 10.0.0.1 nonsense)")
    prefix = "ai.click:1: While configuring 'AddressInfo@1 :: AddressInfo': "
    assert str(err.value).splitlines() == [
        prefix + "argument 1: expected 'NAME ADDRESS [ADDRESS...]'",
        prefix + "argument 2: 'nonsense' is not a recognizable address"]


def test_a_mistake_in_addressinfo_leaves_its_good_names_to_the_others():
    # The elements configured after it still look names up in it: the good
    # definition serves, the mistakes are reported once.
    with pytest.raises(ConfigError) as err:
        configured("AddressInfo(lonely, x 10.0.0.1); "
                   "Idle -> IPEncap(4, x, lonely) -> Discard")
    assert str(err.value).splitlines() == [
        "ai.click:1: While configuring 'AddressInfo@1 :: AddressInfo': "
        "argument 1: expected 'NAME ADDRESS [ADDRESS...]'",
        "ai.click:1: While configuring 'IPEncap@3 :: IPEncap': "
        "DST: expected IP address or 'DST_ANNO', got 'lonely'"]


def test_ip6_names():
    router = configured(ME)
    info = router.elements[0]
    assert info.address_definition("me", AddressKind.IP6) == bytes([0xFD] + [0] * 14 + [1])
    assert info.address_definition("me", AddressKind.IP6NET) == (
        bytes([0xFD] + [0] * 14 + [1]), 64)
    assert info.address_definition("you", AddressKind.IP) is None


# --- a device's name, when no AddressInfo defines it

def test_device_addresses_from_sysfs(tmp_path):
    for name, kind, address in (("veth9", "1", "02:aa:bb:cc:dd:ee"),
                                ("tun9", "65534", "00:00:00:00:00:00")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "type").write_text(kind + "\n")
        (tmp_path / name / "address").write_text(address + "\n")
    assert ifaddr.ether_address("veth9", sysfs=str(tmp_path)) == bytes.fromhex("02aabbccddee")
    # Not an Ethernet device; no such device; not a device name at all.
    assert ifaddr.ether_address("tun9", sysfs=str(tmp_path)) is None
    assert ifaddr.ether_address("nothere", sysfs=str(tmp_path)) is None
    assert ifaddr.ether_address("../etc", sysfs=str(tmp_path)) is None


def test_loopback_device_name_as_an_ip_address(capsys):
    config = ("a :: SetIPAddress(lo); b :: SetIPAddress(lo:bcast);"
              "Idle -> a -> Discard; Idle -> b -> Discard")
    assert handlers_of(capsys, config, "a.addr", "b.addr") == ["127.0.0.1", "127.255.255.255"]
