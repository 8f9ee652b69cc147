"""FromSocket and ToSocket: Click's older one-direction names for Socket."""

from __future__ import annotations

from pyclick.args import Args
from pyclick.element import PUSH
from pyclick.elements.socketelement import Socket


class Deprecated(Socket):
    """A socket element Click keeps under an older name: it warns when configured."""

    registered = False
    #: The class to use instead.
    replacement = "Socket"

    def configure(self, args: Args) -> None:
        self.log.warning("%s: %s is deprecated, use %s instead", self.declaration(),
                         self.class_name(), self.replacement)
        super().configure(args)


class FromSocket(Deprecated):
    """FromSocket(TYPE, ADDR, PORT [, LOCAL_ADDR, LOCAL_PORT] | TYPE, FILENAME [, LOCAL_FILENAME], KEYWORDS) -- reads data from a socket (user-level)

    Description
    The receiving half of Socket, kept for configurations written for older
    Clicks: the data received on the socket is emitted on the output. It
    takes Socket's arguments and behaves as Socket does, except that its
    ports are push. With an output and without CLIENT it is a server,
    binding ADDR and PORT (or FILENAME). It warns, when configured, that it
    is deprecated in favour of Socket.

    Ports
    no input or one push input (packets to send); no output or one push output (data received)

    Keyword arguments
    TYPE, ADDR, PORT, LOCAL_ADDR, LOCAL_PORT, FILENAME, LOCAL_FILENAME, CLIENT, SNAPLEN, HEADROOM, TIMESTAMP, NODELAY, SNDBUF, RCVBUF, ALLOW, DENY, VERBOSE, PROPER -- as Socket's

    Element handlers
    scheduled, tickets, home_thread -- as Socket's

    Example
    FromSocket(UDP, 0.0.0.0, 5000) -> Print(in) -> Discard;
    """

    processing = PUSH


class ToSocket(Deprecated):
    """ToSocket(TYPE, ADDR, PORT [, LOCAL_ADDR, LOCAL_PORT] | TYPE, FILENAME [, LOCAL_FILENAME], KEYWORDS) -- sends data to a socket (user-level)

    Description
    The sending half of Socket, kept for configurations written for older
    Clicks: each packet pulled from the input is sent to the remote end. It
    takes Socket's arguments and behaves as Socket does, except that its
    input is pull: it takes packets as fast as the socket sends them.
    Without an output and without CLIENT it is a client, connecting (or
    sending) to ADDR and PORT (or FILENAME). It warns, when configured,
    that it is deprecated in favour of Socket.

    Ports
    no input or one pull input (packets to send); no output or one push output (data received)

    Keyword arguments
    TYPE, ADDR, PORT, LOCAL_ADDR, LOCAL_PORT, FILENAME, LOCAL_FILENAME, CLIENT, SNAPLEN, HEADROOM, TIMESTAMP, NODELAY, SNDBUF, RCVBUF, ALLOW, DENY, VERBOSE, PROPER -- as Socket's

    Element handlers
    scheduled, tickets, home_thread -- as Socket's

    Example
    InfiniteSource(DATA "hello", LIMIT 3, STOP true) -> Queue -> ToSocket(UDP, 127.0.0.1, 5000);
    """

    processing = "l/h"
