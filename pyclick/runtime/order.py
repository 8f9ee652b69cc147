"""The order in which a router's elements are initialized.

An element that names another one in its configuration (an ``ELEMENT``
argument: ``DeviceBalancer(DEV fd, ...)``, ``StaticThreadSched(db 17)``)
may use it from its own ``initialize``, so the one named is initialized
first. Apart from that, elements go by their key, their place in Click's
configure order (``pyclick.runtime.phaseorder``).

References that form a cycle (``a`` names ``b`` and ``b`` names ``a``)
cannot all be honoured, and a cycle is not an error: the members of a cycle
(a strongly connected component of the reference graph) are initialized
one after the other in key order, once every element the cycle names
outside itself is initialized; the cycle as a whole takes the place its
least key gives it. An element naming itself is a cycle of one.

Precisely: among the cycles (single elements included) whose outside
references are all placed, the one with the least key goes next.
"""

from __future__ import annotations

import heapq
from typing import Hashable, Iterable, Mapping, Sequence, TypeVar

N = TypeVar("N", bound=Hashable)
Key = tuple[int, int]


def dependency_order(nodes: Sequence[N], keys: Mapping[N, Key],
                     depends_on: Mapping[N, Iterable[N]]) -> list[N]:
    """``nodes``, each after the nodes it depends on, otherwise by ``keys``.

    ``keys`` must be distinct (the declaration index makes them so).
    Dependencies on nodes not in ``nodes`` are ignored.
    """
    members = set(nodes)
    edges: dict[N, list[N]] = {}
    for node, deps in depends_on.items():
        inside = [dep for dep in deps if dep in members]
        if node in members and inside:
            edges[node] = inside
    by_key = sorted(nodes, key=keys.__getitem__)
    if not edges:
        return by_key
    rank = {node: position for position, node in enumerate(by_key)}
    # Only nodes that name others can be in a cycle with others.
    groups = _cycles(edges)
    grouped = {node for group in groups for node in group}
    groups.extend([node] for node in nodes if node not in grouped)
    group_of = {node: number for number, group in enumerate(groups) for node in group}
    waiting_for = [0] * len(groups)
    dependents: list[list[int]] = [[] for _ in groups]
    # A group is known on the heap by the rank of its first member.
    group_at: dict[int, int] = {}
    for number, group in enumerate(groups):
        outside = {group_of[dep] for node in group for dep in edges.get(node, ())} - {number}
        waiting_for[number] = len(outside)
        for other in outside:
            dependents[other].append(number)
        group.sort(key=rank.__getitem__)
        group_at[rank[group[0]]] = number
    ready = [rank[group[0]] for number, group in enumerate(groups) if waiting_for[number] == 0]
    heapq.heapify(ready)
    order: list[N] = []
    while ready:
        number = group_at[heapq.heappop(ready)]
        order.extend(groups[number])
        for dependent in dependents[number]:
            waiting_for[dependent] -= 1
            if waiting_for[dependent] == 0:
                heapq.heappush(ready, rank[groups[dependent][0]])
    return order


def _cycles(edges: Mapping[N, list[N]]) -> list[list[N]]:
    """The strongly connected components of the nodes reachable from those with
    edges (Tarjan's algorithm, without recursion)."""
    index: dict[N, int] = {}
    lowlink: dict[N, int] = {}
    on_stack: set[N] = set()
    stack: list[N] = []
    components: list[list[N]] = []
    for root in edges:
        if root in index:
            continue
        # Each frame: a node and the position of the next edge to follow.
        frames: list[tuple[N, int]] = [(root, 0)]
        index[root] = lowlink[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while frames:
            node, position = frames[-1]
            out = edges.get(node, ())
            if position < len(out):
                frames[-1] = (node, position + 1)
                dep = out[position]
                if dep not in index:
                    index[dep] = lowlink[dep] = len(index)
                    stack.append(dep)
                    on_stack.add(dep)
                    frames.append((dep, 0))
                elif dep in on_stack:
                    lowlink[node] = min(lowlink[node], index[dep])
                continue
            frames.pop()
            if frames:
                parent = frames[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components
