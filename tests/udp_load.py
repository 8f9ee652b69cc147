"""UDP traffic for the end-to-end test: a paced sender and a per-CPU sink.

Run inside a namespace (``ip netns exec NS python tests/udp_load.py ...``):

``send SRC DST DPORT --flows SPORT:WEIGHT ... --packets N --seconds S --rate PPS``
    sends N packets (at most S seconds) from one socket per source port,
    flows taking turns in proportion to their weights, at about PPS
    packets per second; prints {"sport": packets sent, ...} as JSON.

``sink ADDR PORT --cpus C ... --work-us W``
    one process per CPU, pinned to it, each with a socket of one
    SO_REUSEPORT group whose SO_INCOMING_CPU is that CPU, so the kernel
    hands every datagram to the socket of the CPU that processed it; each
    datagram costs W microseconds of work, as a socket application's
    request would. Prints "ready" once every socket is bound; once its
    standard input closes (the caller knows every datagram was delivered:
    the kernel may hold them a while on a busy CPU) and the sockets are
    empty, prints {"cpu": datagrams, ...} as JSON.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import sys
import time

SO_INCOMING_CPU = getattr(socket, "SO_INCOMING_CPU", 49)
PAYLOAD = bytes(64)
#: Once told to stop, a sink worker stops when no datagram came for this long.
EMPTY_SECONDS = 0.1


def weighted_schedule(weights: list[int]) -> list[int]:
    """Flow indices, each appearing ``weight`` times, interleaved evenly."""
    total = sum(weights)
    slots = sorted(((k + 0.5) / w, i) for i, w in enumerate(weights) for k in range(w))
    return [i for _, i in slots][:total]


def send(opts: argparse.Namespace) -> dict[str, int]:
    flows = [tuple(int(v) for v in f.split(":")) for f in opts.flows]
    sockets = []
    for sport, _ in flows:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((opts.src, sport))
        sockets.append(sock)
    schedule = weighted_schedule([w for _, w in flows])
    sent = [0] * len(flows)
    began = time.monotonic()
    deadline = began + opts.seconds
    for n in range(opts.packets):
        now = time.monotonic()
        if now >= deadline:
            break
        # Pace to the rate: sleep when ahead of schedule.
        ahead = began + n / opts.rate - now
        if ahead > 0:
            time.sleep(ahead)
        index = schedule[n % len(schedule)]
        sockets[index].sendto(PAYLOAD, (opts.dst, opts.dport))
        sent[index] += 1
    return {str(sport): count for (sport, _), count in zip(flows, sent)}


def _sink_worker(cpu: int, opts: argparse.Namespace, ready, stop, results) -> None:
    os.sched_setaffinity(0, {cpu})
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.SOL_SOCKET, SO_INCOMING_CPU, cpu)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    sock.bind((opts.addr, opts.port))
    sock.settimeout(EMPTY_SECONDS)
    ready.put(cpu)
    received = 0
    work = opts.work_us * 1e-6
    while True:
        try:
            sock.recv(2048)
        except socket.timeout:
            if stop.is_set():
                break
            continue
        received += 1
        busy_until = time.perf_counter() + work
        while time.perf_counter() < busy_until:
            pass
    results.put((cpu, received))


def sink(opts: argparse.Namespace) -> dict[str, int]:
    ready: multiprocessing.Queue = multiprocessing.Queue()
    results: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    workers = []
    for cpu in opts.cpus:
        worker = multiprocessing.Process(target=_sink_worker,
                                         args=(cpu, opts, ready, stop, results))
        worker.start()
        # One at a time, so that the group's sockets are ordered like the CPUs.
        ready.get(timeout=10)
        workers.append(worker)
    print("ready", flush=True)
    sys.stdin.read()
    stop.set()
    counts = dict(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join()
    return {str(cpu): counts[cpu] for cpu in opts.cpus}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    sender = commands.add_parser("send")
    sender.add_argument("src")
    sender.add_argument("dst")
    sender.add_argument("dport", type=int)
    sender.add_argument("--flows", nargs="+", required=True)
    sender.add_argument("--packets", type=int, required=True)
    sender.add_argument("--seconds", type=float, required=True)
    sender.add_argument("--rate", type=float, required=True)
    receiver = commands.add_parser("sink")
    receiver.add_argument("addr")
    receiver.add_argument("port", type=int)
    receiver.add_argument("--cpus", type=int, nargs="+", required=True)
    receiver.add_argument("--work-us", type=float, default=0.0)
    opts = parser.parse_args(argv)
    result = send(opts) if opts.command == "send" else sink(opts)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
