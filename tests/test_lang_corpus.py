"""The Click corpus (tests/corpus/): reference graphs and reference error lines.

Every valid ``NN-*.click`` must flatten to the graph the original Click's
flattener gives (``expected/NN-*.json``, configs normalised by the
corpus's ``click_canon.py``), both directly and through ``unparse``; the
flat text must read back to the same graph. Every ``bad-*.click`` must fail
with a first message at the reference's ``FILE:LINE``. An empty or
incomplete corpus fails ``test_corpus_is_complete`` rather than leaving the
other tests without cases.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from pyclick.errors import ConfigError
from pyclick.lang import flatten, unparse
from pyclick.lang.model import FlatConfig

CORPUS = Path(__file__).resolve().parent / "corpus"
VALID = sorted(CORPUS.glob("[0-9]*.click"))
BAD = sorted(CORPUS.glob("bad-*.click"))
LANDMARK = re.compile(r"^(.*):(\d+): ")


@pytest.fixture(scope="module")
def canon() -> ModuleType:
    spec = importlib.util.spec_from_file_location("click_canon", CORPUS / "click_canon.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_form(flat: FlatConfig, canon: ModuleType) -> dict:
    """``flat`` in the corpus's JSON form: sorted, configs normalised, repeats dropped."""
    connections = {(c.from_element, c.from_port, c.to_element, c.to_port) for c in flat.connections}
    return {
        "elements": sorted([e.name, e.class_name, canon.normalize_config(e.config)]
                           for e in flat.elements),
        "connections": sorted(list(c) for c in connections),
    }


def expected_graph(path: Path) -> dict:
    return json.loads((CORPUS / "expected" / f"{path.stem}.json").read_text())


def test_corpus_is_complete():
    assert CORPUS.is_dir(), f"the Click corpus is missing: {CORPUS}"
    assert (CORPUS / "click_canon.py").is_file()
    assert len(VALID) >= 20 and len(BAD) >= 10, (len(VALID), len(BAD))
    # Every case has its reference answer, and every answer its case.
    cases = {f"{p.stem}.json" for p in VALID} | {f"{p.stem}.err" for p in BAD}
    answers = {p.name for p in (CORPUS / "expected").iterdir()}
    assert cases == answers, (sorted(cases - answers), sorted(answers - cases))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_file_flattens_to_reference_graph(path, canon):
    flat = flatten(path.read_text(), str(path))
    assert reference_form(flat, canon) == expected_graph(path)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_unparsed_text_canonicalises_to_reference_graph(path, canon):
    flat = flatten(path.read_text(), str(path))
    assert canon.canon(unparse(flat)) == expected_graph(path)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_unparsed_text_reads_back_to_same_graph(path):
    flat = flatten(path.read_text(), str(path))
    again = flatten(unparse(flat), "flat.click")
    assert [(e.name, e.class_name, e.config) for e in again.elements] == \
        [(e.name, e.class_name, e.config) for e in flat.elements]
    assert again.connections == flat.connections
    assert again.requirements == flat.requirements


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_file_fails_at_reference_line(path):
    expected = (CORPUS / "expected" / f"{path.stem}.err").read_text()
    expected_file, expected_line = LANDMARK.match(expected).groups()
    with pytest.raises(ConfigError) as failure:
        flatten(path.read_text(), str(path))
    messages = failure.value.messages
    assert all(LANDMARK.match(m) for m in messages), messages
    file, line = LANDMARK.match(messages[0]).groups()
    assert (Path(file).name, line) == (expected_file, expected_line), messages
