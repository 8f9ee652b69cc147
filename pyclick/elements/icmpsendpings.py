"""ICMPSendPings: ICMPPingSource under its old name."""

from __future__ import annotations

from pyclick.elements.icmpping import ICMPPingSource


class ICMPSendPings(ICMPPingSource):
    """ICMPSendPings(SRC, DST, KEYWORDS) -- periodically sends ICMP echo requests

    Description
    The old name of ICMPPingSource: the same element, with the same
    arguments, ports and handlers (see ICMPPingSource), so that
    configurations naming it run unchanged. Its class handler says
    ICMPSendPings, where Click's, whose elements of this name are
    ICMPPingSource elements, says ICMPPingSource.

    Ports
    optional push input (echo replies); one agnostic output

    Keyword arguments
    SRC, DST, INTERVAL, IDENTIFIER, DATA, LIMIT, ACTIVE, STOP, MIRROR, VERBOSE -- as ICMPPingSource's

    Element handlers
    count, active, src, dst, limit, interval, reset_counts, summary, rtt_min, rtt_avg, rtt_max -- as ICMPPingSource's

    Example
    ping :: ICMPSendPings(10.0.0.1, 10.0.0.2, INTERVAL 10ms, LIMIT 3)
        -> ICMPPingResponder -> ping;
    """
