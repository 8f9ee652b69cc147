"""Patterns kept in the cache directory: read back without lark, meaning the same as
parsed; a damaged entry or anything but a pattern's syntax means parsing again; a
pattern with a mistake is reported alike every time and never kept."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyclick.classify import syntaxcache
from pyclick.classify.ippatterns import GRAMMAR as IP_GRAMMAR
from pyclick.classify.ippatterns import parse_ip_pattern
from pyclick.classify.rawpatterns import PatternError, parse_pattern
from pyclick.classify.syntax import Grammar
from pyclick.classify.tree import DATA, NET, Field
from pyclick.cli import main
from pyclick.lang import parsecache, usercache
from tests.cachehome import DAMAGES, calls, private_cache, shelf_entries

ROOT = Path(__file__).resolve().parent.parent

TCP = Field(NET, 9, 1, 0xFF, "==", 6)
UDP = Field(NET, 9, 1, 0xFF, "==", 17)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    return private_cache(tmp_path, monkeypatch)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """The patterns lark actually parses from now on, in order."""
    return calls(monkeypatch, Grammar, "parse", 1)


def entries(cache: Path) -> list[str]:
    return shelf_entries(cache, "pattern-")


class Names:
    """``me`` is one IPv4 address; no other word is a name."""

    def __init__(self, me: int) -> None:
        self.me = me

    def ip(self, word: str) -> int | None:
        return self.me if word == "me" else None

    def prefix(self, word: str) -> tuple[int, int] | None:
        return None

    def ether(self, word: str) -> bytes | None:
        return None


CONFIG = """\
Idle -> c :: Classifier(12/0800, -);
c[0] -> i :: IPClassifier((tcp dst port 80), udp, -);
c[1] -> f :: IPFilter(allow udp, deny all) -> Discard;
i[0] -> Discard; i[1] -> Discard; i[2] -> Discard;
"""


def test_patterns_configured_again_in_a_new_interpreter_are_read_without_lark(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        from pyclick.lang import flatten
        from pyclick.router import Router
        router = Router(flatten({CONFIG!r}, "patterns.click"), simtime=True)
        router.configure()
        print("lark" in sys.modules, "regex" in sys.modules)
        for name in ("c", "i", "f"):
            print(repr(router.element(name).classification.program()))
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))

    def run() -> list[str]:
        return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                              capture_output=True, check=True).stdout.splitlines()

    first, second = run(), run()
    for entry in (tmp_path / "pyclick").glob("pattern-*"):
        entry.unlink()
    # The configuration is still kept, its patterns no longer: lark reads them again.
    third = run()
    assert [first[0], second[0], third[0]] == ["True True", "False False", "True True"]
    assert first[1:] == second[1:] == third[1:] == [
        repr("0  data+12/0800%ffff  yes->[0]  no->[1]\n"),
        repr("0  net+9/06%ff  yes->step 1  no->step 3\n"
             "1  net+6/0000%1fff  yes->step 2  no->[2]\n"
             "2  transp+2/0050%ffff  yes->[0]  no->[2]\n"
             "3  net+9/11%ff  yes->[1]  no->[2]\n"),
        repr("0  net+9/11%ff  yes->[0]  no->[X]\n")]


def test_classifier_patterns_are_read_without_lark_the_first_time(tmp_path):
    script = textwrap.dedent("""
        import sys
        from pyclick.lang import flatten
        from pyclick.router import Router
        router = Router(flatten("Idle -> c :: Classifier(12/0806 20/0001, 12/0800, -);"
                                "c[0] -> Discard; c[1] -> Discard; c[2] -> Discard",
                                "config"), simtime=True)
        router.configure()
        print("lark" in sys.modules, "regex" in sys.modules)
        print(repr(router.element("c").classification.program()))
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, text=True,
                         capture_output=True, check=True).stdout.splitlines()
    assert out == ["False False", repr(
        "0  data+12/0806%ffff  yes->step 1  no->step 2\n"
        # Bytes 12-13 are 0806 there: 12/0800 cannot hold, only "-".
        "1  data+20/0001%ffff  yes->[0]  no->[2]\n"
        "2  data+12/0800%ffff  yes->[1]  no->[2]\n")]
    assert not list((tmp_path / "pyclick").glob("pattern-*"))


def test_the_same_pattern_is_parsed_once_per_language(cache, parses):
    assert parse_ip_pattern("tcp or (udp)") == parse_ip_pattern("tcp or (udp)") == \
        ("or", TCP, UDP)
    # Words joined by "or" read plainly: neither parsed nor kept.
    assert parse_ip_pattern("tcp or udp") == ("or", TCP, UDP)
    # Classifier's clauses read plainly: neither parsed nor kept.
    assert parse_pattern("12/0800 !14/45%f0") == parse_pattern("12/0800 !14/45%f0") == (
        "and", Field(DATA, 12, 2, 0xFFFF, "==", 0x0800), ("not", Field(DATA, 14, 1, 0xF0, "==", 0x40)))
    # The same text in the other language is parsed there (and is a mistake).
    with pytest.raises(PatternError):
        parse_ip_pattern("12/0800 !14/45%f0")
    assert parses == ["tcp or (udp)", "12/0800 !14/45%f0"]
    assert len(entries(cache)) == 1


def test_the_syntax_is_kept_and_names_are_read_again(cache, parses):
    assert parse_ip_pattern("(dst me)", Names(0x0A000001)) == Field(NET, 16, 4, 0xFFFFFFFF, "==",
                                                                   0x0A000001)
    assert parse_ip_pattern("(dst me)", Names(0x0A000002)) == Field(NET, 16, 4, 0xFFFFFFFF, "==",
                                                                   0x0A000002)
    with pytest.raises(PatternError) as failure:
        parse_ip_pattern("(dst me)")
    assert str(failure.value) == "position 6: 'me' is neither an address nor a known address name"
    assert parses == ["(dst me)"]


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_entry_is_parsed_again_and_written_again(cache, parses, damage):
    first = parse_ip_pattern("(src port 80 or 81)")
    (name,) = entries(cache)
    good = (cache / name).read_bytes()
    (cache / name).write_bytes(damage(good))
    assert parse_ip_pattern("(src port 80 or 81)") == first
    assert parses == ["(src port 80 or 81)", "(src port 80 or 81)"]
    assert (cache / name).read_bytes() == good


def test_an_entry_holding_anything_but_a_pattern_syntax_is_refused(cache, parses, tmp_path):
    class Runs:
        def __reduce__(self):
            return os.mkdir, (str(tmp_path / "ran"),)

    parse_ip_pattern("(udp)")
    (name,) = entries(cache)
    for payload in (pickle.dumps(Runs()), pickle.dumps(("start", ())), pickle.dumps(TCP)):
        (cache / name).write_bytes(usercache.seal(payload))
        assert parse_ip_pattern("(udp)") == UDP
    assert not (tmp_path / "ran").exists()
    assert len(parses) == 4


@pytest.mark.parametrize("parse, text, position, message, parsed", [
    (parse_pattern, "12 08", 4, "expected '/', got '08'", True),
    # Read plainly, and wrong in its meaning: never parsed.
    (parse_pattern, "12/080", 4, "value has odd number of hex digits", False),
    (parse_ip_pattern, "tcp ? udp", 10, "expected ':' at end of pattern", True),
    (parse_ip_pattern, "udp port", 1, "port missing", False),
])
def test_a_pattern_with_a_mistake_is_reported_alike_and_not_kept(cache, parses, parse, text,
                                                                 position, message, parsed):
    for _ in range(2):
        with pytest.raises(PatternError) as failure:
            parse(text)
        assert (failure.value.position, failure.value.message) == (position, message)
    assert parses == ([text, text] if parsed else [])
    assert entries(cache) == []


def test_a_configuration_error_in_a_pattern_is_reported_alike_every_run(cache, capsys):
    config = "Idle -> c :: IPClassifier(tcp or (icmp), udp port) -> Discard; c[1] -> Discard"
    for _ in range(2):
        assert main(["-q", "-e", config]) == 1
        assert capsys.readouterr().err == (
            "config:1: While configuring 'c :: IPClassifier': "
            "pattern 1: position 1: port missing\n")
    assert len(entries(cache)) == 1  # tcp or (icmp): read by lark, without a mistake


def test_no_cache_without_an_absolute_cache_home(monkeypatch, parses, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    for _ in range(2):
        assert parse_ip_pattern("(tcp)") == TCP
    assert parses == ["(tcp)", "(tcp)"]
    assert not (tmp_path / "relative").exists()


def test_patterns_are_kept_within_their_own_bound(cache, parses, monkeypatch):
    parsecache.parse_text("a -> (y) -> c", "t.click")  # kept: a group
    monkeypatch.setattr(syntaxcache, "SHELF",
                        syntaxcache.SHELF._replace(max_entries=2, look_every=1))
    for text in ["(src port 10)", "(src port 11)", "(src port 12)"]:
        parse_ip_pattern(text)
    # Three patterns, over the bound of two: down to three quarters of it, the one
    # written last; the program is on a shelf of its own and stays.
    assert entries(cache) == [Path(syntaxcache._entry(IP_GRAMMAR, "(src port 12)")).name]
    assert len(list(cache.glob("parse-*"))) == 1


def test_a_shelf_counted_now_and_then_is_counted_after_a_big_entry(cache):
    # Counted after one entry in 2**32 only: in practice, after big entries alone.
    shelf = usercache.Shelf("test-", max_entries=4, max_bytes=1000, look_every=1 << 32)
    small = [shelf.entry(b"small", bytes([n])) for n in range(10)]
    for n, path in enumerate(small):
        shelf.store(path, f"value {n}")
        os.utime(path, (1000 + n, 1000 + n))
    assert len(shelf_entries(cache, "test-")) == 10
    # More than its share (1000 / 4 bytes): counted, and down to three quarters of
    # the bound, the big entry and the two used last.
    big = shelf.entry(b"big")
    shelf.store(big, "y" * 300)
    assert shelf_entries(cache, "test-") == sorted(Path(p).name for p in (big, *small[8:]))
    assert shelf.load(big, lambda module, name: None, str) == "y" * 300


def test_a_pattern_grammar_is_analysed_once_and_its_tables_read_back(tmp_path):
    # A fresh interpreter per run: the parser of a grammar is made once per process.
    script = textwrap.dedent("""
        import sys
        from lark.parsers import lalr_analysis
        from pyclick.classify import syntax
        from pyclick.classify.ippatterns import GRAMMAR
        if sys.argv[1] == "read":
            def analyse(self):
                raise AssertionError("the grammar was analysed again")
            lalr_analysis.LALR_Analyzer.compute_lalr = analyse
        print(repr(GRAMMAR.parse("tcp dst port 80 or udp")))
    """)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))

    def run(how: str) -> str:
        return subprocess.run([sys.executable, "-c", script, how], cwd=ROOT, env=env, text=True,
                              capture_output=True, check=True).stdout

    analysed = run("analyse")
    (tables,) = (tmp_path / "pyclick").glob("classify-grammar-*.lark")
    assert run("read") == analysed
    # A damaged file is analysed again and written again.
    tables.write_bytes(b"not a cache\n\x80\x04garbage")
    assert run("analyse") == analysed
    assert run("read") == analysed
