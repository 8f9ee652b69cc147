"""The ``requires`` mark: tests that need something of the host.

``@pytest.mark.requires("root", "bcc")`` (on a test, a class or in a
module's ``pytestmark``) names prerequisites from ``tests.netns.CHECKS``;
before the test's fixtures are set up, a missing one skips it with the
reason, or fails it under CI=true (``tests.netns.require``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from pyclick.kernel import bcc_loader, bpffs

from tests.netns import require


#: The cache directory of the test run.
_CACHE_DIR = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requires(*names): host prerequisites (tests/netns.py CHECKS); "
                   "a skip when missing, a failure under CI=true")
    config.stash[_CACHE_DIR] = _private_cache_dir()


def _private_cache_dir() -> str:
    """The programs and grammar tables the tests (and the commands they start) parse
    are kept in a cache directory of the test run, never in the user's; the kernel
    headers bcc compiles against stay where they are, as building them is slow."""
    os.environ.setdefault("PYCLICK_CACHE", str(bcc_loader.cache_dir()))
    directory = tempfile.mkdtemp(prefix="pyclick-cache-")
    os.environ["XDG_CACHE_HOME"] = directory
    return directory


def pytest_unconfigure(config: pytest.Config) -> None:
    if _CACHE_DIR in config.stash:
        shutil.rmtree(config.stash[_CACHE_DIR], ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    require(*(name for mark in item.iter_markers("requires") for name in mark.args))


@pytest.fixture(autouse=True, scope="session")
def private_kernel_state_dir():
    """Interface locks and state records of the tests' routers (and of the
    commands they start) go to a directory of the test run, never to the
    system's /run/pyclick."""
    if "PYCLICK_STATE_DIR" in os.environ:
        yield os.environ["PYCLICK_STATE_DIR"]
        return
    with tempfile.TemporaryDirectory(prefix="pyclick-state-") as directory:
        os.environ["PYCLICK_STATE_DIR"] = directory
        try:
            yield directory
        finally:
            del os.environ["PYCLICK_STATE_DIR"]
            pins = Path(directory) / "bpf"
            if bpffs.is_bpffs(pins):
                bpffs.unmount(pins)
