"""The figures of docs/ are drawn by scripts/figures.py from the code as it is now."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def figures_module():
    spec = importlib.util.spec_from_file_location("figures", ROOT / "scripts" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    # Registered first: its dataclasses look their module up while it loads.
    sys.modules.setdefault("figures", module)
    spec.loader.exec_module(sys.modules["figures"])
    return sys.modules["figures"]


def test_every_figure_in_docs_is_drawn_by_the_script():
    figures = figures_module()
    drawn = {f.name for f in figures.FIGURES}
    assert {p.name for p in (ROOT / "docs").glob("*.png")} == drawn
    assert set(figures.read_manifest()) == drawn


def test_no_figure_is_older_than_the_code_that_draws_it():
    figures = figures_module()
    assert figures.stale(figures.read_manifest()) == [], \
        "a figure of docs/ is stale: run .venv/bin/python scripts/figures.py"


def test_a_changed_input_or_image_makes_a_figure_stale(tmp_path, monkeypatch):
    figures = figures_module()
    inputs = tmp_path / "in.txt"
    inputs.write_text("one")
    image = tmp_path / "docs" / "f.png"
    image.parent.mkdir()
    image.write_bytes(b"png")
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "DOCS", tmp_path / "docs")
    monkeypatch.setattr(figures, "FIGURES", (figures.Figure("f.png", "", 1, "", ("in.txt",)),))
    (figure,) = figures.FIGURES
    manifest = {"f.png": {"inputs": figures.inputs_digest(figure),
                          "image": figures.image_digest(figure)}}
    assert figures.stale(manifest) == []
    inputs.write_text("two")
    assert figures.stale(manifest) == ["f.png"]
    inputs.write_text("one")
    image.write_bytes(b"another png")
    assert figures.stale(manifest) == ["f.png"]
    assert figures.stale({}) == ["f.png"]
