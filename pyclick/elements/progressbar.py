"""ProgressBar: how far some handlers' values got, drawn on a terminal."""

from __future__ import annotations

import math
import os
import sys

from pyclick.args import ANY, BOOL, FLOAT, STRING, TIME, Args, split_words
from pyclick.element import read_handler, write_handler
from pyclick.elements.handlercall import handler_name
from pyclick.elements.settinghandlers import setting_handlers
from pyclick.elements.switchable import Activatable
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.timers import Timer

FIRST, MIDDLE, DONE, FIRST_DONE, DEAD = range(5)
#: A position unchanged this long (seconds) is reported as stalled.
STALL = 5
_PREFIXES = " KMGTP"
_LONGEST_BAR = 240


def _foreground() -> bool:
    """Whether this process is in the foreground of standard error's terminal."""
    try:
        return os.tcgetpgrp(sys.stderr.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False


def _width() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


def _terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _number(value: float) -> str:
    return f"{value:.12g}"


def _bar(length: int, fill: float, sized: bool, over: bool) -> str:
    """The bar between its two '|': filled to ``fill`` percent, or with a
    bouncing '***' when the size is unknown; dashes when ``fill`` is unknown (< 0)."""
    if fill < 0 or over:
        return "|" + "-" * length + "|"
    if sized:
        stars = int(length * fill / 100)
        return "|" + "*" * stars + " " * (length - stars) + "|"
    mark = "***" if length > 3 else "*"
    at = int((length - len(mark)) * fill / 100)
    return "|" + " " * at + mark + " " * (length - at - len(mark)) + "|"


def _position(pos: float) -> str:
    prefix = 0
    while pos >= 100000 and prefix < len(_PREFIXES) - 1:
        prefix += 1
        pos /= 1024
    unit = " " if prefix == 0 else "B"
    return f" {int(pos):5d}{_PREFIXES[prefix]}{unit} "

#: The longest UPDATE and DELAY (s): a progress bar redrawn less often shows nothing.
_DAY = 86400.0


class ProgressBar(Activatable):
    """ProgressBar(POSHANDLER, SIZEHANDLER, KEYWORDS) -- prints a progress bar to standard error

    Description
    Draws a bar on standard error, when it is a terminal, showing how far
    a task got: POSHANDLER names read handlers whose values, added, are the
    position; SIZEHANDLER, read handlers whose values, added, are the size
    the position reaches at the end (read once, when the bar first shows).
    Either may be a space-separated list. The line shows BANNER, the
    percentage, the bar, the position (shortened with K, M, G... past
    99999, unless the size comes from FIXED_SIZE alone) and the time to
    go, redrawn every UPDATE. Without a size, a mark bounces to and fro.
    The bar is drawn only while the process is in the terminal's
    foreground. When the router stops, a bar in progress is drawn one last
    time with the time spent, and a newline.

    Ports
    none

    Keyword arguments
    POSHANDLER -- the read handlers giving the position; mandatory
    SIZEHANDLER -- the read handlers giving the size; default none
    FIXED_SIZE -- the size when there is no SIZEHANDLER; default none
    BANNER -- text shown before the bar; default none
    UPDATE -- the time between two drawings; default 250ms
    ACTIVE -- draw only while true; default true
    DELAY -- draw nothing until this long after the bar first shows; default 0
    CHECK_STDOUT -- draw nothing when standard output is a terminal; default false

    Element handlers
    mark_stopped (write) -- draws the bar a last time, as stopped
    mark_done (write) -- draws the bar a last time, complete: the size becomes the position
    pos (read) -- the position when the bar last moved on
    size (read/write) -- the size
    active (read/write) -- the ACTIVE setting; writing true resumes drawing
    banner (read/write) -- the BANNER setting, written as it is
    poshandler, sizehandler (read/write) -- the handlers, space-separated; writing
    sizehandler reads the size anew at the next drawing
    reset (write) -- starts afresh: reads the size again, and sets ACTIVE

    Example
    d :: FromDump(trace.pcap, STOP true) -> Discard;
    ProgressBar(d.filepos, d.filesize);
    """

    def configure(self, args: Args) -> None:
        position = args.read_mp("POSHANDLER", ANY)
        size = args.read_p("SIZEHANDLER", ANY, "")
        self.interval = args.read("UPDATE", TIME.range(0, _DAY, open_low=True), 0.25)
        self.banner = args.read("BANNER", STRING, "")
        self.active = args.read("ACTIVE", BOOL, True)
        self.delay = args.read("DELAY", TIME.range(0, _DAY), 0.0)
        self.check_stdout = args.read("CHECK_STDOUT", BOOL, False)
        fixed = args.read("FIXED_SIZE", FLOAT.range(0, None))
        args.complete()
        # Handlers are looked up once every element has its own.
        self._names = (split_words(position), split_words(size or ""))
        self.have_size, self.size = fixed is not None, -1.0 if fixed is None else fixed
        self.last_pos = 0.0
        self.status = FIRST
        self._timer = Timer(self, self._draw)

    def initialize(self) -> None:
        self.pos_handlers = self._resolve(self._names[0])
        self.size_handlers = self._resolve(self._names[1])
        if not _terminal(sys.stderr) or (self.check_stdout and _terminal(sys.stdout)):
            self.status = DEAD
        if self.active and self.status != DEAD:
            self._timer.schedule_after(0)

    def cleanup(self) -> None:
        if self.status == MIDDLE:
            self.status = DONE
            self._draw()

    def _resolve(self, words: list[str]) -> list[str]:
        handlers = []
        for word in words:
            name = handler_name(word, self)
            try:
                self.router.handlers.check(name, write=False)
            except HandlerError:
                raise ValueError(f"no '{word}' read handler") from None
            handlers.append(name)
        return handlers

    def _sum(self, handlers: list[str]) -> tuple[float, bool]:
        """The sum of the values that read as numbers, and whether all did (False for none)."""
        total, known = 0.0, bool(handlers)
        for name in handlers:
            try:
                total += FLOAT(self.router.handlers.read(name).strip(), None)
            except (ValueError, HandlerError):
                known = False
        return total, known

    def _draw(self) -> None:
        if not self.active or self.status == DEAD:
            return
        now = self.router.now()
        if self.status in (FIRST, FIRST_DONE):
            if not self.have_size:
                self.size, self.have_size = self._sum(self.size_handlers)
            self.last_pos, self.last_time, self.start, self.stalled = 0.0, now, now, 0.0
            self.show_at = now + self.delay
            if self.status == FIRST:
                self.status = MIDDLE
        if not _foreground():
            self._timer.reschedule_after(self.interval)
            return
        if now < self.show_at:
            self._timer.schedule_at(self.show_at)
            return
        pos, have_pos = self._sum(self.pos_handlers)
        sys.stderr.write(self._line(now, pos, have_pos))
        sys.stderr.flush()
        if self.status < DONE:
            self._timer.reschedule_after(self.interval)
        else:
            self.active = False

    def _line(self, now: float, pos: float, have_pos: bool) -> str:
        sized, ended = self.have_size, self.status >= DONE
        if not have_pos:
            fill = -1.0
        elif not sized:
            fill = float(math.fmod(int(pos / 100000), 200))
            fill = 200 - fill if fill > 100 else fill
        elif self.size > 0:
            fill = float(min(max(int(100 * pos / self.size), 0), 100))
        else:
            fill = 100.0
        line = "\r" + (f"{self.banner} " if self.banner else "")
        if sized:
            line += f"{int(fill):3d}% " if have_pos else "  -% "
        length = _width() - (len(line) + 25) + (8 if sized and not self.size_handlers else 0)
        if length > 0:
            line += _bar(min(length, _LONGEST_BAR), fill, sized, not sized and ended)
        if sized and not self.size_handlers:
            line += " "
        else:
            line += _position(pos) if have_pos else " -----   "
        return line + self._time(now, pos, have_pos) + ("\n" if ended else "")

    def _time(self, now: float, pos: float, have_pos: bool) -> str:
        wait = now - self.last_time
        if pos > self.last_pos:
            self.last_time, self.last_pos = now, pos
            if wait >= STALL:
                self.stalled += wait
            wait -= int(wait)
        elapsed = now - self.start - self.stalled
        ended = self.status >= DONE
        if not ended and (not have_pos or not self.have_size or elapsed <= 0
                          or pos > self.size):
            return "   --:-- ETA"
        if wait >= STALL:
            return " - stalled -"
        eta = not (ended or not have_pos or pos < 1e-6)
        left = int(self.size / (pos / elapsed) - elapsed) if eta else int(elapsed)
        hours, rest = divmod(left, 3600)
        return (f"{hours:2d}:" if hours else "   ") \
            + f"{rest // 60:02d}:{rest % 60:02d}{' ETA' if eta else '    '}"

    def _complete(self, full: bool) -> None:
        if self.status < DONE and self.active:
            if full:
                self.have_size = True
                self.size = self._sum(self.pos_handlers)[0]
            self.status = FIRST_DONE if self.status == FIRST else DONE
            self._timer.unschedule()
            self._draw()

    @write_handler("mark_stopped")
    def _write_mark_stopped(self, value: str) -> None:
        self._complete(False)

    @write_handler("mark_done")
    def _write_mark_done(self, value: str) -> None:
        self._complete(True)

    @write_handler("reset")
    def _write_reset(self, value: str) -> None:
        self.have_size, self.status, self.active = False, FIRST, True
        self._timer.schedule_after(0)

    def _wake(self) -> None:
        if self.active and not self._timer.scheduled:
            self._timer.schedule_after(0)

    @read_handler("banner", raw=True)
    def _read_banner(self) -> str:
        return self.banner

    @write_handler("banner")
    def _write_banner(self, value: str) -> None:
        self.banner = value

    @read_handler("pos")
    def _read_pos(self) -> str:
        return _number(self.last_pos)

    _read_size, _write_size = setting_handlers("size", FLOAT, _number)

    @read_handler("poshandler")
    def _read_poshandler(self) -> str:
        return " ".join(self.pos_handlers)

    @write_handler("poshandler")
    def _write_poshandler(self, value: str) -> None:
        self.pos_handlers = self._resolve(split_words(value))

    @read_handler("sizehandler")
    def _read_sizehandler(self) -> str:
        return " ".join(self.size_handlers)

    @write_handler("sizehandler")
    def _write_sizehandler(self, value: str) -> None:
        self.size_handlers = self._resolve(split_words(value))
        self.have_size = False
