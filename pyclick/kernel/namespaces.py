"""Which network namespace the calling thread is in, and its name.

Interface names and indexes are per network namespace, so what pyclick
records about an interface carries its namespace: the inode of
``/proc/.../ns/net``, stable while the namespace exists, and the name
``ip netns`` gave it, if any. The thread's own namespace counts, not the
process's: a thread may have entered another (pyroute2's ``pushns``).
"""

from __future__ import annotations

import os
import threading

#: Where ``ip netns`` keeps its named network namespaces.
NETNS_DIR = "/run/netns"


def _inode(path: str) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def netns_inode() -> int:
    """The inode of the calling thread's network namespace (0 if unknown)."""
    return (_inode(f"/proc/self/task/{threading.get_native_id()}/ns/net")
            or _inode("/proc/self/ns/net") or 0)


def init_netns_inode() -> int | None:
    """The inode of init's network namespace, None when this process may not see it."""
    return _inode("/proc/1/ns/net")


def netns_name(inode: int) -> str | None:
    """The name ``ip netns`` gives the namespace ``inode``, if any."""
    try:
        names = sorted(os.listdir(NETNS_DIR))
    except OSError:
        return None
    return next((name for name in names if _inode(os.path.join(NETNS_DIR, name)) == inode),
                None)
