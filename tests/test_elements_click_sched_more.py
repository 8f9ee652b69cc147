"""More scheduling elements, from their Click manuals: DRRSched, CPUQueue,
Unqueue2, SimpleIdle, SimplePrioSched, SimpleRoundRobinSched,
SimplePullSwitch and Null1 to Null8."""

from __future__ import annotations

import logging

import pytest

from pyclick.element import PULL, Element
from pyclick.errors import ConfigError
from pyclick.lang import flatten
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.notifier import EMPTY, Notifier
from tests.sinks import KeepingTestSink  # noqa: F401  (the class the configurations name)
from tests.test_elements_click_queue import configure, run


class SchedMoreEmptySource(Element):
    """SchedMoreEmptySource() -- a pull source that says it is empty and counts its pulls"""

    port_count = "0/1"
    processing = PULL

    def configure(self, args) -> None:
        args.complete()
        self.pulls = 0
        self._note = Notifier(active=False)

    def port_notifier(self, isoutput: bool, port: int, which: str) -> Notifier | None:
        return self._note if isoutput and which == EMPTY else None

    def pull(self, port: int) -> Packet | None:
        self.pulls += 1
        return None


def initialized(config: str) -> Router:
    router = configure(config)
    router.initialize()
    return router


def lengths(packets: list[Packet | None]) -> list[int]:
    """Packet lengths, 0 for a pull that got nothing."""
    return [0 if p is None else len(p) for p in packets]


def fill(router: Router, name: str, *sizes: int) -> None:
    router.element(name).push(0, [Packet(bytes(size)) for size in sizes])


# --- Null1 to Null8

def test_null1_to_null8_pass_packets_unchanged_push_and_pull():
    chain = " -> ".join(f"Null{n}" for n in range(1, 9))
    router = configure(f'InfiniteSource("abc", LIMIT 3) -> {chain} -> Queue -> {chain} '
                       "-> Unqueue -> k :: KeepingTestSink")
    router.run(handle_signals=False)
    assert [p.data for p in router.element("k").packets] == [b"abc"] * 3
    assert len({type(e) for e in router.elements if type(e).__name__.startswith("Null")}) == 8


# --- SimpleIdle

def test_simple_idle_lets_its_neighbours_run_where_idle_stops_them(capsys):
    config = ("{0} -> u :: Unqueue -> c :: Counter -> Discard; s :: InfiniteSource(LIMIT 5) -> {0};"
              "Script(wait 1, print u.scheduled, stop)")
    assert run(config.format("SimpleIdle"), "s.count", "c.count") == ["5", "0"]
    assert run(config.format("Idle"), "s.count", "c.count") == ["0", "0"]
    assert capsys.readouterr().out.split() == ["true", "false"]


def test_simple_idle_has_any_number_of_ports_and_drops_what_it_gets():
    assert run("i :: SimpleIdle; InfiniteSource(LIMIT 2) -> [0]i; InfiniteSource(LIMIT 2) -> [1]i;"
               "i[0] -> c :: Counter -> Discard; i[1] -> Queue -> Discard; Script(wait 1, stop)",
               "c.count") == ["0"]


# --- SimplePrioSched, SimpleRoundRobinSched

@pytest.mark.parametrize("cls, pulls", [("SimplePrioSched", 3), ("PrioSched", 0),
                                        ("SimpleRoundRobinSched", 3), ("RoundRobinSched", 0)])
def test_simple_schedulers_pull_inputs_that_say_they_are_empty(cls, pulls):
    router = initialized(f"e :: SchedMoreEmptySource -> [0] p :: {cls}; Idle -> q :: Queue -> [1]p;"
                         "p -> Unqueue -> Discard")
    assert [router.element("p").pull(0) for _ in range(3)] == [None] * 3
    assert router.element("e").pulls == pulls
    router.cleanup()


def test_simple_prio_sched_takes_input_0_first():
    router = initialized("a :: Queue -> [0] p :: SimplePrioSched; b :: Queue -> [1]p;"
                         "Idle -> a; Idle -> b; p -> Discard")
    fill(router, "b", 20, 21)
    fill(router, "a", 10, 11)
    p = router.element("p")
    assert lengths([p.pull(0) for _ in range(5)]) == [10, 11, 20, 21, 0]
    router.cleanup()


def test_simple_round_robin_sched_starts_after_the_input_that_gave_last():
    router = initialized("a :: Queue -> [0] p :: SimpleRoundRobinSched; b :: Queue -> [1]p;"
                         "c :: Queue -> [2]p; Idle -> a; Idle -> b; Idle -> c; p -> Discard")
    fill(router, "a", 10, 11, 12)
    fill(router, "c", 30, 31)
    p = router.element("p")
    assert lengths([p.pull(0) for _ in range(6)]) == [10, 30, 11, 31, 12, 0]
    router.cleanup()


def test_simple_schedulers_run_to_the_end_behind_unqueue():
    for cls in ("SimplePrioSched", "SimpleRoundRobinSched"):
        assert run(f"InfiniteSource(LIMIT 3) -> Queue -> [0] p :: {cls};"
                   f"InfiniteSource(LIMIT 4) -> Queue -> [1]p;"
                   "p -> Unqueue -> c :: Counter -> Discard", "c.count") == ["7"]


# --- SimplePullSwitch

def test_simple_pull_switch_pulls_the_chosen_input_only():
    router = initialized("a :: Queue -> [0] s :: SimplePullSwitch(1); b :: Queue -> [1]s;"
                         "Idle -> a; Idle -> b; s -> Discard")
    fill(router, "a", 10)
    fill(router, "b", 20)
    s = router.element("s")
    read, write = router.handlers.read, router.handlers.write
    assert lengths([s.pull(0), s.pull(0)]) == [20, 0]
    assert [read("s.switch"), read("s.config")] == ["1", "1"]
    write("s.switch", "0")
    assert lengths([s.pull(0)]) == [10]
    values = []
    for value in ("2", "-7", "1"):
        write("s.switch", value)
        values.append(read("s.switch"))
    assert values == ["-1", "-1", "1"]
    router.cleanup()


@pytest.mark.parametrize("argument, switch", [("", "0"), ("-5", "-1"), ("2", "-1"),
                                              ("INPUT 1", "1")])
def test_simple_pull_switch_input_argument(argument, switch):
    router = configure(f"Idle -> [0] s :: SimplePullSwitch({argument}); Idle -> [1]s; s -> Discard")
    assert router.handlers.read("s.switch") == switch


def test_simple_pull_switch_keeps_its_puller_awake_while_any_input_has_packets(capsys):
    # The chosen input, b, is drained; a still holds its two packets.
    config = ("InfiniteSource(LIMIT 2) -> a :: Queue -> [0] s :: {}(1);"
              "InfiniteSource(LIMIT 2) -> b :: Queue -> [1]s;"
              "s -> u :: Unqueue -> c :: Counter -> Discard;"
              "Script(wait 1, print u.scheduled, stop)")
    assert run(config.format("SimplePullSwitch"), "c.count", "a.length") == ["2", "2"]
    assert run(config.format("PullSwitch"), "c.count", "a.length") == ["2", "2"]
    assert capsys.readouterr().out.split() == ["true", "false"]


@pytest.mark.parametrize("config, message", [
    ("SimplePullSwitch(x)", r"q.click:1: While configuring 's :: SimplePullSwitch': INPUT: "),
    ("SimplePullSwitch(0, 1)", "'s :: SimplePullSwitch': too many arguments"),
    ("SimplePullSwitch(3000000000)", "'s :: SimplePullSwitch': INPUT: must be at least "
                                     "-2147483648 and at most 2147483647"),
])
def test_simple_pull_switch_bad_arguments(config, message):
    with pytest.raises(ConfigError, match=message):
        configure(f"Idle -> s :: {config} -> Discard")


def test_simple_pull_switch_config_write_configures_it_again():
    router = configure("Idle -> [0] s :: SimplePullSwitch(1); Idle -> [1]s; s -> Discard")
    values = []
    for value in ("0", "-4", "1"):
        router.handlers.write("s.config", value)
        values.append(router.handlers.read("s.switch"))
    assert values == ["0", "-1", "1"]
    with pytest.raises(HandlerError, match="INPUT: expected integer"):
        router.handlers.write("s.config", "x")
    assert router.handlers.read("s.config") == "1"


def test_simple_pull_switch_refuses_a_write_that_is_no_integer():
    router = configure("Idle -> s :: SimplePullSwitch -> Discard")
    with pytest.raises(HandlerError, match="s.switch: expected integer"):
        router.handlers.write("s.switch", "x")
    assert router.handlers.read("s.switch") == "0"


# --- DRRSched

def test_drr_sched_shares_bytes_by_deficit():
    # QUANTUM 500; input 0 holds six 100-byte packets, input 1 six 400-byte ones.
    # Pull 1: input 0's packet exceeds its deficit (0) and is held; input 1
    # gets 500 and sends (500-400=100 left). Pull 2: input 1's next packet is
    # held, input 0 gets 500 and sends five packets in a row; its sixth is
    # held, input 1 gets 600, and so on; an empty input loses its deficit.
    router = initialized("a :: Queue -> [0] d :: DRRSched; b :: Queue -> [1]d;"
                         "Idle -> a; Idle -> b; d -> Discard")
    fill(router, "a", *[100] * 6)
    fill(router, "b", *[400] * 6)
    d = router.element("d")
    assert lengths([d.pull(0) for _ in range(14)]) == \
        [400, 100, 100, 100, 100, 100, 400, 100, 400, 0, 400, 400, 0, 400]
    router.cleanup()


def test_drr_sched_holds_a_long_packet_until_its_deficit_covers_it():
    router = initialized("a :: Queue -> d :: DRRSched(300) -> Discard; Idle -> a")
    fill(router, "a", 800)
    d = router.element("d")
    # Deficits 0, 300, 600, then 900 >= 800.
    assert lengths([d.pull(0) for _ in range(5)]) == [0, 0, 0, 800, 0]
    router.cleanup()


def test_drr_sched_behind_unqueue_delivers_everything_then_sleeps():
    assert run("InfiniteSource(LIMIT 6, LENGTH 100) -> Queue -> [0] d :: DRRSched(300);"
               "InfiniteSource(LIMIT 6, LENGTH 400) -> Queue -> [1]d;"
               "RatedSource(LENGTH 800, RATE 10, LIMIT 3) -> Queue -> [2]d;"
               "d -> u :: Unqueue -> c :: Counter -> Discard; Script(wait 2, stop)",
               "c.count", "c.byte_count", "u.scheduled") == \
        ["15", str(6 * 100 + 6 * 400 + 3 * 800), "false"]


def test_drr_sched_skips_inputs_that_say_they_are_empty():
    router = initialized("e :: SchedMoreEmptySource -> [0] d :: DRRSched;"
                         "Idle -> q :: Queue -> [1]d; d -> Discard")
    assert [router.element("d").pull(0) for _ in range(3)] == [None] * 3
    assert router.element("e").pulls == 0
    router.cleanup()


@pytest.mark.parametrize("argument, message", [
    ("0", "QUANTUM: must be at least 1"),
    ("-1", "QUANTUM: must be at least 1"),
    ("x", "QUANTUM: expected integer"),
    ("1, 2", "too many arguments"),
])
def test_drr_sched_bad_quantum(argument, message):
    with pytest.raises(ConfigError, match=rf"q.click:1: While configuring 'd :: DRRSched': "
                                          rf"{message}"):
        configure(f"Idle -> d :: DRRSched({argument}) -> Discard")


# --- CPUQueue

def test_cpu_queue_drops_what_does_not_fit():
    assert run("InfiniteSource(LIMIT 10, BURST 10) -> q :: CPUQueue(4) -> Unqueue -> c :: Counter "
               "-> Discard; Script(wait 1, stop)",
               "c.count", "q.drops", "q.capacity") == ["4", "6", "4"]
    assert run("InfiniteSource(LIMIT 3) -> q :: CPUQueue(0) -> Discard; Script(wait 1, stop)",
               "q.drops", "q.capacity") == ["3", "0"]
    assert run("InfiniteSource(LIMIT 300) -> q :: CPUQueue -> Discard; Script(wait 1, stop)",
               "q.drops", "q.capacity") == ["0", "128"]


def test_cpu_queue_outputs_share_the_queue_and_its_puller_keeps_polling(capsys):
    drops, a, b = run("InfiniteSource(LIMIT 6, BURST 6) -> q :: CPUQueue(5);"
                      "q[0] -> a :: Counter -> Discard; q[1] -> b :: Counter -> u :: Unqueue"
                      " -> Discard; Script(wait 1, print u.scheduled, stop)",
                      "q.drops", "a.count", "b.count")
    # The two pullers take turns at the five packets kept.
    assert [drops, sorted([a, b])] == ["1", ["2", "3"]]
    assert capsys.readouterr().out.split() == ["true"]


def test_cpu_queue_keeps_a_queue_per_thread():
    # Each thread's five packets meet a queue of their own: two drops each,
    # then pulls take turns between the two threads' queues.
    router = Router(flatten("a :: InfiniteSource(LIMIT 5, BURST 5, LENGTH 10) -> q :: CPUQueue(3)"
                            " -> Idle; b :: InfiniteSource(LIMIT 5, BURST 5, LENGTH 20) -> q;"
                            "StaticThreadSched(a 0, b 1); Script(wait 0.2, stop)",
                            filename="q.click"), simtime=False)
    router.configure()
    pulled: list[Packet | None] = []
    router.run(handle_signals=False, before_cleanup=lambda: pulled.extend(
        router.element("q").pull(0) for _ in range(7)))
    assert router.element("q").drops == 4
    assert lengths(pulled) == [10, 20, 10, 20, 10, 20, 0]


def test_cpu_queue_in_simulated_time_has_one_queue():
    assert run("a :: InfiniteSource(LIMIT 5, BURST 5) -> q :: CPUQueue(3) -> Idle;"
               "b :: InfiniteSource(LIMIT 5, BURST 5) -> q; StaticThreadSched(a 0, b 1);"
               "Script(wait 1, stop)", "q.drops") == ["7"]


@pytest.mark.parametrize("argument, message", [
    ("-1", "CAPACITY: expected unsigned integer"),
    ("4294967296", "CAPACITY: must be at least 0 and at most 4294967295"),
    ("1, 2", "too many arguments"),
])
def test_cpu_queue_bad_capacity(argument, message):
    with pytest.raises(ConfigError, match=rf"While configuring 'q :: CPUQueue': {message}"):
        configure(f"Idle -> q :: CPUQueue({argument}) -> Discard")


# --- Unqueue2

UNQUEUE2_TEE = ("InfiniteSource(LIMIT 9) -> q1 :: Queue -> u :: Unqueue2(2, QUIET true{})"
                " -> t :: Tee; t[0] -> q2 :: Queue(3) -> Idle; t[1] -> q3 :: Queue(10) -> Idle;"
                "Script(wait 1, print u.scheduled, stop)")
UNQUEUE2_HANDLERS = ("u.packets", "q1.length", "q2.length", "q3.length", "q2.drops")


def test_unqueue2_pulls_only_what_the_fullest_queue_downstream_has_room_for(capsys):
    # q2 holds 3: three packets are pulled (each copied to q2 and q3), six
    # stay, and Unqueue2 keeps polling the full q2.
    assert run(UNQUEUE2_TEE.format(""), *UNQUEUE2_HANDLERS) == \
        ["3 packets", "6", "3", "3", "0"]
    assert run(UNQUEUE2_TEE.format(", QUEUES q2 q3"), *UNQUEUE2_HANDLERS) == \
        ["3 packets", "6", "3", "3", "0"]
    assert capsys.readouterr().out.split() == ["true", "true"]


def test_unqueue2_watches_only_the_queues_named(capsys):
    # Only q3 (room 10) counts: all nine go, q2 keeps 3 and drops 6.
    assert run(UNQUEUE2_TEE.format(", QUEUES q3"), *UNQUEUE2_HANDLERS) == \
        ["9 packets", "0", "3", "9", "6"]
    assert capsys.readouterr().out.split() == ["false"]


def test_unqueue2_burst(capsys):
    config = ("InfiniteSource(LIMIT 9, BURST 9) -> q1 :: Queue"
              " -> u :: Unqueue2(BURST {}, QUIET true) -> k :: KeepingTestSink;"
              "Script(wait 1, print u.scheduled, stop)")
    # 0: no limit; negative: no limit but the queues', and there is none.
    assert run(config.format(0), "u.packets", "q1.length") == ["9 packets", "0"]
    assert run(config.format(-1), "u.packets", "q1.length") == ["0 packets", "9"]
    assert capsys.readouterr().out.split() == ["false", "true"]
    assert run(config.format(4), "u.packets", "q1.length") == ["9 packets", "0"]
    assert run("InfiniteSource(LIMIT 9, BURST 9) -> q1 :: Queue -> u :: Unqueue2(-1, QUIET true)"
               " -> q2 :: Queue(5) -> Idle; Script(wait 1, stop)",
               "u.packets", "q1.length", "q2.length") == ["5 packets", "4", "5"]


def test_unqueue2_warns_that_it_is_deprecated_unless_quiet(caplog):
    config = "InfiniteSource(LIMIT 2) -> Queue -> u :: Unqueue2{} -> Discard"
    with caplog.at_level(logging.WARNING):
        assert run(config.format(""), "u.packets") == ["2 packets"]
    assert "Unqueue2 is deprecated, you should probably use Unqueue" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        run(config.format("(QUIET true)"))
    assert "deprecated" not in caplog.text


@pytest.mark.parametrize("queues, message", [
    ("nosuch", "QUEUES: list item 1: no element named 'nosuch'"),
    ("t", "QUEUES: list item 1: 't :: Tee' is not a queue"),
    ('""', "QUEUES: list item 1: no element named ''"),
])
def test_unqueue2_bad_queues(queues, message):
    with pytest.raises(ConfigError, match=rf"q.click:1: While configuring 'u :: Unqueue2': "
                                          rf"{message}"):
        configure(UNQUEUE2_TEE.format(f", QUEUES {queues}"))


def test_unqueue2_bad_burst():
    with pytest.raises(ConfigError, match="While configuring 'u :: Unqueue2': BURST: must be "
                                          "at least -2147483648 and at most 2147483647"):
        configure("Idle -> Queue -> u :: Unqueue2(3000000000) -> Discard")
    with pytest.raises(ConfigError, match="'u :: Unqueue2': BURST: expected integer"):
        configure("Idle -> Queue -> u :: Unqueue2(x) -> Discard")
