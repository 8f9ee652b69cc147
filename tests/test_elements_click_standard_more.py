"""More standard elements, from their Click manuals: Message, Error, Hub,
Bypass, DiscardNoFree, Resize, SetCRC32 and CheckCRC32."""

from __future__ import annotations

import logging

import pytest

from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)
from tests.test_elements_click_queue import configure, run


def kept(config: str, *names: str) -> list[list[bytes]]:
    """The data of the packets each named KeepingTestSink received, the run over."""
    router = configure(config)
    router.run(handle_signals=False)
    return [[p.data for p in router.element(name).packets] for name in names]


# --- Message and Error

def test_message_is_said_when_the_router_is_configured(caplog):
    caplog.set_level(logging.INFO)
    router = configure('m :: Message("read the manual"); Idle -> Discard')
    [record] = [r for r in caplog.records if r.name == "pyclick.Message"]
    assert (record.levelno, record.getMessage()) == (logging.INFO, "read the manual")
    assert (record.element, record.landmark) == ("m", "q.click:1")
    # The router itself is not affected.
    assert router.run(handle_signals=False) == 0


def test_message_types_warning_and_error(caplog):
    caplog.set_level(logging.INFO)
    configure('Message("old: use new.click", WARNING); Message(also, TYPE MESSAGE)')
    said = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "pyclick.Message"]
    assert said == [(logging.WARNING, "old: use new.click"), (logging.INFO, "also")]
    with pytest.raises(ConfigError) as err:
        configure('m :: Message("not finished", ERROR)')
    assert str(err.value) == "q.click:1: While configuring 'm :: Message': not finished"


def test_message_is_said_even_when_another_element_fails(caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(ConfigError, match="OUTPUT"):
        configure("Message(first); Idle -> Switch(x) -> Discard")
    assert [r.getMessage() for r in caplog.records if r.name == "pyclick.Message"] == ["first"]


@pytest.mark.parametrize("config, error", [
    ("Message()", "MESSAGE: missing mandatory argument"),
    ("Message(two words)", "MESSAGE: expected a single word, got 'two words'"),
    ("Message(hi, LOUD)", "TYPE: expected one of MESSAGE, WARNING, ERROR, got 'LOUD'"),
    ("Message(hi, warning)", "TYPE: expected one of MESSAGE, WARNING, ERROR, got 'warning'"),
    ("Message(hi, ERROR, x)", "too many arguments: 'x'"),
])
def test_message_refuses_bad_arguments(config, error):
    with pytest.raises(ConfigError) as err:
        configure(f"m :: {config}")
    assert str(err.value) == f"q.click:1: While configuring 'm :: Message': {error}"


def test_error_accepts_anything_then_keeps_the_router_from_starting():
    # Any arguments, keywords too, and ports of both kinds: configure passes.
    router = configure("e :: Error(anything at all, COUNT 3, 1.5);"
                       "Idle -> e -> Discard; Idle -> Queue -> [1] e [1] -> Unqueue -> Discard")
    with pytest.raises(ConfigError) as err:
        router.run(handle_signals=False)
    assert str(err.value) == \
        "q.click:1: While initializing 'e :: Error': an Error element never initializes"


# --- Hub

HUB3 = ("src :: InfiniteSource(DATA \\<0a0b>, LIMIT 2) -> [1] h :: Hub;"
        "Idle -> [0] h; Idle -> [2] h;"
        "h[0] -> k0 :: KeepingTestSink; h[1] -> k1 :: KeepingTestSink;"
        "h[2] -> k2 :: KeepingTestSink;")


def test_hub_sends_every_packet_out_of_every_other_output():
    assert kept(HUB3, "k0", "k1", "k2") == [[b"\x0a\x0b"] * 2, [], [b"\x0a\x0b"] * 2]


def test_hub_copies_to_the_first_outputs_and_gives_the_last_the_packet():
    router = configure(HUB3)
    packet = Packet(b"\x01\x02")
    router.element("h").push(2, [packet])
    k0, k1, k2 = (router.element(f"k{i}").packets for i in range(3))
    assert (len(k0), len(k1), k2) == (1, 1, [])
    assert k1[0] is packet and k0[0] is not packet and k0[0].data == b"\x01\x02"


def test_a_hub_of_one_port_drops_every_packet():
    assert run("InfiniteSource(LIMIT 3) -> c :: Counter -> Hub -> d :: Counter -> Discard",
               "c.count", "d.count") == ["3", "0"]


def test_hub_needs_as_many_outputs_as_inputs_and_takes_no_arguments():
    with pytest.raises(ConfigError, match="'h :: Hub' has no output 1"):
        configure("Idle -> h :: Hub -> Discard; h[1] -> Discard")
    with pytest.raises(ConfigError, match="While configuring 'h :: Hub': too many arguments"):
        configure("Idle -> h :: Hub(2) -> Discard")


# --- Bypass

BYPASS_PUSH = ("InfiniteSource(DATA \\<01>, LIMIT 3) -> b :: Bypass({}) -> k :: KeepingTestSink;"
               "b[1] -> side :: Counter -> {}")


@pytest.mark.parametrize("active, side, count", [
    ("", "[1] b", 0), ("false", "[1] b", 0), ("true", "[1] b", 3), ("ACTIVE true", "[1] b", 3),
    ("true, INLINE true", "[1] b", 3),
])
def test_push_bypass_sends_through_output_1_while_active(active, side, count):
    # Every packet comes back to output 0 by input 1, through the side path or not.
    config = BYPASS_PUSH.format(active, side)
    assert run(config, "side.count") == [str(count)]
    assert kept(config, "k") == [[b"\x01"] * 3]


def test_active_push_bypass_without_the_return_port_leaves_by_output_1_only():
    config = BYPASS_PUSH.format("true", "k1 :: KeepingTestSink")
    assert kept(config, "k", "k1") == [[], [b"\x01"] * 3]
    # With one output, an active Bypass passes packets as an inactive one.
    assert kept("InfiniteSource(DATA \\<01>, LIMIT 2) -> Bypass(true) -> k :: KeepingTestSink",
                "k") == [[b"\x01"] * 2]


@pytest.mark.parametrize("active, colors", [("false", [0, 0]), ("true", [7, 7])])
def test_pull_bypass_pulls_input_1_while_active(active, colors):
    router = configure("InfiniteSource(LIMIT 2) -> Queue -> b :: Bypass(" + active + ")"
                       "-> Unqueue -> k :: KeepingTestSink; b[1] -> Paint(7) -> [1] b")
    router.run(handle_signals=False)
    assert [p.paint for p in router.element("k").packets] == colors


def test_bypass_active_handler_switches_while_running():
    router = configure("Idle -> b :: Bypass -> k0 :: KeepingTestSink;"
                       "b[1] -> k1 :: KeepingTestSink")
    bypass, handlers = router.element("b"), router.handlers
    assert handlers.read("b.active") == "false"
    bypass.push(0, [Packet(b"a")])
    handlers.write("b.active", "true")
    assert handlers.read("b.active") == "true"
    bypass.push(0, [Packet(b"b")])
    handlers.write("b.active", "no")
    bypass.push(0, [Packet(b"c")])
    assert [[p.data for p in router.element(k).packets] for k in ("k0", "k1")] == \
        [[b"a", b"c"], [b"b"]]
    with pytest.raises(HandlerError, match="expected boolean"):
        handlers.write("b.active", "maybe")
    # A write changes the setting, not the configuration string.
    assert handlers.read("b.config") == ""


@pytest.mark.parametrize("config, error", [
    ("maybe", "ACTIVE: expected boolean"),
    ("INLINE 3", "INLINE: expected boolean"),
    ("true, false", "too many arguments: 'false'"),
])
def test_bypass_refuses_bad_arguments(config, error):
    with pytest.raises(ConfigError, match=f"While configuring 'b :: Bypass': {error}"):
        configure(f"Idle -> b :: Bypass({config}) -> Discard")


# --- DiscardNoFree

def test_discardnofree_drops_pushed_packets_without_counting():
    router = configure("InfiniteSource(LIMIT 5) -> c :: Counter -> d :: DiscardNoFree")
    assert run("InfiniteSource(LIMIT 5) -> c :: Counter -> d :: DiscardNoFree",
               "c.count") == ["5"]
    with pytest.raises(HandlerError):
        router.handlers.read("d.count")


def test_discardnofree_pulls_one_packet_per_run_and_never_sleeps(capsys):
    # Unlike Discard, it does not wait for the empty Queue to fill again.
    assert run("InfiniteSource(LIMIT 5) -> q :: Queue -> c :: Counter -> d :: DiscardNoFree;"
               "Script(wait 1, print d.scheduled, stop)", "c.count", "q.length") == ["5", "0"]
    assert capsys.readouterr().out == "true\n"


def test_discardnofree_takes_no_arguments():
    with pytest.raises(ConfigError, match="'d :: DiscardNoFree': too many arguments"):
        configure("Idle -> d :: DiscardNoFree(1)")
    with pytest.raises(ConfigError, match="'d :: DiscardNoFree': BURST: unknown keyword"):
        configure("Idle -> d :: DiscardNoFree(BURST 1)")


# --- Resize

FIVE = "InfiniteSource(DATA \\<0102030405>, LIMIT 1) -> "


@pytest.mark.parametrize("resize, data", [
    ("Resize", b"\x01\x02\x03\x04\x05"),
    ("Resize(-2, -1)", b"\x03\x04"),
    ("Resize(TAIL -2, HEAD -1)", b"\x02\x03"),
    ("Resize(-9, -1)", b""),
    ("Resize(0, -9)", b""),
    ("Resize(-2) -> Resize(2)", b"\x01\x02\x03\x04\x05"),
    ("Strip(3) -> Resize(HEAD 2)", b"\x02\x03\x04\x05"),
])
def test_resize_moves_both_ends(resize, data):
    assert kept(f"{FIVE}{resize} -> k :: KeepingTestSink", "k") == [[data]]


def test_resize_grows_packets_at_both_ends():
    [[data]] = kept(f"{FIVE}Resize(2, 3) -> k :: KeepingTestSink", "k")
    assert len(data) == 10 and data[2:7] == b"\x01\x02\x03\x04\x05"


def test_resize_head_and_tail_handlers():
    router = configure(f"{FIVE}r :: Resize(HEAD 1, TAIL -1) -> k :: KeepingTestSink")
    handlers = router.handlers
    assert [handlers.read("r.head"), handlers.read("r.tail")] == ["1", "-1"]
    handlers.write("r.head", "-3")
    handlers.write("r.tail", "0x10")
    assert [handlers.read("r.head"), handlers.read("r.tail")] == ["-3", "16"]
    with pytest.raises(HandlerError, match="expected integer"):
        handlers.write("r.tail", "4x")
    with pytest.raises(HandlerError, match="at most 2147483647"):
        handlers.write("r.head", "2147483648")
    router.run(handle_signals=False)
    [packet] = router.element("k").packets
    assert packet.data[:2] == b"\x04\x05" and len(packet) == 18


@pytest.mark.parametrize("config, error", [
    ("a", "HEAD: expected integer, got 'a'"),
    ("HEAD 1.5", "HEAD: expected integer, got '1.5'"),
    ("2147483648", "HEAD: must be at least -2147483648 and at most 2147483647"),
    ("0, -2147483649", "TAIL: must be at least -2147483648 and at most 2147483647"),
    ("1, 2, 3", "too many arguments: '3'"),
    ("FOO 1", "FOO: unknown keyword"),
])
def test_resize_refuses_bad_arguments(config, error):
    with pytest.raises(ConfigError, match=f"While configuring 'r :: Resize': {error}"):
        configure(f"Idle -> r :: Resize({config}) -> Discard")


# --- SetCRC32, CheckCRC32

def click_crc32(data: bytes) -> bytes:
    """Click's CRC bit by bit: polynomial 0x04C11DB7 fed most significant bit
    first, register from all ones, no final inversion; least significant
    byte first."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc.to_bytes(4, "little")


def test_the_reference_crc_is_crc32_mpeg2():
    # The published check value of CRC-32/MPEG-2 over "123456789" is 0x0376E6E7.
    assert click_crc32(b"123456789") == bytes([0xE7, 0xE6, 0x76, 0x03])


@pytest.mark.parametrize("data", [b"123456789", b"", b"\x01\x02\x03\x04\x05",
                                  bytes(range(256)) * 6])
def test_setcrc32_appends_clicks_crc(data):
    source = f"InfiniteSource(DATA \\<{data.hex()}>, LIMIT 2)" if data else \
        'InfiniteSource(DATA "", LIMIT 2)'
    assert kept(f"{source} -> SetCRC32 -> k :: KeepingTestSink", "k") == \
        [[data + click_crc32(data)] * 2]


def test_checkcrc32_removes_a_good_crc():
    assert kept('InfiniteSource(DATA "123456789", LIMIT 3) -> SetCRC32 -> SetCRC32'
                "-> CheckCRC32 -> CheckCRC32 -> k :: KeepingTestSink", "k") == \
        [[b"123456789"] * 3]
    # Four bytes that are the CRC of nothing: an empty packet is left.
    assert kept("InfiniteSource(DATA \\<ffffffff>, LIMIT 1) -> CheckCRC32"
                "-> k :: KeepingTestSink", "k") == [[b""]]


def one_bit_off(data: bytes) -> bytes:
    """``data`` with its CRC appended, the last bit of the CRC flipped."""
    crc = click_crc32(data)
    return data + crc[:3] + bytes([crc[3] ^ 1])


@pytest.mark.parametrize("data", [b"123456789", b"12", b"", one_bit_off(b"\x01\x02\x03")])
def test_checkcrc32_drops_a_bad_or_missing_crc_with_a_warning(data, caplog):
    source = f"InfiniteSource(DATA \\<{data.hex()}>, LIMIT 2)" if data else \
        'InfiniteSource(DATA "", LIMIT 2)'
    assert kept(f"{source} -> c :: CheckCRC32 -> k :: KeepingTestSink", "k") == [[]]
    warnings = [r.getMessage() for r in caplog.records if r.name == "pyclick.CheckCRC32"]
    assert warnings == [f"c :: CheckCRC32: CRC32 failed, len {len(data)}"] * 2


def test_crc_elements_work_pulled_and_take_no_arguments():
    assert kept('InfiniteSource(DATA "123456789", LIMIT 1) -> Queue -> SetCRC32 -> Unqueue'
                "-> k :: KeepingTestSink", "k") == [[b"123456789" + click_crc32(b"123456789")]]
    for cls in ("SetCRC32", "CheckCRC32"):
        with pytest.raises(ConfigError, match=f"'e :: {cls}': too many arguments: '1'"):
            configure(f"Idle -> e :: {cls}(1) -> Discard")
