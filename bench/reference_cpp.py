"""The reference RSS++ decision in C++, built from a checkout of rsspp/fastclick.

``bench/cpp/rsspp_reference.cc`` compiles the reference's own method
(``vendor/nicscheduler/methods/rsspp.cc``, unchanged) into a small program
that decides tick by tick from recorded per-core loads and per-bucket
counts. The checkout must be configured for user level without DPDK, which
also writes the ``click/config.h`` the method includes::

    git clone https://github.com/rsspp/fastclick && cd fastclick
    ./configure --enable-userlevel --disable-linuxmodule --disable-dpdk
    apt install g++ libnuma-dev

The program runs in two modes: ``replay`` times every decision over a
recording, ``step`` answers each tick with the table it leaves, so that the
simulator's traffic can be recorded with the reference deciding.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

HARNESS = Path(__file__).resolve().parent / "cpp"
SOURCE = HARNESS / "rsspp_reference.cc"
#: Declarations that stand in for DPDK's headers, which the method's headers include.
WITHOUT_DPDK = HARNESS / "without-dpdk"


def build(checkout: Path, into: Path) -> Path:
    """Compile the harness against ``checkout`` into directory ``into``; SystemExit
    with what is missing when the checkout is not a configured rsspp/fastclick."""
    method = checkout / "vendor" / "nicscheduler" / "methods" / "rsspp.cc"
    config = checkout / "include" / "click" / "config.h"
    if not method.is_file():
        raise SystemExit(f"{checkout}: no vendor/nicscheduler/methods/rsspp.cc "
                         "(not a checkout of rsspp/fastclick)")
    if not config.is_file():
        raise SystemExit(f"{checkout}: no include/click/config.h; run ./configure "
                         "--enable-userlevel --disable-linuxmodule --disable-dpdk there first")
    binary = into / "rsspp_reference"
    command = ["g++", *optimisation(checkout), "-std=gnu++14", "-DCLICK_USERLEVEL",
               f"-I{WITHOUT_DPDK}",
               f"-I{checkout / 'include'}", f"-I{checkout}", "-o", str(binary), str(SOURCE),
               "-lnuma"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit("building the C++ reference failed:\n" + " ".join(command) + "\n"
                         + done.stderr[-4000:])
    return binary


def optimisation(checkout: Path) -> list[str]:
    """The optimisation and target flags FastClick's configure chose for user level
    (``-O2`` when the checkout's Makefile does not say)."""
    makefile = checkout / "userlevel" / "Makefile"
    if makefile.is_file():
        for line in makefile.read_text().splitlines():
            if line.startswith("CXXFLAGS ="):
                return [flag for flag in line.split("=", 1)[1].split()
                        if flag.startswith(("-O", "-m", "-f"))]
    return ["-O2"]


def _parameters(target_load: float, imbalance_alpha: float, threshold: float) -> list[str]:
    return [repr(target_load), repr(imbalance_alpha), repr(threshold)]


def _tick(loads: np.ndarray, counts: np.ndarray) -> bytes:
    return (np.ascontiguousarray(loads, dtype=np.float64).tobytes()
            + np.ascontiguousarray(counts, dtype=np.uint64).tobytes())


def replay(binary: Path, table: np.ndarray, inputs: list[tuple[np.ndarray, np.ndarray]],
           replays: int, target_load: float, imbalance_alpha: float, threshold: float
           ) -> tuple[np.ndarray, list[int]]:
    """Microseconds of each decision (replays x ticks), starting from ``table``, and
    the buckets each tick moved."""
    cores = len(inputs[0][0])
    blob = [np.array([len(table), cores, len(inputs), replays], dtype=np.int32).tobytes(),
            np.asarray(table, dtype=np.int32).tobytes()]
    blob += [_tick(loads, counts) for loads, counts in inputs]
    done = subprocess.run([str(binary), "replay",
                           *_parameters(target_load, imbalance_alpha, threshold)],
                          input=b"".join(blob), stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL)
    if done.returncode:
        raise SystemExit(f"the C++ reference ended with status {done.returncode}")
    lines = done.stdout.decode().splitlines()
    spent = np.array([[int(word) for word in line.split()] for line in lines[:replays]])
    return spent / 1000.0, [int(word) for word in lines[replays].split()]


class Stepper:
    """The reference deciding tick by tick in a child process, with a controller's
    surface as ``bench_decision.record`` uses it (``table``, ``active``, ``step``)."""

    def __init__(self, binary: Path, table: np.ndarray, cores: int, target_load: float,
                 imbalance_alpha: float, threshold: float) -> None:
        self.table = np.asarray(table, dtype=np.int32).copy()
        self.active = list(range(cores))
        # Its messages (one line per solve) are part of what it does, not of the result.
        self._child = subprocess.Popen(
            [str(binary), "step", *_parameters(target_load, imbalance_alpha, threshold)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._send(np.array([len(table), cores], dtype=np.int32).tobytes()
                   + self.table.tobytes())

    def _send(self, data: bytes) -> None:
        self._child.stdin.write(data)
        self._child.stdin.flush()

    def step(self, loads: np.ndarray, counts: np.ndarray, elapsed: float) -> Stepper:
        """Decide one tick; the table it leaves is ``self.table`` (``elapsed`` is not
        read: the reference decides from the tick's counts alone)."""
        self._send(_tick(loads, counts))
        size = self.table.nbytes
        answer = self._child.stdout.read(size)
        if len(answer) != size:
            raise RuntimeError("the C++ reference stopped answering")
        self.table = np.frombuffer(answer, dtype=np.int32).copy()
        return self

    def close(self) -> None:
        self._child.stdin.close()
        self._child.wait()

    def __enter__(self) -> Stepper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
