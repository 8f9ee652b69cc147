"""Programs kept in the cache directory: read back without lark, the same as parsed;
a changed text, a damaged entry, a shared directory or a mistake in the text means
parsing again; the cache stays within its bounds.

The texts here have a group (``a -> (y) -> c``) or a compound class: a text of
plain statements is read whole, neither parsed nor kept
(tests/test_lang_plainprogram.py)."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyclick.errors import ConfigError, Landmark
from pyclick.lang import chainline, flatten, parsecache, plainprogram, usercache
from pyclick.lang import parser as lang_parser
from pyclick.lang import syntax as s
from tests.cachehome import DAMAGES, calls, private_cache, shelf_entries

ROOT = Path(__file__).resolve().parent.parent
CORPUS = sorted((ROOT / "tests" / "corpus").glob("*.click"))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    return private_cache(tmp_path, monkeypatch)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The texts lark actually parses from now on, in order."""
    return calls(monkeypatch, lang_parser, "parse_text", 0)


def entries(cache: Path) -> list[str]:
    return shelf_entries(cache, "parse-")


def test_a_text_parsed_again_in_a_new_interpreter_is_read_without_lark(tmp_path):
    script = textwrap.dedent("""
        import sys
        from pyclick.lang import flatten
        # A line directive (naming the lines as they are) is read by the parser only.
        flat = flatten("# 1 \\"small.click\\"\\nsrc :: Idle -> q :: Queue(10)\\n"
                       " -> [1] sw :: Switch(1);\\nsw [1] -> Discard", "small.click")
        print("lark" in sys.modules, "regex" in sys.modules)
        print([(e.name, e.class_name, e.config, str(e.landmark)) for e in flat.elements])
        print([(c.from_element, c.from_port, c.to_port, c.to_element)
               for c in flat.connections])
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                           capture_output=True, check=True).stdout.splitlines()
            for _ in range(2)]
    first, second = runs
    assert first[0] == "True True"
    assert second[0] == "False False"
    assert first[1:] == second[1:] == [
        "[('src', 'Idle', '', 'small.click:1'), ('q', 'Queue', '10', 'small.click:1'), "
        "('sw', 'Switch', '1', 'small.click:2'), ('Discard@4', 'Discard', '', 'small.click:3')]",
        "[('src', 0, 0, 'q'), ('q', 0, 1, 'sw'), ('sw', 1, 0, 'Discard@4')]"]


def test_the_same_text_is_parsed_once(cache, parses):
    first, errors = parsecache.parse_text("a :: A(1) -> (y) -> c", "t.click")
    second, again = parsecache.parse_text("a :: A(1) -> (y) -> c", "t.click")
    assert errors == again == []
    assert second == first and second is not first
    assert parses == ["a :: A(1) -> (y) -> c"]
    assert len(entries(cache)) == 1


def test_a_changed_text_or_file_name_is_parsed_again(cache, parses):
    parsecache.parse_text("a :: A(1) -> (y) -> c", "t.click")
    changed, _ = parsecache.parse_text("a :: A(2) -> (y) -> c", "t.click")
    renamed, _ = parsecache.parse_text("a :: A(1) -> (y) -> c", "u.click")
    assert parses == ["a :: A(1) -> (y) -> c", "a :: A(2) -> (y) -> c",
                      "a :: A(1) -> (y) -> c"]
    assert changed.statements[0].segments[0][0].target.config == s.Config(
        "2", True, Landmark("t.click", 1))
    assert renamed.filename == "u.click"
    assert renamed.statements[0].landmark == Landmark("u.click", 1)
    assert len(entries(cache)) == 3


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_entry_is_parsed_again_and_written_again(cache, parses, damage):
    first, _ = parsecache.parse_text("x :: X -> (y) -> z", "t.click")
    (name,) = entries(cache)
    good = (cache / name).read_bytes()
    (cache / name).write_bytes(damage(good))
    second, errors = parsecache.parse_text("x :: X -> (y) -> z", "t.click")
    assert errors == [] and second == first
    assert parses == ["x :: X -> (y) -> z", "x :: X -> (y) -> z"]
    assert (cache / name).read_bytes() == good


def test_an_entry_holding_anything_but_a_program_is_refused(cache, parses, tmp_path):
    class Runs:
        def __reduce__(self):
            return os.mkdir, (str(tmp_path / "ran"),)

    class NotAStatement:
        def __reduce__(self):
            return chainline.read, ("-> ;", Landmark("t.click", 1))

    parsecache.parse_text("x :: X -> (y) -> z", "t.click")
    (name,) = entries(cache)
    for payload in (pickle.dumps(Runs()), pickle.dumps(Landmark("t.click", 1)),
                    pickle.dumps(s.Program("t.click", [NotAStatement()]))):
        (cache / name).write_bytes(usercache.seal(payload))
        program, _ = parsecache.parse_text("x :: X -> (y) -> z", "t.click")
        assert isinstance(program, s.Program)
        assert [type(statement) for statement in program.statements] == [s.Connection]
    assert not (tmp_path / "ran").exists()
    assert len(parses) == 4


def test_texts_with_mistakes_report_every_error_and_are_not_kept(cache, parses):
    text = "a :: ;\nb -> c;\nd :: :: e;\n"
    for _ in range(2):
        program, errors = parsecache.parse_text(text, "t.click")
        assert errors == ["t.click:1: syntax error near ';'", "t.click:3: syntax error near '::'"]
        assert [st.landmark.line for st in program.statements] == [1, 3]
    assert parses == [text, text]
    assert entries(cache) == []


def test_mistakes_found_after_parsing_are_reported_alike_from_the_cache(cache, parses):
    for _ in range(2):
        with pytest.raises(ConfigError) as failure:
            flatten("a :: A;\na :: B;\nc -> { input -> output } -> e", "t.click")
        assert failure.value.messages == ["t.click:2: redeclaration of element 'a'",
                                          "t.click:1: element 'a' previously declared here"]
    assert len(parses) == 1


def test_no_cache_in_a_directory_others_may_write_to(cache, parses):
    cache.mkdir()
    cache.chmod(0o777)
    for _ in range(2):
        assert parsecache.parse_text("a -> (y) -> c", "t.click")[1] == []
    assert len(parses) == 2
    assert entries(cache) == []


def test_no_cache_without_an_absolute_cache_home(monkeypatch, parses, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    for _ in range(2):
        assert parsecache.parse_text("a -> (y) -> c", "t.click")[1] == []
    assert len(parses) == 2
    assert not (tmp_path / "relative").exists()


def test_a_full_disk_loses_the_entry_quietly(cache, parses, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    program, errors = parsecache.parse_text("a -> (y) -> c", "t.click")
    assert errors == [] and [len(seg) for seg in program.statements[0].segments] == [1, 1, 1]
    assert entries(cache) == []


def keep(cache: Path, text: str, mtime: int) -> Path:
    """Parse ``text`` and date its entry ``mtime`` seconds after the epoch."""
    parsecache.parse_text(text, "t.click")
    path = Path(parsecache._entry(text, "t.click"))
    os.utime(path, (mtime, mtime))
    return path


def test_past_the_bound_the_entries_used_last_are_kept(cache, parses, monkeypatch):
    monkeypatch.setattr(parsecache, "SHELF",
                        parsecache.SHELF._replace(max_entries=4))
    a, b, c, d = (keep(cache, f"x -> (y) -> e{n}", 1000 + n) for n in range(4))
    assert entries(cache) == sorted(p.name for p in (a, b, c, d))
    parsecache.parse_text("x -> (y) -> e0", "t.click")  # read back: now the newest
    e = keep(cache, "x -> (y) -> e4", 2000)
    # Five entries: down to three, the ones used last.
    assert entries(cache) == sorted(p.name for p in (a, d, e))
    assert parses == [f"x -> (y) -> e{n}" for n in range(5)]
    parsecache.parse_text("x -> (y) -> e1", "t.click")  # removed: parsed again
    assert parses[-1] == "x -> (y) -> e1"


def test_the_entries_stay_within_the_byte_bound(cache, parses, monkeypatch):
    first = keep(cache, "x -> (y) -> e0", 1000)
    size = first.stat().st_size
    monkeypatch.setattr(parsecache, "SHELF",
                        parsecache.SHELF._replace(max_bytes=4 * size))
    later = [keep(cache, f"x -> (y) -> e{n}", 1000 + n) for n in range(1, 4)]
    # Four entries of a quarter of the bound each: down to three quarters, the newest.
    assert entries(cache) == sorted(p.name for p in later)
    assert {p.stat().st_size for p in later} == {size}


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_every_corpus_program_reads_back_as_parsed(cache, parses, path):
    text = path.read_text(encoding="utf-8")
    first, errors = parsecache.parse_text(text, path.name)
    second, again = parsecache.parse_text(text, path.name)
    assert second == first and again == errors
    # Read whole without lark, or parsed once and then read from the cache.
    whole = plainprogram.read_program(text, path.name) is not None
    assert len(parses) == (0 if whole else 2 if errors else 1)


def test_one_line_chains_are_kept_as_text_and_read_back_as_parsed(cache, parses):
    text = ("a :: A; b :: B -> c => d;\n"         # kept as text
            "e -> f\n -> g;\n"                    # over two lines
            "h [1] -> i; j :: J(1); k, l -> m;\n"  # ports, a configuration, a list: text
            "n :: { input -> output } -> o;\n"    # a compound class
            "# 40 \"other.click\"\n"
            "p -> q; r [0] -> t;\n")  # after a line directive: read word by word, then text
    first, errors = parsecache.parse_text(text, "t.click")
    assert errors == []
    kept = [statement.written is not None for statement in first.statements]
    assert kept == [True, True, False, True, True, True, False, False, True]
    second, _ = parsecache.parse_text(text, "t.click")
    assert second == first and len(parses) == 1
    chain = second.statements[1]
    assert [[item.target.word for item in segment] for segment in chain.segments] == [
        ["b"], ["c"], ["d"]]
    assert [item.target.declared for (item,) in chain.segments] == [
        s.ClassName("B", Landmark("t.click", 1)), None, None]
    assert [arrow.many for arrow in chain.arrows] == [False, True]
    assert second.statements[-1].landmark == Landmark("other.click", 40)


def test_writing_back_a_program_read_from_the_cache_loads_no_lark(tmp_path):
    script = textwrap.dedent("""
        import sys
        from pyclick.lang import flatten, unparse
        text = unparse(flatten("a :: Print(// x\\n) -> b :: Paint(1, \\"(\\") "
                               "-> c :: Idle((((1))))", "small.click"))
        print("lark" in sys.modules)
        print(repr(text))
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                           capture_output=True, check=True).stdout.splitlines()
            for _ in range(2)]
    assert [run[0] for run in runs] == ["True", "False"]
    # (Parentheses four deep are left to the grammar's pattern, read and written.)
    assert runs[0][1] == runs[1][1] == repr(
        'a :: Print(// x\n);\nb :: Paint(1, "(");\nc :: Idle((((1))));\n\na -> b\n    -> c;\n')


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_the_configuration_pattern_kept_is_lark_s_and_a_damaged_one_is_made_again(
        cache, damage, monkeypatch):
    from pyclick.lang import readback

    monkeypatch.setattr(readback, "_closed_config", readback._closed_config.__wrapped__)
    assert readback.config_reads_back("1, \"(\"") and not readback.config_reads_back("1) (2")
    (name,) = shelf_entries(cache, "terminal-")
    entry = cache / name
    kept = entry.read_bytes()
    assert kept == usercache.seal(pickle.dumps(lang_parser.config_pattern(),
                                               protocol=pickle.HIGHEST_PROTOCOL))
    entry.write_bytes(damage(kept))
    assert readback.config_reads_back("// x\n") and not readback.config_reads_back("// x")
    assert entry.read_bytes() == kept
