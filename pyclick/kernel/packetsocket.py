"""The frames an interface receives, read in user space through AF_PACKET.

The socket sees a copy of every frame the interface receives (not the ones
it sends); the kernel still delivers the originals to its own stack, as
Click's FromDevice does in sniffer mode.
"""

from __future__ import annotations

import errno
import select
import socket

from pyclick.kernel.netdev import InterfaceMissing, PermissionDenied, encode_ifname

# include/uapi/linux/if_ether.h and include/uapi/linux/if_packet.h
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23
#: Large enough for the biggest frame GRO can hand up.
MAX_FRAME = 65535


class PacketSocket:
    """A non-blocking AF_PACKET socket bound to one interface."""

    def __init__(self, ifname: str, snaplen: int = MAX_FRAME):
        encode_ifname(ifname)
        self.ifname = ifname
        self.snaplen = snaplen
        try:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                       socket.htons(ETH_P_ALL))
        except PermissionError as err:
            raise PermissionDenied(ifname, "receive the frames", "CAP_NET_RAW") from err
        try:
            self._sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            self._sock.bind((ifname, ETH_P_ALL))
        except OSError as err:
            self._sock.close()
            if err.errno == errno.ENODEV:
                raise InterfaceMissing(ifname) from err
            raise
        self._sock.setblocking(False)

    def fileno(self) -> int:
        return self._sock.fileno()

    def receive(self, limit: int) -> list[bytes]:
        """Up to ``limit`` frames already waiting; never blocks."""
        frames: list[bytes] = []
        while len(frames) < limit:
            try:
                frames.append(self._sock.recv(self.snaplen))
            except BlockingIOError:
                break
        return frames

    def wait(self, timeout: float) -> bool:
        """Block until a frame is waiting (True) or ``timeout`` seconds pass (False)."""
        readable, _, _ = select.select([self._sock], [], [], timeout)
        return bool(readable)

    def close(self) -> None:
        self._sock.close()
