"""The state record: what one pyclick changed on one interface, and what was there before.

pyclick writes the record before each change it makes to an interface and
updates it after each undo, so that at any moment, a SIGKILL included, the
file says what is left to put back. It is JSON, one file per interface
(``/run/pyclick/IFNAME.json``, see :mod:`pyclick.kernel.ownership`)::

    {
      "format": 1,
      "interface": "eth0",          "ifindex": 2,
      "netns": 4026531840,          # inode of the network namespace
      "pid": 4242,                  "started": 1767225600.5,
      "command": ["pyclick", "conf/rsspp.click"],
      "rss_table": [0, 1, 2, 3, ...],   # the NIC's table found at start, or null
      "xdp": [                          # programs attached, oldest first
        {"owner": "fd", "prog_id": 57, "mode": "native",
         "programs": [58],              # other programs it brings (CPUMAP entries)
         "map_ids": [101, 102, 103, 104, 105],
         "cpumap": {"map_id": 104, "cpus": [0, 1]},   # or null
         "previous": {"prog_id": 0, "mode": null, "pin": null}}
      ],
      "pins": [],                       # directories of pins being loaded
      "created": false,                 # pyclick created the interface (a dummy)
      "ingress_drop": false             # pyclick's clsact qdisc dropping what arrives
    }

``previous`` is the program that was attached before pyclick's (id 0 and
mode null: none); ``pin`` is where pyclick pinned it so that it survives
pyclick's death. ``prog_id`` and ``map_ids`` name kernel objects, whose ids
the kernel never hands out again while they exist. ``created`` says that
pyclick created the interface itself (ToHostSniffers' dummy): putting it
back means deleting it, if it still has the recorded index.
``ingress_drop`` says that pyclick added a clsact qdisc whose ingress
filter keeps received frames from the network stack (FromDevice's SNIFFER
false, :mod:`pyclick.kernel.ingressfilter`); putting it back means
removing them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

FORMAT = 1


class RecordError(ValueError):
    """A state record that cannot be read; the message names the file."""


@dataclass
class PreviousXdp:
    """The XDP program an interface carried before pyclick attached its own."""

    prog_id: int = 0
    mode: str | None = None
    pin: str | None = None


@dataclass
class InstalledXdp:
    """An XDP program pyclick attached, with what it brings along."""

    owner: str
    prog_id: int
    mode: str
    map_ids: list[int] = field(default_factory=list)
    programs: list[int] = field(default_factory=list)
    cpumap: dict[str, Any] | None = None
    previous: PreviousXdp = field(default_factory=PreviousXdp)

    def program_ids(self) -> list[int]:
        return [self.prog_id, *self.programs]


@dataclass
class StateRecord:
    """The whole record of one interface (see the module docstring)."""

    interface: str
    ifindex: int
    netns: int
    pid: int
    started: float
    command: list[str]
    rss_table: list[int] | None = None
    xdp: list[InstalledXdp] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    created: bool = False
    ingress_drop: bool = False

    def empty(self) -> bool:
        """Whether nothing is left to put back."""
        return (self.rss_table is None and not self.xdp and not self.pins and not self.created
                and not self.ingress_drop)

    def program_ids(self) -> set[int]:
        return {prog for entry in self.xdp for prog in entry.program_ids()}

    def map_ids(self) -> set[int]:
        return {map_id for entry in self.xdp for map_id in entry.map_ids}

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> "StateRecord":
        try:
            data = json.loads(text)
            if data.pop("format") != FORMAT:
                raise RecordError(f"{where}: unknown state record format")
            xdp = [InstalledXdp(**{**entry, "previous": PreviousXdp(**entry["previous"])})
                   for entry in data.pop("xdp")]
            return cls(**data, xdp=xdp)
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            if isinstance(err, RecordError):
                raise
            raise RecordError(f"{where}: not a pyclick state record ({err})") from None
