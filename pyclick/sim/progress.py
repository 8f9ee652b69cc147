"""Progress bars for the long waits of a simulation, on a terminal only.

A bar is drawn with tqdm on standard error when it is a terminal and the
caller wants one (not under QUIET); otherwise, or when tqdm is not
installed, a silent stand-in takes its place. Lines printed while a bar is
shown go through it, so that the bar is cleared and redrawn around them.
"""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

#: A wait shorter than this (seconds) shows no bar at all.
BAR_DELAY = 0.5


class Progress(Protocol):
    """Where a long task reports how far it got."""

    def advance_to(self, done: float) -> None:
        """The task has done ``done`` of its total (same unit)."""

    def write(self, text: str) -> None:
        """Print a line of ``text`` on standard output without garbling the bar."""

    def close(self) -> None:
        """The task is over: take the bar away."""


class SilentProgress:
    """No bar: lines go straight to standard output."""

    def advance_to(self, done: float) -> None:
        pass

    def write(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def close(self) -> None:
        pass


class BarProgress:
    """A tqdm bar on a terminal."""

    def __init__(self, bar) -> None:
        self._bar = bar
        self._done = 0.0

    def advance_to(self, done: float) -> None:
        if done > self._done:
            self._bar.update(done - self._done)
            self._done = done

    def write(self, text: str) -> None:
        self._bar.write(text, file=sys.stdout)
        sys.stdout.flush()

    def close(self) -> None:
        self._bar.close()


def progress_bar(total: float | None, description: str, unit: str, *, shown: bool = True,
                 stream: TextIO | None = None) -> Progress:
    """A bar counting up to ``total`` (None: unknown) on ``stream`` (standard error),
    or a silent stand-in when not ``shown``, not on a terminal, or without tqdm."""
    stream = sys.stderr if stream is None else stream
    if not shown or not _is_terminal(stream):
        return SilentProgress()
    try:
        from tqdm import tqdm
    except ImportError:
        return SilentProgress()
    counts = "{n:.0f}/{total:.0f} " + unit if total is not None and unit != "B" else None
    return BarProgress(tqdm(total=total, desc=description, unit=unit, file=stream, leave=False,
                            dynamic_ncols=True, unit_scale=unit == "B", delay=BAR_DELAY,
                            bar_format=None if counts is None else
                            "{desc}: {percentage:3.0f}%|{bar}| " + counts
                            + " [{elapsed}<{remaining}]"))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):   # no isatty, or a closed stream
        return False
