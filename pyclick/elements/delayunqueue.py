"""DelayUnqueue: a pull-to-push converter that holds each packet until it is old enough."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.elements.delayshaper import DELAY, DelaySetting
from pyclick.elements.timedpuller import TimedPuller
from pyclick.packet import Packet

#: Packets pushed per task run at most: a pull source that always has a
#: packet ready must not keep one run going forever.
MAX_RUN = 256


class DelayUnqueue(TimedPuller, DelaySetting):
    """DelayUnqueue(DELAY) -- delay-inducing pull-to-push converter

    Description
    Pulls packets from its input and pushes them out its output no earlier
    than DELAY after their timestamp: a packet whose timestamp is T leaves
    at T + DELAY or later. A packet without timestamp (0) is stamped with
    the time it is pulled (in simulated time from 0, so is a packet stamped
    at time 0). A packet leaves with its timestamp set to the
    time it was due, T + DELAY. DelayUnqueue holds one packet at a time:
    it pulls the next only once the one it holds has left, so a packet
    waits at least DELAY after the one before it left its input. Put
    SetTimestamp before the Queue that feeds it to delay packets from
    their arrival. It sleeps while it holds no packet and the elements
    upstream say nothing will come (an empty Queue).

    Ports
    one pull input, one push output

    Keyword arguments
    DELAY -- the least delay, 0 to a day; mandatory

    Element handlers
    delay (read/write) -- the DELAY setting (a packet already held keeps the time it is due)

    Example
    InfiniteSource(LIMIT 5) -> SetTimestamp -> Queue -> DelayUnqueue(50ms)
        -> Print(TIMESTAMP true) -> Discard;
    """

    def configure(self, args: Args) -> None:
        self.delay = args.read_mp("DELAY", DELAY)
        args.complete()
        self._held: Packet | None = None
        self.make_task()

    def cleanup(self) -> None:
        super().cleanup()
        self._held = None

    def _run(self) -> bool:
        now = self.router.now()
        sent = 0
        held = self._held
        while sent < MAX_RUN:
            if held is None:
                held = self.input_pull(0)
                if held is None:
                    break
                held.timestamp = (held.timestamp or now) + self.delay
            if held.timestamp > now:
                break
            # One at a time, as Click: each packet is through before the next is pulled.
            self.output_push(0, [held])
            sent += 1
            held = None
        self._held = held
        if held is not None:
            self._timer.schedule_at(held.timestamp)
        elif sent == MAX_RUN or self._signal:
            self._task.reschedule()
        return sent > 0
