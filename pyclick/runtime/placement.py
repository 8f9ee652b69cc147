"""Which worker thread, pinned to which CPU, runs each element."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from pyclick.errors import Landmark

Warn = Callable[[str, "Landmark | None"], None]


@dataclass
class Placement:
    """``thread_cpus[i]``: CPU of worker thread i (None: not pinned); ``home``: thread per element."""

    thread_cpus: list[int | None]
    home: dict[str, int]


def place(assigned: dict[str, tuple[int, Landmark | None]], nthreads: int | None,
          available: list[int], warn: Warn) -> Placement:
    """Lay out the worker threads and give each assigned element its thread.

    ``assigned`` maps element names to the CPU StaticThreadSched named.
    Without ``nthreads``: an unpinned thread 0 plus one thread per CPU
    named. With ``nthreads``: thread i pinned to CPU i. A CPU missing from
    ``available`` is replaced by the last available one, with a warning.
    Elements not in ``assigned`` belong on thread 0.
    """
    last = available[-1]

    def existing(cpu: int, what: str, landmark: Landmark | None) -> int:
        if cpu in available:
            return cpu
        warn(f"CPU {cpu} does not exist on this machine (CPUs {cpu_list(available)}); "
             f"{what} runs on CPU {last} instead", landmark)
        return last

    cpus = {name: existing(cpu, f"'{name}'", landmark)
            for name, (cpu, landmark) in assigned.items()}
    if nthreads is None:
        thread_cpus: list[int | None] = [None, *sorted(set(cpus.values()))]
    else:
        thread_cpus = [existing(i, f"thread {i}", None) for i in range(nthreads)]
    home = {}
    for name, cpu in cpus.items():
        if cpu in thread_cpus:
            home[name] = thread_cpus.index(cpu)
        else:
            home[name] = len(thread_cpus) - 1
            warn(f"'{name}' is assigned to CPU {cpu}, but the router has {len(thread_cpus)} "
                 f"threads; it runs on thread {home[name]}", assigned[name][1])
    return Placement(thread_cpus, home)


def cpu_list(cpus: list[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``0-2,5`` (the kernel's CPU list format)."""
    ranges: list[list[int]] = []
    for cpu in cpus:
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)
