"""Per-flow state kept per RSS bucket, and its migration between cores.

- :mod:`pyclick.flow.state` — the flow-state API for elements
  (:func:`state_of`) and the state factories;
- :mod:`pyclick.flow.table` — the flow table of one bucket;
- :mod:`pyclick.flow.ownership` — which core owns which table, and the
  hand-off protocol that moves tables when the balancer moves buckets;
- :mod:`pyclick.flow.cores` — which core the calling thread serves;
- :mod:`pyclick.flow.key` — the 5-tuple a packet belongs to;
- :mod:`pyclick.flow.guard` — an instrument that proves single ownership.

The element tying them together is ``FlowIPManager``
(``pyclick/elements/flowipmanager.py``).
"""

from pyclick.flow.cores import bind_core, current_core
from pyclick.flow.ownership import BucketOwnership, CoreFence, ImmediateFence
from pyclick.flow.state import FLOW_STATE, state_of
from pyclick.flow.table import FlowTable

__all__ = ["FLOW_STATE", "BucketOwnership", "CoreFence", "FlowTable", "ImmediateFence",
           "bind_core", "current_core", "state_of"]
