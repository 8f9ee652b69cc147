#!/usr/bin/env python3
"""Draws every figure of docs/ and records what each was drawn from.

    .venv/bin/python scripts/figures.py           draw them all
    .venv/bin/python scripts/figures.py --check   say which are stale, exit 1 if any

Each figure is drawn from a run of the simulator. Beside the figures,
``docs/figures.json`` keeps, per figure, a digest of the files its picture
depends on (the configuration, the simulator, the balancer, the recording
and plotting code, this script) and a digest of the image. A figure is
stale when either no longer matches: the code changed since it was drawn,
or the image was replaced by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MANIFEST = DOCS / "figures.json"


@dataclass(frozen=True)
class Figure:
    """docs/``name``: ``seconds`` simulated seconds of ``config``, drawn at ``size``."""

    name: str
    config: str
    seconds: int
    size: str
    #: Files (globs under the repository) whose change changes the picture.
    inputs: tuple[str, ...]

    def draw(self, python: str) -> None:
        with tempfile.TemporaryDirectory() as work:
            record = Path(work) / "run.rec"
            text = (ROOT / self.config).read_text()
            text, found = re.subn(r"AUTOSCALE (\w+)\)", rf"AUTOSCALE \1, RECORD {record})", text)
            text = re.sub(r"DURATION \d+", f"DURATION {self.seconds}", text)
            if found != 1:
                raise SystemExit(f"{self.config}: no DeviceBalancer(..., AUTOSCALE ...) to record")
            config = Path(work) / "run.click"
            config.write_text(text)
            subprocess.run([python, "-m", "pyclick", str(config)], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            subprocess.run([python, "-m", "pyclick.plot", str(record), "-o",
                            str(DOCS / self.name), "--size", self.size], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)


DRAWING = ("scripts/figures.py", "pyclick/plot.py", "pyclick/record.py", "pyclick/recordcodec.py")
#: What runs the simulation: the model, the balancer, the elements of the
#: configuration and the simulated time that orders their timers and tasks.
SIMULATION = ("pyclick/sim/*.py", "pyclick/balance/*.py", "pyclick/rss/*.py",
              "pyclick/elements/simnic.py", "pyclick/elements/devicebalancer.py",
              "pyclick/elements/discard.py", "pyclick/elements/staticthreadsched.py",
              "pyclick/runtime/*.py", "pyclick/router.py", "pyclick/element.py")

FIGURES = (
    Figure("rsspp-sim.png", "conf/rsspp-sim.click", 20, "1200x800",
           ("conf/rsspp-sim.click",) + DRAWING + SIMULATION),
)


def digest(paths: list[Path]) -> str:
    """A digest of the files' names (relative to the repository) and contents."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def inputs_digest(figure: Figure) -> str:
    return digest([p for pattern in figure.inputs for p in ROOT.glob(pattern) if p.is_file()])


def image_digest(figure: Figure) -> str | None:
    path = DOCS / figure.name
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def stale(manifest: dict) -> list[str]:
    """The figures whose inputs or image differ from what ``manifest`` recorded."""
    return [f.name for f in FIGURES
            if manifest.get(f.name) != {"inputs": inputs_digest(f), "image": image_digest(f)}]


def read_manifest() -> dict:
    return json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw the figures of docs/.")
    parser.add_argument("--check", action="store_true", help="only say which figures are stale")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs pyclick")
    opts = parser.parse_args(argv)
    manifest = read_manifest()
    if opts.check:
        old = stale(manifest)
        for name in old:
            print(f"docs/{name} is stale: run scripts/figures.py")
        return 1 if old else 0
    for figure in FIGURES:
        before = inputs_digest(figure)
        figure.draw(opts.python)
        if inputs_digest(figure) != before:
            raise SystemExit(f"the inputs of docs/{figure.name} changed while it was drawn")
        manifest[figure.name] = {"inputs": before, "image": image_digest(figure)}
        print(f"docs/{figure.name}")
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
