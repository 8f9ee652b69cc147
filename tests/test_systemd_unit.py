"""The shipped systemd unit passes systemd's own checker."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.netns import pyclick_command

UNIT = Path(__file__).resolve().parents[1] / "conf" / "pyclick-rsspp.service"
INSTALL = UNIT.parents[1] / "scripts" / "install-service.sh"


def _unit_text() -> str:
    return UNIT.read_text()


def test_unit_is_hardened_and_restarts():
    text = _unit_text()
    assert "NoNewPrivileges=yes" in text
    assert "Restart=on-failure" in text
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M).group(1).split()
    assert "CAP_NET_ADMIN" in caps and "CAP_BPF" in caps
    assert "CAP_SYS_MODULE" not in caps and "CAP_NET_RAW" not in caps
    assert "$PYCLICK_ARGS" in text


def _install(root: Path) -> Path:
    """Run the README's install step into the staging tree ``root``; the installed unit."""
    subprocess.run([str(INSTALL), "--root", str(root)], check=True, capture_output=True,
                   text=True, timeout=60)
    return root / "etc/systemd/system/pyclick-rsspp.service"


@pytest.mark.requires("pyclick-command")
def test_install_step_creates_the_command_the_unit_runs(tmp_path):
    unit = _install(tmp_path)
    command = re.search(r"^ExecStart=(\S+)", unit.read_text(), re.M).group(1)
    installed = tmp_path / command.lstrip("/")
    assert installed.is_symlink() and os.access(installed, os.X_OK)
    assert installed.resolve() == Path(pyclick_command()).resolve()
    assert (tmp_path / "etc/pyclick/rsspp.click").read_text() == \
        (UNIT.parent / "rsspp.click").read_text()
    assert (tmp_path / "etc/default/pyclick-rsspp").read_text() == "PYCLICK_ARGS=IF=eth0\n"


@pytest.mark.requires("systemd-analyze", "pyclick-command")
def test_systemd_analyze_verify_after_the_install_step(tmp_path):
    unit = _install(tmp_path / "root")
    # systemd-analyze checks the command on this machine's root: point
    # ExecStart at where the install step put it in the staging tree.
    text = unit.read_text().replace("ExecStart=/usr/local/bin/pyclick",
                                    f"ExecStart={tmp_path}/root/usr/local/bin/pyclick")
    checked = tmp_path / unit.name
    checked.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(checked)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
