"""Plugins: element classes from an installed package and from require(package ...).

The example plugin (examples/pyclick-hello) and pyclick itself are built and
installed into a fresh virtual environment, offline, then used through that
environment's ``pyclick`` command.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "pyclick-hello"
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "tests", "bench", ".benchmarks", "build",
                                      "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                      ".hypothesis", "examples")


def clean_env() -> dict[str, str]:
    """The environment without anything pointing Python at this checkout."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def run(argv: list, cwd: Path, **env_extra: str) -> subprocess.CompletedProcess:
    env = clean_env()
    env.update(env_extra)
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A virtual environment with pyclick and pyclick-hello installed from copies."""
    root = tmp_path_factory.mktemp("plugin")
    sources = root / "src"
    shutil.copytree(REPO, sources / "pyclick", symlinks=True, ignore=_NOT_SOURCES)
    shutil.copytree(EXAMPLE, sources / "hello", ignore=_NOT_SOURCES)
    env_dir = root / "venv"
    made = run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", env_dir],
               cwd=root)
    assert made.returncode == 0, made.stderr
    python = env_dir / "bin" / "python"
    purelib = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                  cwd=root).stdout.strip()
    # The dependencies (numpy, lark...) and the build tools come from the
    # environment running the tests, which may itself be a virtual
    # environment rather than the system one.
    Path(purelib, "test-host-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    installed = run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
                     "--no-index", "--no-build-isolation", sources / "pyclick",
                     sources / "hello"], cwd=root)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return env_dir


def test_installed_pyclick_is_the_packaged_copy(venv, tmp_path):
    where = run([venv / "bin" / "python", "-c", "import pyclick, pyclick_hello; "
                 "print(pyclick.__file__); print(pyclick_hello.__file__)"], cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    for line in where.stdout.splitlines():
        assert Path(line).is_relative_to(venv), line


def test_doc_of_a_plugin_class(venv, tmp_path):
    result = run([venv / "bin" / "pyclick", "--doc", "Hello"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Hello(MESSAGE, KEYWORDS) -- greets when the router starts"
    assert "Keyword arguments" in lines
    assert "REPEAT -- how many times to print it; default 1" in lines


def test_list_shows_plugin_classes_beside_builtins(venv, tmp_path):
    result = run([venv / "bin" / "pyclick", "--list"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summaries = dict(line.split(None, 1) for line in result.stdout.splitlines() if " " in line)
    assert summaries["Hello"] == "greets when the router starts"
    assert summaries["HelloTagger"] == "marks packets with a tag annotation"
    assert "Counter" in summaries and "Script" in summaries


def test_configuration_using_plugin_elements(venv, tmp_path):
    # The source stops the driver once it has sent its three packets (a
    # fixed wait could end first on a loaded machine).
    config = ('h :: Hello("hi there", REPEAT 2); '
              "InfiniteSource(LIMIT 3, STOP true) -> t :: HelloTagger(TAG demo) -> Discard; "
              'DriverManager(wait, print "tagged $(t.count) as $(t.tag)", '
              "write h.message bye, print $(h.greetings))")
    result = run([venv / "bin" / "pyclick", "-e", config], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hi there\nhi there\ntagged 3 as demo\nbye\n3\n"


def test_plugin_argument_mistakes_are_reported_with_place(venv, tmp_path):
    result = run([venv / "bin" / "pyclick", "-e", "Hello(REPEAT 2, LOUD true)"], cwd=tmp_path)
    assert result.returncode == 1
    assert "config:1" in result.stderr and "Hello" in result.stderr
    assert "MESSAGE: missing mandatory argument" in result.stderr
    assert "LOUD: unknown keyword" in result.stderr
    assert "Traceback" not in result.stderr


def test_require_package_imports_an_uninstalled_plugin(tmp_path):
    path = os.pathsep.join([str(REPO), str(EXAMPLE)])
    result = run([sys.executable, "-m", "pyclick", "-e",
                  'require(package hello); Hello("from require"); Script(stop)'], cwd=tmp_path,
                 PYTHONPATH=path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from require\n"

    result = run([sys.executable, "-m", "pyclick", "-e", 'require(package nothere); Idle'],
                 cwd=tmp_path, PYTHONPATH=path)
    assert result.returncode == 1 and "nothere" in result.stderr
    assert "Traceback" not in result.stderr
