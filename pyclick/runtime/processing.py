"""Push, pull and agnostic ports: Click's processing and flow codes, and their resolution.

An element class declares each port's processing with Click's code: ``h``
(push), ``l`` (pull) or ``a`` (agnostic), inputs before the slash and
outputs after it, the last letter of a side repeated for the remaining
ports (``"h/lh"``: push inputs, pull output 0, push outputs from 1 on; a
code without a slash applies to both sides).

Its flow code says which inputs may send packets to which outputs (Click's
``flow_code``: ``"x/x"`` any to any, ``"x/y"`` none, ``"#/#"`` input k to
output k only, ``"xy/x"`` ...). Agnostic ports of one element that the flow
code links take one processing.

:func:`resolve` follows Click's router: every connection, and every link
between an agnostic input and an agnostic output of one element that packets
may travel, ties the processing of its two ends; known processings spread
along the ties until nothing changes. Two known processings that differ
on one tie are an error; ports still agnostic at the end are push.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Sequence

PUSH_CODE = "h"
PULL_CODE = "l"
AGNOSTIC_CODE = "a"

AGNOSTIC = "a/a"
PUSH = "h/h"
PULL = "l/l"
PUSH_TO_PULL = "h/l"
PULL_TO_PUSH = "l/h"
PROCESSING_A_AH = "a/ah"
COMPLETE_FLOW = "x/x"

_CODES = {"h": PUSH_CODE, "H": PUSH_CODE, "l": PULL_CODE, "L": PULL_CODE,
          "a": AGNOSTIC_CODE, "A": AGNOSTIC_CODE}


def processing_vector(code: str, ninputs: int, noutputs: int) -> tuple[list[str], list[str]]:
    """Each input's and each output's code (``h``, ``l`` or ``a``) from a processing
    code; ValueError if the code holds another letter. The lists are the
    caller's to change."""
    ins, outs = _vectors(code, ninputs, noutputs)
    return list(ins), list(outs)


# Worked out once per (code, ports): a class's code is the same for each of its
# thousands of elements (a mistake raises and is not kept).
@functools.lru_cache(maxsize=1024)
def _vectors(code: str, ninputs: int, noutputs: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ins, slash, outs = code.partition("/")
    if not slash:
        outs = ins
    return _side(ins, ninputs, code), _side(outs, noutputs, code)


def _side(text: str, count: int, code: str) -> tuple[str, ...]:
    letters = []
    for char in text:
        if char not in _CODES:
            raise ValueError(f"bad processing code '{code}'")
        letters.append(_CODES[char])
    if count and not letters:
        letters = [AGNOSTIC_CODE]
    return tuple(letters[min(i, len(letters) - 1)] for i in range(count))


def _flow_codes(text: str, count: int) -> list[frozenset[str]]:
    """The set of flow letters of each of ``count`` ports (``#`` as ``#<port>``)."""
    codes: list[frozenset[str]] = []
    i = 0
    while i < len(text):
        if text[i] == "[":
            end = text.find("]", i)
            if end < 0:
                raise ValueError("flow code: missing ']'")
            codes.append(frozenset(text[i + 1:end]))
            i = end + 1
        else:
            codes.append(frozenset(text[i]))
            i += 1
    if not codes:
        raise ValueError("flow code: missing or bad '/'")
    return [codes[min(port, len(codes) - 1)] for port in range(count)]


def _matches(a: frozenset[str], a_port: int, b: frozenset[str], b_port: int) -> bool:
    """Whether two port codes share a letter (``^`` negates, ``#`` is the port number)."""
    def letters(code: frozenset[str], port: int) -> tuple[set[str], bool]:
        negated = "^" in code
        out = {c for c in code if c.isalpha()}
        if "#" in code:
            out.add(f"#{port}")
        return out, negated

    la, na = letters(a, a_port)
    lb, nb = letters(b, b_port)
    if na and nb:
        return True
    if na:
        return not lb <= la
    if nb:
        return not la <= lb
    return bool(la & lb)


def port_flow(flow_code: str, isoutput: bool, port: int, ninputs: int,
              noutputs: int) -> list[bool]:
    """Click's ``port_flow``: which ports of the other side packets may travel to
    from input ``port`` (or reach output ``port`` from)."""
    nother = ninputs if isoutput else noutputs
    if flow_code == COMPLETE_FLOW:
        return [True] * nother
    ins, slash, outs = flow_code.partition("/")
    if not slash:
        outs = ins
    in_codes = _flow_codes(ins, ninputs)
    out_codes = _flow_codes(outs, noutputs)
    if isoutput:
        return [_matches(out_codes[port], port, in_codes[i], i) for i in range(ninputs)]
    return [_matches(in_codes[port], port, out_codes[j], j) for j in range(noutputs)]


@dataclass
class Tie:
    """Output ``out_port`` of ``source`` feeds input ``in_port`` of ``target``;
    ``inside`` when the tie is a flow inside one agnostic element."""

    source: int
    out_port: int
    target: int
    in_port: int
    inside: bool = False
    broken: bool = False


def resolve(inputs: Sequence[list[str]], outputs: Sequence[list[str]], ties: list[Tie],
            flows: Callable[[int, int], list[bool]],
            conflict: Callable[[Tie, str], None]) -> None:
    """Resolve agnostic ports in place (see the module docstring).

    ``inputs[e]`` and ``outputs[e]`` are element e's port codes; ``ties`` the
    connections, in order; ``flows(e, i)`` which outputs of element e input
    i may send to. ``conflict(tie, output_code)`` hears each tie whose two
    ends disagree (the tie is then ignored).
    """
    ties = list(ties)
    for element, codes in enumerate(inputs):
        for port, code in enumerate(codes):
            if code != AGNOSTIC_CODE:
                continue
            for out_port, travels in enumerate(flows(element, port)):
                if travels and outputs[element][out_port] == AGNOSTIC_CODE:
                    ties.append(Tie(element, out_port, element, port, inside=True))
    changed = True
    while changed:
        changed = False
        for tie in ties:
            if tie.broken:
                continue
            pf = outputs[tie.source][tie.out_port]
            pt = inputs[tie.target][tie.in_port]
            if pt == AGNOSTIC_CODE:
                if pf != AGNOSTIC_CODE:
                    inputs[tie.target][tie.in_port] = pf
                    changed = True
            elif pf == AGNOSTIC_CODE:
                outputs[tie.source][tie.out_port] = pt
                changed = True
            elif pf != pt:
                conflict(tie, pf)
                tie.broken = True
    for codes in (*inputs, *outputs):
        for port, code in enumerate(codes):
            if code == AGNOSTIC_CODE:
                codes[port] = PUSH_CODE


def kind(code: str) -> str:
    """``push`` or ``pull``."""
    return "pull" if code == PULL_CODE else "push"


def other_kind(code: str) -> str:
    return "push" if code == PULL_CODE else "pull"
