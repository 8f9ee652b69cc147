"""DriverManager: a Script that decides when driver stop events stop the router."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.elements.script import Script


class DriverManager(Script):
    """DriverManager(INSTRUCTIONS...) -- a Script that manages driver stop events

    Description
    Driver stop events suggest that the driver should stop: a source's
    STOP once it has sent its packets, a write to the global stop handler,
    a Script's stop instruction. Without a DriverManager the first one
    stops the router. With one, each stop event steps the DriverManager's
    script instead, and the router stops only when the script ends (an
    instruction whose failure ends a Script ends it too, once reported) or
    runs its stop instruction.

    The script starts when the router does. Its instructions are Script's
    (see Script), with these that wait:

      wait_stop [N], wait_step [N], wait (no argument) -- wait for N stop events (default 1)
      wait_time TIME, wait_for TIME, wait TIME -- wait TIME on the router's clock; a stop event ends the wait early
      stop -- stop the router now

    A DriverManager with no instructions waits for one stop event, then
    stops. Script(TYPE DRIVER, INSTRUCTIONS...) is the same element. A
    configuration has at most one driver script.

    A signal that stops the router (SIGINT, SIGTERM, SIGHUP, SIGQUIT) is a
    stop event the script cannot refuse: its remaining instructions run,
    each wait ended at once, before the router stops; a second signal stops
    at once.

    Element handlers
    step (write) -- as a stop event: end the current wait (value: how many steps, default 1)
    run, goto, get, set (read or write) -- as Script's

    Example
    InfiniteSource(LIMIT 10, STOP true) -> Queue -> Unqueue -> c :: Counter -> Discard;
    DriverManager(wait_stop, print "counted $(c.count)", stop);
    """

    def configure(self, args: Args) -> None:
        # Script TYPE DRIVER, without the TYPE keyword.
        self.type, self.signals = "DRIVER", ()
        self.configure_program(args)
