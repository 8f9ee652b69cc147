"""Push, pull and agnostic ports: processing codes, their resolution through the
graph, Click's errors, the pull API, notification and driver stop events."""

from __future__ import annotations

import gc

import pytest

from pyclick.args import UNSIGNED, Args
from pyclick.element import AGNOSTIC, PULL, PUSH, Element, read_handler
from pyclick.errors import ConfigError
from pyclick.packet import Packet
from pyclick.router import Router
from pyclick.runtime.notifier import Notifier, NotifierSignal
from pyclick.runtime.processing import port_flow, processing_vector
from tests.helpers import config_error_of, configured_router, flat_config

FILE = "pp.click"


def router_of(elements, connections=(), simtime=True, **options) -> Router:
    return configured_router(elements, connections, at=FILE, simtime=simtime, **options)


def errors_of(elements, connections=()) -> list[str]:
    return config_error_of(Router, flat_config(elements, connections, at=FILE)).messages


def line(elements, connection: int) -> str:
    """The landmark of connection number ``connection`` (from 1)."""
    return f"{FILE}:{len(elements) + connection}"


# --- plugin elements of each kind, as a plugin author writes them

class PpPushSource(Element):
    """PpPushSource(N) -- pushes N numbered packets in one batch at initialize"""

    port_count = "0/1"
    processing = PUSH

    def configure(self, args: Args) -> None:
        self.n = args.read_p("N", UNSIGNED, 3)
        args.complete()

    def initialize(self) -> None:
        self.output_push(0, [Packet(bytes([i])) for i in range(self.n)])


class PpPullSource(Element):
    """PpPullSource(N) -- answers pulls with N numbered packets, then nothing"""

    port_count = "0/1"
    processing = PULL

    def configure(self, args: Args) -> None:
        self.left = args.read_p("N", UNSIGNED, 3)
        args.complete()
        self.sent = 0

    def pull(self, port: int) -> Packet | None:
        if self.sent == self.left:
            return None
        self.sent += 1
        return Packet(bytes([self.sent - 1]))


class PpDouble(Element):
    """PpDouble() -- an agnostic plugin: doubles each packet's bytes"""

    port_count = "1/1"
    processing = AGNOSTIC

    def simple_action(self, packet: Packet) -> Packet:
        packet.data = packet.data * 2
        return packet


class PpPullSink(Element):
    """PpPullSink() -- pulls everything once, when its pull handler is read"""

    port_count = "1/0"
    processing = PULL

    @read_handler("pull")
    def _pull_all(self) -> str:
        got = []
        while (packet := self.input_pull(0)) is not None:
            got.append(packet.data.hex())
        return " ".join(got)


class PpPushSink(Element):
    """PpPushSink() -- keeps what is pushed to it"""

    port_count = "1/0"
    processing = PUSH

    def configure(self, args: Args) -> None:
        args.complete()
        self.got: list[bytes] = []

    def push(self, port: int, batch: list[Packet]) -> None:
        self.got += [p.data for p in batch]


# --- processing and flow codes

@pytest.mark.parametrize("code, nin, nout, expected", [
    ("h/h", 2, 1, (["h", "h"], ["h"])),
    ("a/ah", 1, 3, (["a"], ["a", "h", "h"])),
    ("hl/hlh", 3, 4, (["h", "l", "l"], ["h", "l", "h", "h"])),
    ("a", 2, 2, (["a", "a"], ["a", "a"])),
    ("l/", 1, 2, (["l"], ["a", "a"])),
    ("H/L", 1, 1, (["h"], ["l"])),
])
def test_processing_vectors_repeat_the_last_code_of_each_side(code, nin, nout, expected):
    assert processing_vector(code, nin, nout) == expected


def test_bad_processing_code():
    # Worked out once per code and port counts, a mistake is still one each time.
    for _ in range(2):
        with pytest.raises(ValueError, match="bad processing code 'h/x'"):
            processing_vector("h/x", 1, 1)


def test_processing_vectors_are_the_callers_to_change():
    ins, outs = processing_vector("a/ah", 1, 2)
    ins[0], outs[0] = "l", "l"
    assert processing_vector("a/ah", 1, 2) == (["a"], ["a", "h"])


@pytest.mark.parametrize("enabled", [True, False])
def test_building_and_configuring_leave_the_collector_as_they_found_it(enabled):
    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        router = Router(flat_config([("a", "Idle", ""), ("b", "Discard", "")], [("a", 0, "b", 0)],
                                    at="t.click"))
        assert gc.isenabled() is enabled
        router.configure()
        assert gc.isenabled() is enabled and gc.get_freeze_count() == 0
        with pytest.raises(ConfigError):
            Router(flat_config([("a", "NoSuchClass", "")], at="t.click"))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("code, port, expected", [
    ("x/x", 0, [True, True, True]),
    ("x/y", 0, [False, False, False]),
    ("xy/xxyx", 0, [True, True, False, True]),   # Click's own example, 2 in 4 out
    ("xy/xxyx", 1, [False, False, True, False]),
    ("#/#", 1, [False, True, False]),
    ("#/[^#]", 1, [True, False, True]),
])
def test_port_flow_from_an_input(code, port, expected):
    assert port_flow(code, False, port, 2, len(expected)) == expected


def test_port_flow_to_an_output():
    assert port_flow("xy/xxyx", True, 0, 2, 4) == [True, False]


# --- resolution through the graph

def test_agnostic_ports_take_the_processing_of_their_neighbours():
    elements = [("s", "InfiniteSource", "LIMIT 2"), ("c1", "Counter", ""), ("q", "Queue", ""),
                ("c2", "Counter", ""), ("u", "Unqueue", ""), ("d", "Discard", "")]
    router = router_of(elements, [("s", 0, "c1", 0), ("c1", 0, "q", 0), ("q", 0, "c2", 0),
                                  ("c2", 0, "u", 0), ("u", 0, "d", 0)])
    e = router.element
    assert e("s").output_processing == ["h"]
    assert (e("c1").input_processing, e("c1").output_processing) == (["h"], ["h"])
    assert (e("q").input_processing, e("q").output_processing) == (["h"], ["l"])
    assert (e("c2").input_processing, e("c2").output_processing) == (["l"], ["l"])
    assert e("c2").input_is_pull(0) and e("c2").output_is_pull(0)
    assert e("d").input_is_push(0)


def test_unconstrained_agnostic_ports_are_push():
    router = router_of([("i", "Idle", ""), ("n", "Null", "")], [("i", 0, "n", 0)])
    assert router.element("n").input_processing == ["h"]
    assert router.element("i").output_processing == ["h"]


def test_resolution_crosses_chains_of_agnostic_elements_in_either_direction():
    # The pull comes from the far end: q -> n1 -> n2 -> n3 -> u.
    elements = [("s", "PpPushSource", "0"), ("q", "Queue", ""), ("n1", "Null", ""),
                ("n2", "Null", ""), ("n3", "Null", ""), ("u", "Unqueue", ""),
                ("d", "Discard", "")]
    conns = [("s", 0, "q", 0), ("n2", 0, "n3", 0), ("n1", 0, "n2", 0), ("q", 0, "n1", 0),
             ("n3", 0, "u", 0), ("u", 0, "d", 0)]
    router = router_of(elements, conns)
    for name in ("n1", "n2", "n3"):
        assert router.element(name).input_processing == ["l"], name


def test_flow_code_separates_agnostic_ports():
    # Idle's flow code x/y links none of its ports: its input may be pull
    # while its output is push.
    elements = [("s", "PpPushSource", "0"), ("q", "Queue", ""), ("i", "Idle", ""),
                ("k", "PpPushSink", "")]
    router = router_of(elements, [("s", 0, "q", 0), ("q", 0, "i", 0), ("i", 0, "k", 0)])
    assert router.element("i").input_processing == ["l"]
    assert router.element("i").output_processing == ["h"]


def test_push_output_to_pull_input_is_an_error_at_the_connection():
    elements = [("s", "InfiniteSource", ""), ("q1", "Queue", ""), ("q2", "Queue", ""),
                ("d", "Discard", "")]
    messages = errors_of(elements, [("s", 0, "q1", 0), ("q1", 0, "q2", 0), ("q2", 0, "d", 0)])
    assert messages == [f"{line(elements, 2)}: 'q1 :: Queue' pull output 0 connected to "
                        "'q2 :: Queue' push input 0"]


def test_pull_output_to_push_input_names_both_processings():
    elements = [("u", "Unqueue", ""), ("k", "PpPullSink", ""), ("s", "PpPullSource", "")]
    messages = errors_of(elements, [("s", 0, "u", 0), ("u", 0, "k", 0)])
    assert messages == [f"{line(elements, 2)}: 'u :: Unqueue' push output 0 connected to "
                        "'k :: PpPullSink' pull input 0"]


def test_agnostic_element_in_mixed_context_is_named_at_its_own_place():
    elements = [("s", "InfiniteSource", ""), ("q", "Queue", ""), ("c", "Counter", ""),
                ("t", "Tee", ""), ("d", "Discard", "")]
    messages = errors_of(elements, [("s", 0, "q", 0), ("q", 0, "c", 0), ("c", 0, "t", 0),
                                    ("t", 0, "d", 0)])
    assert messages == [f"{FILE}:3: agnostic 'c :: Counter' in mixed context: "
                        "pull input 0, push output 0"]


def test_reuse_of_push_outputs_and_pull_inputs_is_an_error():
    elements = [("s", "InfiniteSource", ""), ("t", "Tee", ""), ("d1", "Discard", ""),
                ("d2", "Discard", ""), ("a", "PpPullSource", ""), ("b", "PpPullSource", ""),
                ("u", "Unqueue", ""), ("d3", "Discard", "")]
    conns = [("s", 0, "t", 0), ("t", 0, "d1", 0), ("t", 0, "d2", 0), ("a", 0, "u", 0),
             ("b", 0, "u", 0), ("u", 0, "d3", 0)]
    # At the reused element's place, as Click reports them: t and u are
    # declared on lines 2 and 7.
    assert errors_of(elements, conns) == [
        f"{FILE}:2: illegal reuse of 't :: Tee' push output 0",
        f"{FILE}:7: illegal reuse of 'u :: Unqueue' pull input 0",
    ]


def test_a_pull_output_and_a_push_input_may_be_shared():
    elements = [("s1", "PpPushSource", "1"), ("s2", "PpPushSource", "2"), ("q", "Queue", ""),
                ("k1", "PpPullSink", ""), ("k2", "PpPullSink", "")]
    router = router_of(elements, [("s1", 0, "q", 0), ("s2", 0, "q", 0), ("q", 0, "k1", 0),
                                  ("q", 0, "k2", 0)])
    router.initialize()
    assert router.handlers.read("k1.pull") == "00 00 01"
    assert router.handlers.read("k2.pull") == ""
    router.cleanup()


def test_a_class_with_a_bad_processing_code_is_reported_at_the_element():
    class PpBadCode(Element):
        """PpBadCode() -- declares a processing code that does not exist"""

        port_count = "0/1"
        processing = "z"

    elements = [("x", "PpBadCode", ""), ("d", "Discard", "")]
    assert errors_of(elements, [("x", 0, "d", 0)]) == [
        f"{FILE}:1: 'x :: PpBadCode': bad processing code 'z'"]


# --- the pull API, plugin elements of each kind

def test_pull_chain_of_plugin_elements():
    elements = [("s", "PpPullSource", "3"), ("x", "PpDouble", ""), ("k", "PpPullSink", "")]
    router = router_of(elements, [("s", 0, "x", 0), ("x", 0, "k", 0)])
    router.initialize()
    assert router.element("x").input_is_pull(0)
    assert router.handlers.read("k.pull") == "0000 0101 0202"
    router.cleanup()


def test_push_chain_of_the_same_agnostic_plugin():
    elements = [("s", "PpPushSource", "2"), ("x", "PpDouble", ""), ("k", "PpPushSink", "")]
    router = router_of(elements, [("s", 0, "x", 0), ("x", 0, "k", 0)])
    router.initialize()
    assert router.element("x").input_is_push(0)
    assert router.element("k").got == [b"\0\0", b"\1\1"]
    router.cleanup()


def test_pull_batch_asks_for_at_most_the_number_given():
    elements = [("s", "PpPushSource", "5"), ("q", "Queue", ""), ("k", "PpPullSink", "")]
    router = router_of(elements, [("s", 0, "q", 0), ("q", 0, "k", 0)])
    router.initialize()
    sink = router.element("k")
    assert [p.data for p in sink.input_pull_batch(0, 2)] == [b"\0", b"\1"]
    assert [p.data for p in sink.input_pull_batch(0, 10)] == [b"\2", b"\3", b"\4"]
    assert sink.input_pull_batch(0, 10) == [] and sink.input_pull(0) is None
    router.cleanup()


def test_unconnected_pull_input_gives_nothing():
    router = router_of([("k", "PpPullSink", "")])
    assert router.element("k").input_pull(0) is None
    assert router.element("k").input_pull_batch(0, 4) == []


# --- notification

def test_notifier_calls_its_listeners_when_it_turns_on():
    calls = []
    note = Notifier(active=False)
    note.add_listener(lambda: calls.append("woke"))
    note.wake()
    note.wake()          # already on: no second call
    note.sleep()
    note.wake()
    assert calls == ["woke", "woke"]
    assert bool(NotifierSignal([note])) and not NotifierSignal([])
    assert NotifierSignal(busy=True)


def test_unqueue_sleeps_on_an_empty_queue_and_wakes_on_a_packet():
    elements = [("s", "InfiniteSource", "LIMIT 3, ACTIVE false"), ("q", "Queue", ""),
                ("u", "Unqueue", ""), ("c", "Counter", ""), ("d", "Discard", ""),
                ("t", "Script", "wait 1, write s.active true, wait 1, stop")]
    router = router_of(elements, [("s", 0, "q", 0), ("q", 0, "u", 0), ("u", 0, "c", 0),
                                  ("c", 0, "d", 0)])
    runs = []
    unqueue = router.element("u")
    original = unqueue._run

    def counted() -> bool:
        runs.append(router.now())
        return original()

    unqueue._task.callback = counted
    router.run(handle_signals=False)
    # At 0 the empty queue answers nine failed pulls before it says it is empty
    # (Click's sleepiness): ten runs. At 1 the first packet wakes the Unqueue:
    # three pulls that find a packet, then ten failed ones again. Never in between.
    assert runs == [0.0] * 10 + [1.0] * 13
    assert router.handlers.read("c.count") == "3"


def test_source_waits_while_the_queue_is_full():
    router = router_of([("s", "InfiniteSource", "LIMIT 50, BURST 4"), ("q", "Queue", "10"),
                        ("d", "Discard", "ACTIVE false")],
                       [("s", 0, "q", 0), ("q", 0, "d", 0)])
    router.run(handle_signals=False)
    # Bursts of 4 until the queue holds 10 (the third burst drops 2), then the
    # full queue puts the source to sleep: 12 sent, 2 dropped.
    assert router.handlers.read("s.count") == "12"
    assert router.handlers.read("q.length") == "10"
    assert router.handlers.read("q.drops") == "2"


# --- driver stop events

def test_a_stop_event_lets_the_tasks_already_scheduled_run():
    elements = [("s", "InfiniteSource", "LIMIT 10, STOP true"), ("q", "Queue", ""),
                ("u", "Unqueue", ""), ("c", "Counter", ""), ("d", "Discard", "")]
    router = router_of(elements, [("s", 0, "q", 0), ("q", 0, "u", 0), ("u", 0, "c", 0),
                                  ("c", 0, "d", 0)], simtime=False)
    assert router.run(handle_signals=False) == 0
    assert router.stop_reason == "s: all packets sent"
    assert router.handlers.read("c.count") == "10"


def test_stop_before_the_router_runs_stops_at_once():
    router = router_of([("i", "Idle", "")])
    router.please_stop_driver("early")
    assert router.stopped and router.stop_reason == "early"


def test_two_driver_managers_are_refused():
    elements = [("a", "DriverManager", ""), ("b", "DriverManager", "")]
    error = config_error_of(router_of, elements)
    assert error.messages == [f"{FILE}:2: While configuring 'b :: DriverManager': "
                              "router has more than one driver script"]


def test_unknown_processing_is_not_silently_agnostic():
    # An element written with push() alone is push (pyclick's default): put
    # after a Queue it is an error, not a silently skipped element.
    class PpPushOnly(Element):
        """PpPushOnly() -- overrides push only"""

        port_count = "1/1"

        def push(self, port: int, batch: list[Packet]) -> None:
            self.output_push(0, batch)

    elements = [("s", "InfiniteSource", ""), ("q", "Queue", ""), ("x", "PpPushOnly", ""),
                ("d", "Discard", "")]
    with pytest.raises(ConfigError, match="'q :: Queue' pull output 0 connected to "
                                          "'x :: PpPushOnly' push input 0"):
        router_of(elements, [("s", 0, "q", 0), ("q", 0, "x", 0), ("x", 0, "d", 0)])
