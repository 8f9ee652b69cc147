"""The machine's CPU topology as Linux shows it under /sys.

``/sys/devices/system/cpu/cpuN/`` holds a ``nodeM`` link naming the NUMA
node of CPU N on kernels built with NUMA support; without it, every CPU is
on node 0.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Sequence

CPU_DIR = Path("/sys/devices/system/cpu")
_NODE = re.compile(r"node(\d+)$")


def cpu_node(cpu: int, root: str | os.PathLike[str] = CPU_DIR) -> int:
    """NUMA node of ``cpu``; 0 when the system does not say."""
    try:
        entries = os.listdir(Path(root) / f"cpu{cpu}")
    except OSError:
        return 0
    for entry in sorted(entries):
        match = _NODE.match(entry)
        if match:
            return int(match.group(1))
    return 0


def cpu_nodes(cpus: Sequence[int], root: str | os.PathLike[str] = CPU_DIR) -> list[int]:
    """NUMA node of each of ``cpus``, in order."""
    return [cpu_node(cpu, root) for cpu in cpus]
