"""Every one-liner the README's element families show runs and exits 0."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def family_oneliners() -> list[str]:
    """The `pyclick -e '...'` commands of the Elements section, one line each."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\nElements\n--------\n", 1)[1].split("\n---", 1)[0]
    commands = re.findall(r"`(pyclick -e '.*?'[^`]*)`", " ".join(section.split()), re.S)
    # Device one-liners need root and a real interface; the kernel tests cover those.
    return [c for c in commands if "Device(" not in c]


ONELINERS = family_oneliners()


def test_the_readme_shows_a_oneliner_per_family():
    assert len(ONELINERS) >= 9


@pytest.mark.parametrize("command", ONELINERS)
def test_readme_oneliner_runs(command):
    argv = [sys.executable, "-m", "pyclick", *shlex.split(command)[1:]]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
