"""The shipped systemd unit passes systemd's own checker."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1] / "conf" / "pyclick-rsspp.service"


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


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (apt-get install systemd)")
def test_systemd_analyze_verify(tmp_path):
    # The command installed beside the Python running the tests (a venv).
    pyclick = shutil.which("pyclick", path=str(Path(sys.executable).parent)) or shutil.which("pyclick")
    if pyclick is None:
        pytest.skip("the pyclick command is not installed (pip install .)")
    # Point ExecStart at where the command is installed on this machine;
    # everything else is verified as shipped.
    text = _unit_text().replace("/usr/local/bin/pyclick", pyclick)
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
