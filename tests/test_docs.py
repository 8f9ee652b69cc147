"""Every element has a Click-style manual, and docs/elements.md says the same."""

import inspect
from pathlib import Path

import pytest

from pyclick import registry
from pyclick.docgen import element_reference

DOCS = Path(__file__).resolve().parents[1] / "docs" / "elements.md"
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
