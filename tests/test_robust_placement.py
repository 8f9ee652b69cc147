"""Placement mistakes are found when the router starts, not on the first packet.

A FlowCounter keeps its counts in the flow state a FlowIPManager upstream
attaches to each packet: a path that reaches it any other way is refused
at initialize, with the counter's place and the path's origin.
"""

from __future__ import annotations

import pytest

from tests.helpers import config_error_of, configured_router

SOURCE = ("src", "InfiniteSource", "LIMIT 1, STOP true")


def start(elements, connections):
    router = configured_router(elements, connections, at="flows.click", simtime=True)
    return router.run(handle_signals=False)


@pytest.mark.parametrize("elements, connections, origin", [
    ([SOURCE, ("fc", "FlowCounter", ""), ("d", "Discard", "")],
     [("src", 0, "fc", 0), ("fc", 0, "d", 0)],
     "packets from 'src :: InfiniteSource' reach it without flow state"),
    ([SOURCE, ("t", "Tee", "2"), ("fim", "FlowIPManager", ""), ("fc", "FlowCounter", ""),
      ("d", "Discard", ""), ("d2", "Discard", "")],
     [("src", 0, "t", 0), ("t", 0, "fim", 0), ("t", 1, "fc", 0), ("fim", 0, "d2", 0),
      ("fc", 0, "d", 0)],
     "packets from 'src :: InfiniteSource' reach it without flow state"),
    ([SOURCE, ("fim", "FlowIPManager", ""), ("fc", "FlowCounter", ""), ("d", "Discard", ""),
      ("d2", "Discard", "")],
     [("src", 0, "fim", 0), ("fim", 0, "d2", 0), ("fim", 1, "fc", 0), ("fc", 0, "d", 0)],
     "'fim :: FlowIPManager' output 1 carries packets without flow state to it"),
])
def test_a_flow_counter_off_the_managed_path_fails_at_initialize(elements, connections, origin):
    text = str(config_error_of(start, elements, connections))
    line = next(i for i, e in enumerate(elements, 1) if e[0] == "fc")
    assert text == (f"flows.click:{line}: While initializing 'fc :: FlowCounter': "
                    f"not downstream of a FlowIPManager: {origin}")


def test_a_flow_counter_behind_a_manager_starts_and_counts_nothing_without_ip():
    elements = [SOURCE, ("fim", "FlowIPManager", ""), ("t", "Tee", "2"),
                ("fc", "FlowCounter", ""), ("fc2", "FlowCounter", ""), ("d", "Discard", ""),
                ("d2", "Discard", ""), ("r", "Discard", "")]
    connections = [("src", 0, "fim", 0), ("fim", 0, "t", 0), ("t", 0, "fc", 0),
                   ("t", 1, "fc2", 0), ("fc", 0, "d", 0), ("fc2", 0, "d2", 0),
                   ("fim", 1, "r", 0)]
    assert start(elements, connections) == 0
