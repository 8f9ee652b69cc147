"""Every element has a Click-style manual whose example is a whole
configuration, docs/elements.md says the same, and the plugin guide's
testing example runs."""

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pyclick import registry
from pyclick.docgen import element_reference
from pyclick.lang import flatten
from pyclick.router import Router

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "elements.md"
BUILTINS = sorted((c for c in registry.all_classes().values()
                   if c.__module__.startswith("pyclick.elements.")), key=lambda c: c.__name__)


def test_element_reference_is_in_sync():
    assert DOCS.read_text() == element_reference(), (
        "docs/elements.md is stale: python -m pyclick.docgen > docs/elements.md")


@pytest.mark.parametrize("cls", BUILTINS, ids=lambda c: c.__name__)
def test_manual_has_synopsis_and_description(cls):
    doc = inspect.cleandoc(cls.__doc__ or "")
    first = doc.splitlines()[0]
    assert first.startswith(cls.__name__) and " -- " in first, first
    assert "\nDescription\n" in "\n" + doc + "\n"


def _example(cls: type) -> str | None:
    """The configuration under the manual's Example(s) header, if it has one."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    header = next((h for h in ("Example", "Examples") if h in lines), None)
    return None if header is None else "\n".join(lines[lines.index(header) + 1:])


@pytest.mark.parametrize("cls", [c for c in BUILTINS if _example(c) is not None],
                         ids=lambda c: c.__name__)
def test_manual_example_connects_every_port(cls):
    # Users copy the examples: each must pass Click's hook-up checks as it stands.
    router = Router(flatten(_example(cls), filename=f"{cls.__name__}-example"))
    assert not router.warnings


def test_the_plugin_guide_testing_example_runs():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    section = guide[guide.index("## Testing an element"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "examples" / "clickpath"), str(ROOT)]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "'c :: Counter' output 0 unused" in done.stderr
