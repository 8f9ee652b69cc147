"""AlignmentInfo and AnnotationInfo: information for the configuration, none for packets."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Mapping

from pyclick.args import INT, Args, split_words
from pyclick.element import CONFIGURE_PHASE_FIRST, CONFIGURE_PHASE_INFO, Element
from pyclick.elements.clickargs import named_annotation
from pyclick.errors import ConfigError, NoSuchElement
from pyclick.lang.configstr import split_args, strip_comments
from pyclick.packet import ANNO_SIZE

#: A word as Click's annotation names must be: printable ASCII, no quote, backslash or comma.
_NAME = re.compile(r"[^\"'\\,\x00-\x20\x7f-\U0010ffff]+\Z")
_ALIGNMENT_SYNTAX = "expected 'ELEMENTNAME CHUNK OFFSET [CHUNK OFFSET...]'"


class AlignmentInfo(Element):
    """AlignmentInfo(ELEMENT [MODULUS OFFSET ...], ...) -- specifies alignment information

    Description
    Says how the packets arriving at some elements are aligned in memory,
    as click-align writes it into the configurations it aligns. Each
    argument is an ELEMENT name followed by MODULUS OFFSET pairs, one per
    input: the data of packets arriving on input n of ELEMENT starts
    OFFSETn bytes past a multiple of MODULUSn bytes. pyclick's packets
    need no alignment, so no element reads this information; the
    arguments are checked as Click checks them, with Click's leniency:
    mistakes are reported as errors but do not stop the router. An
    argument naming no element is ignored, an empty one warned about, and
    two arguments (or two AlignmentInfo elements) giving different
    information for one element are reported as a conflict.

    Ports
    none

    Example
    AlignmentInfo(c 4 2);
    Idle -> c :: Counter -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_INFO

    def configure(self, args: Args) -> None:
        # As in Click, the first AlignmentInfo keeps what all of them say.
        first = self.router.elements_of(AlignmentInfo)[0]
        if first is self:
            self.alignments: dict[str, list[tuple[int, int]]] = {}
        args.accept_rest()
        # Click counts empty arguments, which Args leaves out.
        for number, text in enumerate(split_args(strip_comments(args.config), brackets=True)):
            words = split_words(text)
            if not words:
                self.log.warning("%s: empty configuration argument %d", self.declaration(), number)
                continue
            try:
                element = self.router.find(words[0], self)
            except NoSuchElement:
                continue
            problems = [] if len(words) % 2 else [_ALIGNMENT_SYNTAX]
            pairs = [(_integer(chunk, "CHUNK", problems), _integer(offset, "OFFSET", problems))
                     for chunk, offset in zip(words[1::2], words[2::2])]
            earlier = first.alignments.get(element.name)
            first.alignments[element.name] = pairs
            if earlier is not None and earlier != pairs:
                problems.append(f"conflicting AlignmentInfo for '{words[0]}'")
            for problem in problems:
                self.log.error("%s: %s", self.declaration(), problem)
        args.complete()


def _integer(word: str, what: str, problems: list[str]) -> int:
    try:
        return INT(word, None)
    except ValueError:
        problems.append(f"expected {what}")
        return -1


def _annotation(word: str, element: Element | None) -> tuple[int, int] | None:
    """An annotation of any size as Click reads one, by name (those an
    AnnotationInfo seen from ``element`` defines too) or by offset in the
    area: its offset and size (0: any); None if it is none."""
    found = named_annotation(word, element)
    if found is None:
        try:
            found = (INT(word, None), 0)
        except ValueError:
            return None
    return found if 0 <= found[0] < ANNO_SIZE else None


def _overlap(one: tuple[int, int], other: tuple[int, int]) -> bool:
    (start, size), (other_start, other_size) = one, other
    return start < other_start + (other_size or 1) and other_start < start + (size or 1)


class AnnotationInfo(Element):
    """AnnotationInfo(NAME OFFSET [SIZE], ..., CHECK_OVERLAP ANNO...) -- defines names for packet annotations

    Description
    Gives names to places in the packet annotation area, which the
    elements of the configuration then accept wherever they take an
    annotation (Paint's ANNO, SetAnnoByte's...). Each argument 'NAME
    OFFSET SIZE' names the SIZE bytes at OFFSET; OFFSET is a number from 0
    to 47 or an annotation name (PAINT, or one defined before), and SIZE,
    when left out, is 0: the name then fits an annotation of any size. A
    name of a given SIZE stands only for an annotation of that size. The
    names Click defines (PAINT, DST_IP...) and numbers cannot be NAMEs, and
    an entry must fit in the 48-byte area.

    An argument 'CHECK_OVERLAP ANNO...' checks, once every element is
    configured, that the annotations it names (names or offsets) do not
    overlap, a size 0 counting as one byte: the router does not start if
    two do, or if one is no annotation.

    Names are local to compound elements, as AddressInfo's are, and
    AnnotationInfo elements configure before all others. Empty arguments
    and arguments starting with # are ignored.

    Ports
    none

    Example
    AnnotationInfo(COLOR2 18 1, CHECK_OVERLAP COLOR2 PAINT);
    InfiniteSource(LIMIT 3) -> Paint(5, ANNO COLOR2) -> Discard;
    """

    port_count = "0/0"
    configure_phase = CONFIGURE_PHASE_FIRST
    #: NAME -> (offset, size); empty until configured.
    definitions: Mapping[str, tuple[int, int]] = MappingProxyType({})

    def configure(self, args: Args) -> None:
        self.definitions = definitions = {}
        self.overlap_checks: list[list[str]] = []
        for text in args.accept_rest():
            words = split_words(text)
            if not words or words[0].startswith("#"):
                continue
            name, rest = words[0], words[1:]
            if name == "CHECK_OVERLAP":
                self.overlap_checks.append(rest)
            elif not _NAME.match(name) or _annotation(name, None) is not None:
                args.error(f"bad NAME '{name}'")
            else:
                entry = self._entry(rest)
                if entry is None:
                    args.error(f"bad entry for '{name}'")
                else:
                    definitions[name] = entry
        args.complete()

    def _entry(self, words: list[str]) -> tuple[int, int] | None:
        """``OFFSET [SIZE]`` as (offset, size); None when it is no annotation that fits."""
        found = _annotation(words[0], self) if 1 <= len(words) <= 2 else None
        if found is None:
            return None
        offset, known_size = found
        try:
            size = INT(words[1], None) if len(words) == 2 else 0
        except ValueError:
            return None
        if size < 0 or offset + size > ANNO_SIZE or (size and known_size and size != known_size):
            return None
        return offset, size

    def initialize(self) -> None:
        errors = []
        for words in self.overlap_checks:
            found = [(word, _annotation(word, self)) for word in words]
            errors += [f"bad ANNO '{word}'" for word, anno in found if anno is None]
            errors += [f"annotations '{word}' and '{other_word}' conflict"
                       for at, (word, anno) in enumerate(found)
                       for other_word, other in found[at + 1:]
                       if anno is not None and other is not None and _overlap(anno, other)]
        if errors:
            raise ConfigError(messages=errors)

    def annotation_definition(self, name: str) -> tuple[int, int] | None:
        return self.definitions.get(name)
