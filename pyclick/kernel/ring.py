"""Frames in and out of an interface through AF_PACKET: a memory-mapped
TPACKET_V3 receive ring, and a plain ``send`` for transmission.

The receive ring is a set of blocks shared with the kernel. The kernel
fills a block with frames and hands it over (its status turns to
``TP_STATUS_USER``) when it is full or when ``retire_ms`` pass after the
block's first frame; :meth:`ReceiveRing.receive` copies the frames out
and hands the block back. No system call is made per frame: a burst costs
one ``poll`` at most.

Nothing on the interface changes: with ``promisc`` the socket joins
the interface's promiscuous membership (``PACKET_ADD_MEMBERSHIP``), which
the kernel drops with the socket, so a crash cannot leave the interface
promiscuous.
"""

from __future__ import annotations

import errno
import mmap
import select
import socket
import struct
from dataclasses import dataclass

from pyclick.kernel.netdev import InterfaceMissing, PermissionDenied, encode_ifname

# include/uapi/linux/if_ether.h and include/uapi/linux/if_packet.h
ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
PACKET_MR_PROMISC = 1
TPACKET_V3 = 2
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1

# struct tpacket_block_desc: version, offset_to_priv, then tpacket_hdr_v1
# (block_status, num_pkts, offset_to_first_pkt, ...).
_BLOCK_STATUS = 8
_BLOCK_HEAD = struct.Struct("=III")
# struct tpacket3_hdr: next_offset, sec, nsec, snaplen, len, status, mac, net,
# then hv1 (rxhash, vlan_tci, ...); struct sockaddr_ll follows at
# TPACKET_ALIGN(sizeof(tpacket3_hdr)) = 48, its protocol (network order) 2
# bytes in, its pkttype 10 bytes in.
_FRAME_HEAD = struct.Struct("=IIIIIIHHI")
_PROTOCOL_AT = 48 + 2
_PKTTYPE_AT = 48 + 10
# struct tpacket_req3 and struct tpacket_stats_v3.
_REQ3 = struct.Struct("=IIIIIII")
_STATS_V3 = struct.Struct("=III")
# struct packet_mreq: ifindex, type, alen, address[8].
_MREQ = struct.Struct("=iHH8s")

#: Default ring: 64 blocks of 64 KiB, 4 MiB in all.
DEFAULT_BLOCK_SIZE = 1 << 16
DEFAULT_BLOCKS = 64
#: Frame slot size the kernel checks the request against (V3 packs frames
#: of any size into a block; this only bounds the request's arithmetic).
_FRAME_SLOT = 2048
#: A block with frames in it is handed over at most this long after its first frame.
DEFAULT_RETIRE_MS = 2


@dataclass(frozen=True)
class Frame:
    """A received frame: its bytes (up to the snap length), its length on the
    wire, its arrival time (seconds since the epoch), the kernel's RX hash,
    its packet type and its link-level protocol (the EtherType the kernel
    read, VLAN tags it removed skipped)."""

    data: bytes
    wire_length: int
    timestamp: float
    rx_hash: int
    packet_type: int
    protocol: int = 0


def _open(ifname: str, what: str) -> socket.socket:
    encode_ifname(ifname)
    try:
        return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    except PermissionError as err:
        raise PermissionDenied(ifname, what, "CAP_NET_RAW") from err


def _bind(sock: socket.socket, ifname: str) -> None:
    try:
        sock.bind((ifname, ETH_P_ALL))
    except OSError as err:
        sock.close()
        if err.errno == errno.ENODEV:
            raise InterfaceMissing(ifname) from err
        raise


class ReceiveRing:
    """A TPACKET_V3 receive ring on one interface.

    ``outbound`` also delivers the frames this host sends on the
    interface (Click's OUTBOUND); ``promisc`` receives frames for other
    hosts for as long as the ring is open.
    """

    def __init__(self, ifname: str, *, outbound: bool = False, promisc: bool = False,
                 block_size: int = DEFAULT_BLOCK_SIZE, blocks: int = DEFAULT_BLOCKS,
                 retire_ms: int = DEFAULT_RETIRE_MS) -> None:
        if block_size % mmap.PAGESIZE or block_size < _FRAME_SLOT:
            raise ValueError(f"block size {block_size} is not a multiple of the page size")
        if blocks < 1:
            raise ValueError("a ring needs at least one block")
        self.ifname = ifname
        self.block_size = block_size
        self.blocks = blocks
        self._sock = _open(ifname, "receive the frames")
        self._ring: mmap.mmap | None = None
        try:
            self._sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
            if not outbound:
                self._sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            frames = block_size // _FRAME_SLOT * blocks
            self._sock.setsockopt(SOL_PACKET, PACKET_RX_RING, _REQ3.pack(
                block_size, blocks, _FRAME_SLOT, frames, retire_ms, 0, 0))
            self._ring = mmap.mmap(self._sock.fileno(), block_size * blocks, mmap.MAP_SHARED,
                                   mmap.PROT_READ | mmap.PROT_WRITE)
            _bind(self._sock, ifname)
            if promisc:
                ifindex = socket.if_nametoindex(ifname)
                self._sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                                      _MREQ.pack(ifindex, PACKET_MR_PROMISC, 0, b""))
        except BaseException:
            self.close()
            raise
        self._block = 0
        #: Frames of the current block not yet taken: (offset of the next frame, frames left).
        self._cursor: tuple[int, int] | None = None

    def fileno(self) -> int:
        return self._sock.fileno()

    def receive(self, limit: int) -> list[Frame]:
        """Up to ``limit`` frames the kernel handed over; never blocks."""
        ring = self._ring
        assert ring is not None, "ring closed"
        frames: list[Frame] = []
        while len(frames) < limit:
            if self._cursor is None:
                base = self._block * self.block_size
                status, count, first = _BLOCK_HEAD.unpack_from(ring, base + _BLOCK_STATUS)
                if not status & TP_STATUS_USER:
                    break
                self._cursor = (base + first, count)
            offset, left = self._cursor
            while left and len(frames) < limit:
                (next_offset, sec, nsec, snaplen, length, _status, mac, _net,
                 rx_hash) = _FRAME_HEAD.unpack_from(ring, offset)
                start = offset + mac
                frames.append(Frame(ring[start:start + snaplen], length, sec + nsec * 1e-9,
                                    rx_hash, ring[offset + _PKTTYPE_AT],
                                    int.from_bytes(ring[offset + _PROTOCOL_AT:
                                                        offset + _PROTOCOL_AT + 2], "big")))
                offset += next_offset
                left -= 1
            if left:
                self._cursor = (offset, left)
            else:
                self._release_block()
        return frames

    def _release_block(self) -> None:
        assert self._ring is not None
        struct.pack_into("=I", self._ring, self._block * self.block_size + _BLOCK_STATUS,
                         TP_STATUS_KERNEL)
        self._block = (self._block + 1) % self.blocks
        self._cursor = None

    def wait(self, timeout: float) -> bool:
        """Block until a block is handed over (True) or ``timeout`` seconds pass."""
        if self._cursor is not None:
            return True
        poller = select.poll()
        poller.register(self._sock, select.POLLIN | select.POLLERR)
        return bool(poller.poll(max(0, int(timeout * 1000))))

    def statistics(self) -> tuple[int, int]:
        """(frames received, frames dropped for want of room) since the last call."""
        raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, _STATS_V3.size)
        packets, drops, _freezes = _STATS_V3.unpack(raw)
        return packets, drops

    def close(self) -> None:
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        self._sock.close()


class SendSocket:
    """Frames out of one interface through a non-blocking AF_PACKET socket.

    :meth:`send` returns False when the interface's queue is full (the
    caller keeps the frame and tries again once :meth:`wait_writable` says
    so); other errors raise OSError.
    """

    def __init__(self, ifname: str) -> None:
        self.ifname = ifname
        self._sock = _open(ifname, "send frames")
        _bind(self._sock, ifname)
        self._sock.setblocking(False)

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, frame: bytes) -> bool:
        try:
            self._sock.send(frame)
        except BlockingIOError:
            return False
        except OSError as err:
            if err.errno == errno.ENOBUFS:
                return False
            raise
        return True

    def wait_writable(self, timeout: float) -> bool:
        _, writable, _ = select.select([], [self._sock], [], timeout)
        return bool(writable)

    def close(self) -> None:
        self._sock.close()
