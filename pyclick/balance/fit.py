"""A balancer's settings fitted to the device it balances, when both are known.

What the configuration leaves to the device is settled here: CPUS defaults
to the device's queue count, a table of another size than RETA_SIZE is
resized when the device can, and NUMA sockets come from the device when it
knows them. What cannot fit is a :class:`DeviceMismatch` naming the keyword.
"""

from __future__ import annotations

from typing import Callable, Sequence

from pyclick.balance.params import BalanceParams
from pyclick.seams import NumaTopology, QueueDescription, ResizableTable, RssDevice


class DeviceMismatch(ValueError):
    """A setting the device cannot honour; the message starts with its KEYWORD."""


def fit_to_device(params: BalanceParams, device: RssDevice, name: str, *, cpus_given: bool,
                  cpu_sockets: Callable[[int], Sequence[int]]) -> None:
    """Complete ``params`` from ``device`` (called ``name`` in messages) and resize its table.

    ``cpu_sockets(n)`` gives the socket of the cores serving queues 0..n-1
    when NUMA is asked for and the device does not know them.
    """
    queues = device.queue_count()
    if not cpus_given:
        params.cpus = queues
        for keyword, problem in params.problems():
            raise DeviceMismatch(f"{keyword}: {problem}")
    elif params.cpus > queues:
        hint = f" ({device.describe_queues()})" if isinstance(device, QueueDescription) else ""
        raise DeviceMismatch(f"CPUS: {params.cpus} cores but DEV '{name}' has {queues} "
                             f"queues{hint}")
    size, have = params.reta_size, device.reta_size()
    if size != have:
        if not isinstance(device, ResizableTable):
            raise DeviceMismatch(f"RETA_SIZE: {size} buckets, but DEV '{name}' has a table of "
                                 f"{have} buckets and cannot resize it")
        try:
            device.set_reta_size(size)
        except (ValueError, OSError) as err:
            raise DeviceMismatch(f"RETA_SIZE: DEV '{name}' cannot resize its table of {have} "
                                 f"buckets to {size}: {err}") from None
    if params.numa:
        sockets = (device.core_sockets() if isinstance(device, NumaTopology)
                   else cpu_sockets(params.cpus))
        params.sockets = list(sockets)[:params.cpus]
