"""SourceIPHashMapper: gives a rewriter's new flows to patterns by a consistent
hash of their source address, choosing as Click's user-level driver does.

The hash ring is Click's: NNODES points per server, drawn from the C library's
``random()`` seeded with SEED (:class:`CRandom`, glibc's additive feedback
generator), kept in the array-laid binary tree Click builds (:func:`tree_order`);
an address goes to the server of the first point not below its hash, or to the
tree's root past the last point.
"""

from __future__ import annotations

from pyclick.args import INT, Args, split_words
from pyclick.elements.iprwpatterns import find_pattern
from pyclick.elements.rewriterspec import (Key, Pattern, Taken, parse_pattern_with_outputs,
                                           raw_arguments)
from pyclick.elements.rripmapper import RoundRobinIPMapper

INT32 = INT.range(-2 ** 31, 2 ** 31 - 1)
INT_MAX = 2 ** 31 - 1


class CRandom:
    """glibc's ``srandom``/``random`` (TYPE_3: degree 31, separation 3)."""

    def __init__(self, seed: int) -> None:
        seed &= 0xFFFFFFFF
        word = seed - 2 ** 32 if seed >= 2 ** 31 else seed
        if word == 0:
            word = 1
        state = [word]
        for _ in range(30):
            # 16807 * word % 2147483647 by Schrage's method, with C's division
            # (truncating: a negative seed gives negative quotients).
            hi = abs(word) // 127773 * (1 if word >= 0 else -1)
            lo = word - hi * 127773
            word = 16807 * lo - 2836 * hi
            if word < 0:
                word += 2147483647
            state.append(word)
        self._state = [value & 0xFFFFFFFF for value in state]
        self._front, self._rear = 3, 0
        for _ in range(310):
            self.random()

    def random(self) -> int:
        state = self._state
        state[self._front] = (state[self._front] + state[self._rear]) & 0xFFFFFFFF
        value = state[self._front] >> 1
        self._front = (self._front + 1) % 31
        self._rear = (self._rear + 1) % 31
        return value


def tree_order(size: int) -> list[int]:
    """Which sorted position each slot of Click's array-laid tree of ``size``
    points holds (slot i's children are slots 2i+1 and 2i+2)."""
    span = 1 << size.bit_length()
    first_odd = 2 * ((size + 1) // 2) - 2 * ((span - 1 - size) // 2) + 1
    order: list[int] = []
    step, start = span, span >> 1
    while start > 0 and len(order) < size:
        for x in range(start, span, step):
            if len(order) == size:
                break
            order.append((x if x < first_odd else (x + first_odd - 1) // 2) - 1)
        step, start = start, start >> 1
    return order


def source_hash(address: bytes) -> int:
    """Click's hash of a source address: the address as a little-endian word,
    times (first byte << 24 | 1), modulo 2^31 - 1."""
    word = int.from_bytes(address, "little")
    return (word * ((address[0] << 24) | 1) & 0xFFFFFFFF) % INT_MAX


class HashRing:
    """The points of ``nodes`` per server: (point, server rank) in tree order."""

    def __init__(self, ids: list[int], nodes: int, seed: int) -> None:
        generator = CRandom(seed)
        present = set(ids)
        points: list[tuple[int, int]] = []
        for server in range(max(ids) + 1):
            draws = [generator.random() for _ in range(nodes)]
            if server in present:
                rank = sorted(present).index(server)
                points.extend((draw, rank) for draw in draws)
        points.sort(key=lambda point: point[0])
        self.tree = [points[position] for position in tree_order(len(points))]

    def rank(self, value: int) -> int:
        """The rank of the server whose point follows ``value``."""
        i, found = 0, None
        while i < len(self.tree):
            point, rank = self.tree[i]
            if value == point:
                return rank
            if value > point:
                i = 2 * i + 2
            else:
                found = rank
                i = 2 * i + 1
        return self.tree[0][1] if found is None else found


class SourceIPHashMapper(RoundRobinIPMapper):
    """SourceIPHashMapper(NNODES SEED, PATTERN1 ID1, ..., PATTERNn IDn) -- gives a rewriter's new flows to patterns by source address

    Description
    A mapper for IPRewriter and its kin, like RoundRobinIPMapper, but a
    flow's pattern is chosen by a consistent hash of its source address:
    all the flows of one host take the same pattern (go to the same
    server, say), and adding or removing a server moves only the hosts
    that hashed to it. Each PATTERN is 'SADDR SPORT DADDR DPORT FOUTPUT
    ROUTPUT' or 'NAME FOUTPUT ROUTPUT' (a pattern named by
    IPRewriterPatterns), as in IPRewriter's 'pattern' input specification,
    or 'SADDR DADDR FOUTPUT ROUTPUT' for IPAddrRewriter and
    IPAddrPairRewriter, followed by ID, the server's number (0 or more,
    each given once).

    Each server gets NNODES points on the hash ring, drawn at random with
    the integer SEED, the same for the same SEED and IDs as in Click's
    user-level driver (drawing also reseeds the C library's generator
    there; pyclick's random choices are not affected). Servers are ranked
    by ID, and the server of rank r takes the r-th PATTERN as written
    (so write them in ID order, as Click does the same). A
    flow whose pattern has nothing free is dropped (a mapping failure of
    the rewriter); the other patterns are not tried. The outputs must exist
    on every rewriter using the mapper.

    Ports
    none

    Example
    servers :: SourceIPHashMapper(100 7, - - 10.0.0.1 80 0 1 0, - - 10.0.0.2 80 0 1 1);
    rw :: IPRewriter(servers, drop);
    Idle -> [0]rw; Idle -> [1]rw; rw[0] -> Discard; rw[1] -> Discard;
    """

    def configure(self, args: Args) -> None:
        texts = raw_arguments(args)
        if not texts:
            args.error("no hash seed given")
        elif len(texts) == 1:
            args.error("no patterns given")
        elif len(texts) == 2:
            self.log.warning("only one pattern given")
        params = split_words(texts[0]) if texts else []
        nodes = seed = None
        if texts and len(params) != 2:
            args.error("requires 2 config params: numnodes seed")
        elif texts:
            nodes = args.convert("NNODES", params[0], INT32.range(1, None))
            seed = args.convert("SEED", params[1], INT32)
        self.choices: list[tuple[Pattern, int, int]] = []
        ids: list[int] = []
        for text in texts[1:]:
            words = split_words(text)
            server = _server_id(words)
            if server is None:
                args.error("bad server ID in pattern spec")
                continue
            # Click keeps IDs in 16 bits.
            server &= 0xFFFF
            if server in ids:
                args.error(f"server ID {server} given twice")
                continue
            try:
                self.choices.append(parse_pattern_with_outputs(
                    " ".join(words[:-1]), args, lambda name: find_pattern(self.router, name)))
            except ValueError as err:
                args.error(str(err))
                continue
            ids.append(server)
        args.complete()
        self.ring = HashRing(ids, nodes, seed)

    def map_flow(self, key: Key, taken: Taken) -> tuple[Key, int, int] | None:
        pattern, foutput, routput = self.choices[self.ring.rank(source_hash(key[0]))]
        new = pattern.rewrite(key, taken, self.router.random_source(self))
        return None if new is None else (new, foutput, routput)


def _server_id(words: list[str]) -> int | None:
    """The ID ending a pattern (which needs more words before it), or None."""
    try:
        return INT32.range(0, None)(words[-1], None) if len(words) > 1 else None
    except ValueError:
        return None
