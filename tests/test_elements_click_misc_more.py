"""More elements from Click's manuals: SetVLANAnno, CompareBlock, Clipboard,
RandomBitErrors, IPFieldInfo, IPNameInfo, QuitWatcher, TCPFragmenter, ChangeUID,
ProgressBar, ARPTable."""

from __future__ import annotations

import io
import logging
import os
import random
import struct
import subprocess
import sys
from math import comb
from pathlib import Path

import pytest

from pyclick.args import UNSIGNED
from pyclick.element import AGNOSTIC, Element
from pyclick.elements import progressbar
from pyclick.elements.inet import checksum, transport_checksum
from pyclick.elements.randombiterrors import _thresholds
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import ANNOTATIONS, Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)

REPO = Path(__file__).resolve().parent.parent


class MiscRates(Element):
    """MiscRates(FWD, REV) -- sets the forward and reverse rate annotations"""

    port_count = "1/1"
    processing = AGNOSTIC

    def configure(self, args) -> None:
        self.fwd = args.read_mp("FWD", UNSIGNED)
        self.rev = args.read_mp("REV", UNSIGNED)
        args.complete()

    def simple_action(self, packet: Packet) -> Packet:
        packet.set_anno_u32(ANNOTATIONS["FWD_RATE"][0], self.fwd)
        packet.set_anno_u32(ANNOTATIONS["REV_RATE"][0], self.rev)
        return packet


def router_of(config: str) -> Router:
    router = Router(flatten(config, filename="t.click"), simtime=True)
    router.configure()
    return router


def run(config: str, *handlers: str) -> tuple[Router, list[str]]:
    router = router_of(config)
    values: list[str] = []
    router.run(handle_signals=False,
               before_cleanup=lambda: values.extend(router.handlers.read(h) for h in handlers))
    return router, values


def kept(config: str, name: str = "k") -> list[bytes]:
    router, _ = run(config)
    return [p.data for p in router.element(name).packets]


# --- SetVLANAnno

def test_set_vlan_anno_sets_the_id_and_priority():
    router, _ = run("InfiniteSource(LIMIT 2) -> SetVLANAnno(VLAN_ID 5, VLAN_PCP 1)"
                    " -> k :: KeepingTestSink")
    assert [p.vlan_tci for p in router.element("k").packets] == [5 + (1 << 13)] * 2


def test_set_vlan_anno_tci_wins_over_the_id():
    router, _ = run("InfiniteSource(LIMIT 1) -> SetVLANAnno(VLAN_ID 5, VLAN_TCI 6)"
                    " -> k :: KeepingTestSink")
    assert router.element("k").packets[0].vlan_tci == 6


def test_set_vlan_anno_handlers_go_through_id_and_priority():
    router = router_of("Idle -> s :: SetVLANAnno(0x1005, 3) -> Discard")
    read, write = router.handlers.read, router.handlers.write
    # 0x1005 with priority 3 in the top bits: 0x7005.
    assert [read("s.vlan_tci"), read("s.vlan_id"), read("s.vlan_pcp")] == ["28677", "5", "3"]
    assert read("s.config") == "VLAN_ID 5, VLAN_PCP 3"
    write("s.vlan_id", "7")
    assert read("s.vlan_tci") == str(0x6007)
    write("s.vlan_pcp", "2")
    assert [read("s.vlan_tci"), read("s.config")] == [str(0x4007), "VLAN_ID 7, VLAN_PCP 2"]
    write("s.vlan_tci", "0xF00F")
    assert read("s.vlan_tci") == str(0xF00F)
    with pytest.raises(HandlerError, match="at most 4095"):
        write("s.vlan_id", "5000")


@pytest.mark.parametrize("config, message", [
    ("70000", "VLAN_TCI: must be at least 0 and at most 65535, got '70000'"),
    ("VLAN_PCP 8", "VLAN_PCP: must be at least 0 and at most 7, got '8'"),
    ("VLAN_ID 4096", "VLAN_ID: must be at least 0 and at most 4095, got '4096'"),
])
def test_set_vlan_anno_refuses_values_out_of_range(config, message):
    with pytest.raises(ConfigError, match=f"'s :: SetVLANAnno': {message}"):
        router_of(f"Idle -> s :: SetVLANAnno({config}) -> Discard")


# --- CompareBlock

@pytest.mark.parametrize("rates, config, counts", [
    ((200, 50), "1, 1, 10", ["0", "3"]),     # 200 > 10, 200 > 50
    ((200, 50), "1, 5, 10", ["3", "0"]),     # 200 > 250 fails
    ((5, 0), "1, 0, 10", ["3", "0"]),        # neither rate above 10
    ((2**32 - 1, 0), "-1, -5, 0", ["0", "3"]),  # both count as 1: -1 > -5
])
def test_compare_block_weighs_the_rates(rates, config, counts):
    _, values = run(f"InfiniteSource(LIMIT 3) -> MiscRates{rates} -> b :: CompareBlock({config})"
                    " -> c0 :: Counter -> Discard; b[1] -> c1 :: Counter -> Discard",
                    "c0.count", "c1.count")
    assert values == counts


def test_compare_block_weights_are_handlers_and_thresh_is_not():
    router = router_of("Idle -> b :: CompareBlock(5, -2, 3) -> Discard; b[1] -> Discard")
    assert [router.handlers.read("b.fwd_weight"), router.handlers.read("b.rev_weight")] \
        == ["5", "-2"]
    router.handlers.write("b.fwd_weight", "7")
    assert router.handlers.read("b.fwd_weight") == "7"
    with pytest.raises(HandlerError, match="expected integer, got 'x'"):
        router.handlers.write("b.rev_weight", "x")
    assert not router.handlers.exists("b.thresh")


def test_compare_block_needs_three_integers():
    with pytest.raises(ConfigError, match="'b :: CompareBlock': THRESH: missing mandatory"):
        router_of("Idle -> b :: CompareBlock(5, 2) -> Discard; b[1] -> Discard")
    with pytest.raises(ConfigError, match="THRESH: expected integer, got 'x'"):
        router_of("Idle -> b :: CompareBlock(5, 2, x) -> Discard; b[1] -> Discard")


# --- Clipboard

_CLIP = r"\<0102030405060708>"


def test_clipboard_copies_ranges_from_input_0_into_input_1_packets():
    data = kept(f"InfiniteSource({_CLIP}, LIMIT 1) -> c :: Clipboard(1/2, 5/1)"
                " -> k0 :: KeepingTestSink;"
                r"TimedSource(0.1, \<AAAAAAAAAAAA>, LIMIT 1) -> [1]c[1] -> k :: KeepingTestSink;"
                r"TimedSource(0.2, \<BBBBBB>, LIMIT 1, STOP true) -> [1]c")
    # Bytes 1-2 (02 03) and 5 (06) pasted; the 3-byte packet is too short for 5/1.
    assert data == [bytes.fromhex("aa0203aaaa06"), bytes.fromhex("bbbbbb")]


def test_clipboard_passes_input_0_packets_unchanged():
    assert kept(f"InfiniteSource({_CLIP}, LIMIT 1, STOP true) -> c :: Clipboard(1/2)"
                " -> k :: KeepingTestSink; Idle -> [1]c[1] -> Discard") \
        == [bytes(range(1, 9))]


def test_clipboard_pastes_zeros_before_any_copy():
    assert kept(r"Idle -> c :: Clipboard(0/1, 2/2) -> Discard;"
                r"InfiniteSource(\<FFFFFFFF>, LIMIT 1, STOP true) -> [1]c[1]"
                " -> k :: KeepingTestSink") == [bytes.fromhex("00ff0000")]


def test_clipboard_works_pulled():
    data = kept(f"InfiniteSource({_CLIP}, LIMIT 1) -> Queue -> c :: Clipboard(0/1)"
                " -> Unqueue -> Discard;"
                r"TimedSource(0.1, \<AAAA>, LIMIT 1, STOP true) -> Queue -> [1]c[1] -> Unqueue"
                " -> k :: KeepingTestSink")
    assert data == [bytes.fromhex("01aa")]


@pytest.mark.parametrize("config, message", [
    ("4", "range 0: expected '/' between offset and length"),
    ("0/4, /4", "range 1: expected '/' between offset and length"),
    ("0/4, x/2", "OFFSET: expected unsigned integer, got 'x'"),
    ("1/-2", "range 0: invalid offset or length"),
])
def test_clipboard_refuses_bad_ranges(config, message):
    with pytest.raises(ConfigError, match=f"'c :: Clipboard': {message}"):
        router_of(f"Idle -> c :: Clipboard({config}) -> Discard; Idle -> [1]c[1] -> Discard")


# --- RandomBitErrors

def test_random_bit_errors_at_probability_1_change_every_bit():
    data = kept(r"InfiniteSource(\<00FF0F>, LIMIT 1, STOP true) -> RandomBitErrors(1)"
                " -> k :: KeepingTestSink")
    assert data == [bytes.fromhex("ff00f0")]
    for kind, expected in (("set", "ffffff"), ("clear", "000000")):
        assert kept(rf"InfiniteSource(\<00FF0F>, LIMIT 1, STOP true) -> RandomBitErrors(1, {kind})"
                    " -> k :: KeepingTestSink") == [bytes.fromhex(expected)]


def test_inactive_random_bit_errors_change_nothing():
    assert kept(r"InfiniteSource(\<00FF>, LIMIT 1, STOP true) -> RandomBitErrors(1, ACTIVE false)"
                " -> k :: KeepingTestSink") == [bytes.fromhex("00ff")]


def test_random_bit_errors_odds_of_k_bits_in_a_byte():
    # P 1/2: each of the 256 patterns is equally likely, C(8, k) of them with k bits.
    sums = [(1 << 20) * sum(comb(8, j) for j in range(k + 1)) for k in range(8)]
    assert _thresholds(1 << 27) == sums + [1 << 28]
    assert _thresholds(0) == [1 << 28] * 9
    assert _thresholds(1 << 28)[:8] == [0] * 8


def test_random_bit_errors_change_bits_at_the_rate_asked():
    router = router_of(r"InfiniteSource(\<00000000000000000000>, LIMIT 1000, STOP true)"
                       " -> r :: RandomBitErrors(0.1) -> k :: KeepingTestSink")
    router.element("r")._random = random.Random(11)
    router.run(handle_signals=False)
    ones = sum(b.bit_count() for p in router.element("k").packets for b in p.data)
    # 80000 bits, each set with chance 0.1: 8000 expected, standard deviation 85.
    assert 7500 < ones < 8500


def test_random_bit_errors_handlers_rewrite_the_configuration():
    router = router_of("Idle -> r :: RandomBitErrors(0.1, set, false) -> Discard")
    read, write = router.handlers.read, router.handlers.write
    assert [read("r.p_bit_error"), read("r.error_kind"), read("r.active")] \
        == ["0.1", "set", "false"]
    write("r.p_bit_error", "0.25")
    write("r.error_kind", "clear")
    assert [read("r.p_bit_error"), read("r.config")] == ["0.25", "0.25, clear, false"]
    with pytest.raises(HandlerError, match="must be 'set', 'clear', or 'flip'"):
        write("r.error_kind", "bogus")


def test_random_bit_errors_prints_probabilities_in_28_bit_fixed_point():
    router = router_of("Idle -> r :: RandomBitErrors(0.123456789) -> Discard")
    # round(0.123456789 * 2^28) = 33140357, printed back as 0.12345678766.
    assert router.handlers.read("r.p_bit_error") == "0.12345678766"


def test_random_bit_errors_warns_of_a_zero_probability(caplog):
    with caplog.at_level(logging.WARNING):
        router_of("Idle -> r :: RandomBitErrors(1e-9) -> Discard")
    assert "zero bit error probability" in caplog.text


@pytest.mark.parametrize("config, message", [
    ("", "P: missing mandatory argument"),
    ("1.5", "P: expected probability between 0 and 1, got '1.5'"),
    ("0.5, foo", "KIND: must be 'set', 'clear', or 'flip', got 'foo'"),
])
def test_random_bit_errors_refuse_bad_arguments(config, message):
    with pytest.raises(ConfigError, match=f"'r :: RandomBitErrors': {message}"):
        router_of(f"Idle -> r :: RandomBitErrors({config}) -> Discard")


# --- IPFieldInfo, IPNameInfo

@pytest.mark.parametrize("cls", ["IPFieldInfo", "IPNameInfo"])
def test_name_info_elements_take_no_arguments(cls):
    router = router_of(f"i :: {cls}; Idle -> Discard")
    assert router.handlers.read("i.class") == cls
    with pytest.raises(ConfigError, match=f"'i :: {cls}': too many arguments: 'x'"):
        router_of(f"i :: {cls}(x)")


# --- QuitWatcher

def test_quit_watcher_stops_once_a_task_is_unscheduled():
    router, values = run("s :: InfiniteSource(LIMIT 3) -> a :: Counter -> Discard;"
                         "TimedSource(0.004, LIMIT 100) -> t :: Counter -> Discard;"
                         "QuitWatcher(s)", "a.count", "t.count")
    # The source is done at once; the first look, 10 ms in, stops the router:
    # by then the timed source sent at 4 and 8 ms.
    assert values == ["3", "2"]
    assert router.now() == pytest.approx(0.01)


def test_quit_watcher_needs_elements_with_tasks():
    with pytest.raises(ConfigError, match="While initializing 'QuitWatcher@1 :: QuitWatcher': "
                                          "no element named 'nope'"):
        router_of("QuitWatcher(nope)").run(handle_signals=False)
    with pytest.raises(ConfigError, match="no 'd.scheduled' read handler"):
        router_of("Idle -> d :: Discard; QuitWatcher(d)").run(handle_signals=False)


# --- TCPFragmenter

def tcp_packet(payload: bytes, flags: int = 0x18) -> bytes:
    tcp = struct.pack("!HHIIBBHHH", 1234, 80, 1000, 0, 5 << 4, flags, 8192, 0, 0)
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 7, 0, 64, 6, 0,
                               bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])))
    ip[10:12] = struct.pack("!H", checksum(ip))
    return bytes(ip) + tcp + payload


def fragments(payload: bytes, config: str, flags: int = 0x18, before: str = ""
              ) -> tuple[list[bytes], list[str]]:
    frame = tcp_packet(payload, flags).hex()
    router, values = run(f"InfiniteSource(\\<{frame}>, LIMIT 1, STOP true)"
                         f" -> CheckIPHeader {before} -> t :: TCPFragmenter({config})"
                         " -> k :: KeepingTestSink",
                         "t.count", "t.fragmented_count", "t.fragments")
    return [p.data for p in router.element("k").packets], values


def check_segment(segment: bytes) -> None:
    assert checksum(segment[:20]) == 0
    assert transport_checksum(segment[12:16], segment[16:20], 6, segment[20:]) == 0


def test_tcp_fragmenter_cuts_the_payload_to_fit():
    payload = bytes(range(1, 11))
    out, counts = fragments(payload, "MTU 44")
    # 40 bytes of headers: 4 payload bytes a segment.
    assert [len(s) for s in out] == [44, 44, 42]
    assert [s[40:] for s in out] == [payload[0:4], payload[4:8], payload[8:10]]
    assert [struct.unpack_from("!H", s, 2)[0] for s in out] == [44, 44, 42]
    assert [struct.unpack_from("!I", s, 24)[0] for s in out] == [1000, 1004, 1008]
    for segment in out:
        check_segment(segment)
    assert counts == ["1", "1", "3"]


def test_tcp_fragmenter_leaves_packets_under_the_limit():
    packet = tcp_packet(bytes(10))
    assert fragments(bytes(10), "MTU 51") == ([packet], ["1", "0", "0"])
    # A packet exactly at the limit counts as cut, into one segment: its
    # TCP checksum, 0 here, is set.
    out, counts = fragments(bytes(10), "MTU 50")
    assert [s[:36] + s[38:] for s in out] == [packet[:36] + packet[38:]]
    check_segment(out[0])
    assert counts == ["1", "1", "1"]


def test_tcp_fragmenter_clears_fin_only_a_limit_from_the_end():
    out, _ = fragments(bytes(100), "MTU 60", flags=0x19)
    # 20 payload bytes a segment; FIN goes where offset + 60 < 100: offsets 0 and 20.
    assert [s[33] for s in out] == [0x18, 0x18, 0x19, 0x19, 0x19]


def test_tcp_fragmenter_takes_a_lower_limit_from_an_annotation():
    out, _ = fragments(bytes(10), "MTU 1500, MTU_ANNO 20", before="-> SetAnnoByte(20, 45)")
    assert [len(s) for s in out] == [45, 45]
    out, _ = fragments(bytes(10), "MTU 44, MTU_ANNO 20", before="-> SetAnnoByte(20, 45)")
    assert [len(s) for s in out] == [44, 44, 42]


@pytest.mark.parametrize("config, message", [
    ("", "At least one of MTU and MTU_ANNO must be set"),
    ("MTU 70000", "MTU: must be at least 0 and at most 65535, got '70000'"),
    ("500", "too many arguments: '500'"),
])
def test_tcp_fragmenter_refuses_bad_arguments(config, message):
    with pytest.raises(ConfigError, match=f"'t :: TCPFragmenter': {message}"):
        router_of(f"Idle -> t :: TCPFragmenter({config}) -> Discard")


# --- ChangeUID (run in a child process: it changes the process's IDs)

_CHILD = """
import os, sys
from pyclick.lang import flatten
from pyclick.router import Router
if sys.argv[1] == "drop":
    os.setresgid(65534, 0, 0)
    os.setresuid(65534, 0, 0)
router = Router(flatten("ChangeUID; Script(stop)", filename="t.click"), simtime=True)
router.configure()
router.run(handle_signals=False)
print(os.getuid(), os.geteuid(), os.getgid(), os.getegid())
"""


def child(mode: str) -> str:
    done = subprocess.run([sys.executable, "-c", _CHILD, mode], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_change_uid_keeps_a_process_without_privilege_as_it_is():
    assert child("keep") == [str(os.getuid())] * 2 + [str(os.getgid())] * 2


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start with set-uid privileges")
def test_change_uid_gives_up_the_effective_ids():
    assert child("drop") == ["65534"] * 4


def test_change_uid_takes_no_arguments():
    with pytest.raises(ConfigError, match="'c :: ChangeUID': too many arguments: 'x'"):
        router_of("c :: ChangeUID(x)")


# --- ProgressBar

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def on_terminal(monkeypatch) -> FakeTerminal:
    # In the test itself: pytest sets its own standard error for each phase.
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.setattr(progressbar, "_foreground", lambda: True)
    monkeypatch.setattr(progressbar, "_width", lambda: 100)
    return screen


_HALF = "InfiniteSource(LIMIT 500) -> c :: Counter -> Discard;"


def test_progress_bar_draws_a_fixed_size_bar(monkeypatch):
    terminal = on_terminal(monkeypatch)
    run(_HALF + "p :: ProgressBar(c.count, FIXED_SIZE 1000, BANNER hi);"
        "Script(wait 0.3, write p.mark_done, stop)")
    drawings = terminal.getvalue().split("\r")
    # 100 columns: 9 before the bar (carriage return included), 25 after it, and 8
    # more as the position is not shown.
    assert drawings[-2] == "hi  50% |" + "*" * 37 + " " * 37 + "|    00:00 ETA"
    # Done: the size becomes the position, the time spent replaces the ETA.
    assert drawings[-1] == "hi 100% |" + "*" * 74 + "|    00:00    \n"


def test_progress_bar_without_size_bounces_and_ends_with_dashes(monkeypatch):
    terminal = on_terminal(monkeypatch)
    run(_HALF + "p :: ProgressBar(c.count); Script(wait 0.3, write p.mark_stopped, stop)")
    drawings = terminal.getvalue().split("\r")
    # 100 columns, less the carriage return and 25 after the bar: 74; 500 / 100000
    # is 0: the mark at the left.
    assert drawings[-2] == "|***" + " " * 71 + "|   500      --:-- ETA"
    assert drawings[-1] == "|" + "-" * 74 + "|   500      00:00    \n"


def test_progress_bar_shortens_large_positions(monkeypatch):
    terminal = on_terminal(monkeypatch)
    run("i :: InfiniteSource(LIMIT 200000) -> c :: Counter -> Discard;"
        "p :: ProgressBar(c.count, i.limit); Script(wait 0.3, stop)")
    # 200000 / 1024 = 195.3: 195KB.
    assert "|   195KB " in terminal.getvalue()


def test_progress_bar_draws_nothing_off_a_terminal(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stderr", screen)
    _, values = run(_HALF + "p :: ProgressBar(c.count, FIXED_SIZE 10); Script(wait 0.3, stop)",
                    "p.pos", "p.size")
    assert screen.getvalue() == ""
    assert values == ["0", "10"]


def test_progress_bar_handlers():
    router = router_of("Idle -> a :: Counter -> b :: Counter -> Discard;"
                       "p :: ProgressBar(a.count b.count, BANNER hi)")
    router.initialize()
    read, write = router.handlers.read, router.handlers.write
    assert [read("p.pos"), read("p.size"), read("p.active"), read("p.banner")] \
        == ["0", "-1", "true", "hi"]
    assert [read("p.poshandler"), read("p.sizehandler")] == ["a.count b.count", ""]
    write("p.size", "1e20")
    write("p.sizehandler", "a.count")
    assert [read("p.size"), read("p.sizehandler")] == ["1e+20", "a.count"]
    write("p.banner", '"a b"')
    assert read("p.banner") == '"a b"'
    with pytest.raises(HandlerError, match="no element named 'nope'"):
        write("p.poshandler", "nope.count")
    with pytest.raises(HandlerError, match="expected real number, got 'x'"):
        write("p.size", "x")
    router.cleanup()


def test_progress_bar_refuses_bad_arguments():
    with pytest.raises(ConfigError, match="'p :: ProgressBar': POSHANDLER: missing mandatory"):
        router_of("p :: ProgressBar()")
    with pytest.raises(ConfigError, match="UPDATE: expected time"):
        router_of("p :: ProgressBar(c.count, UPDATE -1)")
    with pytest.raises(ConfigError, match="While initializing 'p :: ProgressBar': "
                                          "no 'a.nope' read handler"):
        router_of("Idle -> a :: Counter -> Discard; p :: ProgressBar(a.nope)"
                  ).run(handle_signals=False)


# --- ARPTable

def test_arp_table_handlers():
    router = router_of("t :: ARPTable")
    read, write = router.handlers.read, router.handlers.write
    write("t.insert", "1.0.0.1 1:2:3:4:5:6")
    write("t.insert", "1.0.0.2 ff:ff:ff:ff:ff:ff")
    write("t.delete", "1.0.0.3")
    assert read("t.table") == ("1.0.0.1 1 01-02-03-04-05-06 0.000000\n"
                               "1.0.0.2 0 FF-FF-FF-FF-FF-FF 0.000000\n"
                               "1.0.0.3 0 FF-FF-FF-FF-FF-FF 0.000000\n")
    assert [read("t.count"), read("t.length"), read("t.drops")] == ["3", "0", "0"]
    # Learned again: the newest entry.
    write("t.insert", "1.0.0.1 1:2:3:4:5:7")
    assert read("t.table").splitlines()[-1] == "1.0.0.1 1 01-02-03-04-05-07 0.000000"
    with pytest.raises(HandlerError, match="expected 'IP ETH'"):
        write("t.insert", "1.0.0.1")
    with pytest.raises(HandlerError, match="expected IP address, got 'x'"):
        write("t.delete", "x")
    write("t.clear")
    assert read("t.count") == "0"


def test_arp_table_forgets_entries_past_their_timeout():
    _, values = run("t :: ARPTable(TIMEOUT 2);"
                         "s :: Script(write t.insert 1.0.0.1 1:2:3:4:5:6, wait 3,"
                         " write t.insert 1.0.0.2 1:2:3:4:5:7, wait 2.5, stop)",
                         "t.table")
    # The timer looks at 2 s (the entry is not older than TIMEOUT yet), then
    # at 5 s, when 1.0.0.1 (5 s old) goes; 1.0.0.2, 2.5 s old, is kept but invalid.
    assert values == ["1.0.0.2 0 01-02-03-04-05-07 2.500000\n"]


def test_arp_querier_forgets_expired_entries_of_its_own_table():
    # Its table looks at 1 s (the entry is not older than TIMEOUT yet), then at 3 s.
    counts = [run("q :: ARPQuerier(1.0.0.1, 0:0:0:0:0:1, TIMEOUT 1);"
                  "Idle -> q -> Discard; Idle -> [1]q;"
                  f"Script(write q.insert 1.0.0.9 0:0:0:0:0:9, wait {wait}, stop)",
                  "q.count")[1] for wait in (2.5, 3.5)]
    assert counts == [["1"], ["0"]]


def _held(table, address: int, now: float) -> None:
    packet = Packet(b"x")
    table.hold(bytes([1, 0, 0, address]), packet, now)


def test_arp_table_makes_room_by_forgetting_expired_entries_first():
    from pyclick.elements.arptable import NeighborTable
    table = NeighborTable(entry_capacity=3, timeout=1.0)
    _held(table, 1, 0.0)
    _held(table, 2, 0.5)
    _held(table, 3, 1.75)
    # A fourth entry at 2 s: 1.0.0.1 and 1.0.0.2, both past TIMEOUT, go.
    _held(table, 4, 2.0)
    assert [a[3] for a in table.entries] == [3, 4]
    assert (table.waiting, table.drops) == (2, 2)
    table = NeighborTable(capacity=2, timeout=1.0)
    _held(table, 1, 0.0)
    _held(table, 2, 2.0)
    # The packet limit reached: the expired entry's packet makes the room.
    _held(table, 2, 2.0)
    assert [a[3] for a in table.entries] == [2]
    assert (table.waiting, table.drops) == (2, 1)


def test_arp_table_keeps_an_entry_with_packets_just_short_of_expiring():
    from pyclick.elements.arptable import NeighborTable
    table = NeighborTable(timeout=1.0)
    _held(table, 1, 0.0)
    _held(table, 2, 0.5)
    _held(table, 1, 5.0)
    # 1.0.0.1 is made 1 s old (no older than TIMEOUT), and so newer than 1.0.0.2.
    assert table.text(5.0) == ("1.0.0.2 0 FF-FF-FF-FF-FF-FF 4.500000\n"
                               "1.0.0.1 0 FF-FF-FF-FF-FF-FF 1.000000\n")
    table.expire(5.0)
    assert [a[3] for a in table.entries] == [1]


def test_arp_queriers_share_a_table():
    router = router_of("t :: ARPTable;"
                       "a :: ARPQuerier(1.0.0.1, 0:0:0:0:0:1, TABLE t);"
                       "b :: ARPQuerier(1.0.0.9, 0:0:0:0:0:9, TABLE t);"
                       "Idle -> a -> ka :: KeepingTestSink;"
                       "Idle -> [1]a[1] -> qa :: KeepingTestSink;"
                       "Idle -> b -> kb :: KeepingTestSink;"
                       "Idle -> [1]b[1] -> qb :: KeepingTestSink")
    router.initialize()
    read = router.handlers.read
    packet = Packet(b"payload")
    packet.dst_ip = bytes([1, 0, 0, 2])
    router.element("a").push(0, [packet])
    assert [len(router.element("qa").packets), read("t.length"), read("b.length")] \
        == [1, "1", "1"]
    reply = (bytes.fromhex("000000000009 020202020202 0806 0001 0800 06 04 0002")
             + bytes.fromhex("020202020202") + bytes([1, 0, 0, 2])
             + bytes.fromhex("000000000009") + bytes([1, 0, 0, 9]))
    router.element("b").push(1, [Packet(reply)])
    # b learned the address: it sends the packet a queued, from its own address.
    assert [p.data for p in router.element("kb").packets] \
        == [bytes.fromhex("020202020202 000000000009 0800") + b"payload"]
    assert read("a.table") == "1.0.0.2 1 02-02-02-02-02-02 0.000000\n"
    assert [read("t.length"), read("t.count")] == ["0", "1"]
    router.cleanup()


def test_arp_table_insert_leaves_packets_waiting():
    router = router_of("t :: ARPTable; a :: ARPQuerier(1.0.0.1, 0:0:0:0:0:1, TABLE t);"
                       "Idle -> a -> k :: KeepingTestSink; Idle -> [1]a[1] -> Discard")
    router.initialize()
    packet = Packet(b"x")
    packet.dst_ip = bytes([1, 0, 0, 3])
    router.element("a").push(0, [packet])
    router.handlers.write("t.insert", "1.0.0.3 3:3:3:3:3:3")
    assert [router.handlers.read("t.length"), router.element("k").packets] == ["1", []]
    router.cleanup()


def test_arp_table_and_table_argument_errors():
    with pytest.raises(ConfigError,
                       match="'t :: ARPTable': CAPACITY_SLIM_FACTOR: must be at least 1"):
        router_of("t :: ARPTable(CAPACITY_SLIM_FACTOR 0)")
    with pytest.raises(ConfigError, match="'t :: ARPTable': TIMEOUT: expected time"):
        router_of("t :: ARPTable(TIMEOUT -1)")
    querier = "a :: ARPQuerier(1.0.0.1, 0:0:0:0:0:1, TABLE t); Idle -> a -> Discard; Idle -> [1]a"
    with pytest.raises(ConfigError,
                       match="'a :: ARPQuerier': TABLE: 't :: Idle' is not an ARPTable"):
        router_of("t :: Idle; " + querier)
    with pytest.raises(ConfigError, match="TABLE: no element named 't'"):
        router_of(querier)
