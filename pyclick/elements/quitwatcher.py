"""QuitWatcher: the router stops once an element's task is no longer scheduled."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import Element
from pyclick.elements.handlercall import handler_name
from pyclick.errors import ConfigError
from pyclick.runtime.handlers import HandlerError
from pyclick.runtime.timers import Timer

#: How often the tasks are looked at, as Click's.
PERIOD = 0.01


class QuitWatcher(Element):
    """QuitWatcher(ELEMENT, ...) -- stops router processing

    Description
    Stops the router once one of the ELEMENTs is no longer scheduled: it
    reads their 'scheduled' handlers every 10 milliseconds, and stops the
    driver at the first that reads false (or empty). Every ELEMENT must
    exist and have a task, hence a 'scheduled' handler, when the router
    initializes.

    Ports
    none

    Keyword arguments
    ELEMENT -- the name of an element with a task; any number

    Example
    s :: InfiniteSource(LIMIT 100) -> Discard;
    QuitWatcher(s);
    """

    def configure(self, args: Args) -> None:
        # Names are looked up once every element has its handlers.
        self.watched = [text.strip() for text in args.accept_rest()]
        self._timer = Timer(self, self._look)

    def initialize(self) -> None:
        handlers, errors = [], []
        for name in self.watched:
            try:
                handler = handler_name(f"{name}.scheduled", self)
                self.router.handlers.check(handler, write=False)
                handlers.append(handler)
            except ValueError as err:
                errors.append(str(err))
            except HandlerError:
                errors.append(f"no '{name}.scheduled' read handler")
        if errors:
            raise ConfigError(messages=errors)
        self._handlers = handlers
        self._timer.schedule_after(PERIOD)

    def _look(self) -> None:
        for handler in self._handlers:
            value = self.router.handlers.read(handler)
            if not value or value[0] == "f":
                self.router.please_stop_driver(f"{self.name}: {handler} unscheduled")
                return
        self._timer.schedule_after(PERIOD)
