"""The order Click configures and initializes elements in: by configure phase,
through Click's own quicksort.

Click sorts the element indices by configure phase alone with its
``click_qsort`` (Bentley and McIlroy's "Engineering a Sort Function"), which
is not stable: among elements of one phase, the declaration order survives
only in ranges of fewer than seven. With seven elements of one phase, the
fourth is configured first. The order is not cosmetic: elements schedule
their tasks as they initialize, and the task order decides, for instance,
which of two sources has sent one packet more when a DriverManager takes
the first one's stop event. :func:`click_phase_order` gives the same
permutation, step for step.
"""

from __future__ import annotations

from typing import Sequence

#: Ranges shorter than this are sorted by insertion, which is stable.
_INSERTION_BELOW = 7
#: From this length on, the pivot is the pseudo-median of nine.
_NINTHER_ABOVE = 40


def click_phase_order(phases: Sequence[int]) -> list[int]:
    """The indices of ``phases`` in the order Click sorts them by phase."""
    items = list(range(len(phases)))

    def compare(i: int, j: int) -> int:
        return phases[items[i]] - phases[items[j]]

    def swap(i: int, j: int, count: int = 1) -> None:
        for k in range(count):
            items[i + k], items[j + k] = items[j + k], items[i + k]

    def median(a: int, b: int, c: int) -> int:
        ab, bc = compare(a, b), compare(b, c)
        if ab < 0:
            return b if bc < 0 else (c if compare(a, c) < 0 else a)
        return b if bc > 0 else (c if compare(a, c) > 0 else a)

    ranges = [(0, len(items))]
    while ranges:
        low, high = ranges.pop()
        n = high - low
        if n < _INSERTION_BELOW:
            for i in range(low + 1, high):
                j = i
                while j > low and compare(j - 1, j) > 0:
                    swap(j, j - 1)
                    j -= 1
            continue
        middle = low + n // 2
        if n > _INSERTION_BELOW:
            first, last = low, high - 1
            if n > _NINTHER_ABOVE:
                step = n // 8
                first = median(first, first + step, first + 2 * step)
                middle = median(middle - step, middle, middle + step)
                last = median(last - 2 * step, last - step, last)
            middle = median(first, middle, last)
        # The pivot sits at ``low``; equal items gather at both ends.
        swap(low, middle)
        pa = pb = low + 1
        pc = pd = high - 1
        while True:
            while pb <= pc and (order := compare(pb, low)) <= 0:
                if order == 0:
                    swap(pa, pb)
                    pa += 1
                pb += 1
            while pc >= pb and (order := compare(pc, low)) >= 0:
                if order == 0:
                    swap(pc, pd)
                    pd -= 1
                pc -= 1
            if pb > pc:
                break
            swap(pb, pc)
            pb += 1
            pc -= 1
        # The equal items move from the ends into the middle.
        count = min(pa - low, pb - pa)
        swap(low, pb - count, count)
        count = min(pd - pc, high - pd - 1)
        swap(pb, high - count, count)
        if pb == pa and pd == pc:
            continue
        below, above = (low, low + pb - pa), (high - (pd - pc), high)
        # Click stacks the larger range below the other, and leaves out an
        # empty range only from the top.
        if above[1] - above[0] > below[1] - below[0]:
            below, above = above, below
        ranges.append(below)
        if above[0] != above[1]:
            ranges.append(above)
    return items
