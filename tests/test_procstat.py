"""ProcStatLoad: per-core busy share of jiffies between reads."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pyclick.kernel.procstat import ProcStatLoad, parse_proc_stat
from pyclick.seams import LoadSource

HEADER = "cpu  900 0 300 2700 100 0 0 0 0 0\n"
TAIL = "intr 12345 0 0\nctxt 999\nbtime 1700000000\nprocs_running 2\n"


def stat_text(cores: dict[int, tuple[int, ...]]) -> str:
    """A /proc/stat with the given per-core fields (user nice system idle iowait ...)."""
    lines = [HEADER]
    lines += [f"cpu{n} " + " ".join(str(v) for v in fields) + "\n" for n, fields in cores.items()]
    return "".join(lines) + TAIL


def test_parse_counts_busy_as_total_minus_idle_and_iowait():
    text = stat_text({0: (100, 10, 50, 800, 40, 5, 5, 0, 30, 0),
                      3: (1, 0, 0, 9, 0, 0, 0, 0, 0, 0)})
    cores = parse_proc_stat(text.encode())
    # guest (30) is already inside user and must not be counted twice
    assert cores == {0: (170, 1010), 3: (1, 10)}


def test_old_kernels_with_fewer_fields_parse():
    assert parse_proc_stat(b"cpu0 10 0 5 85\n") == {0: (15, 100)}


def test_two_synthetic_snapshots(tmp_path):
    path = tmp_path / "stat"
    path.write_text(stat_text({0: (100, 0, 0, 900, 0, 0, 0, 0),
                               1: (500, 0, 0, 500, 0, 0, 0, 0),
                               2: (0, 0, 0, 1000, 0, 0, 0, 0)}))
    source = ProcStatLoad(path)
    # core 0: +75 busy (user 50, system 20, softirq 5) of +100; iowait is not busy
    # core 1: fully busy; core 2: +10 iowait, +30 idle -> idle
    path.write_text(stat_text({0: (150, 0, 20, 915, 10, 0, 5, 0),
                               1: (600, 0, 0, 500, 0, 0, 0, 0),
                               2: (0, 0, 0, 1030, 10, 0, 0, 0)}))
    loads = source.read_loads([2, 0, 1])
    assert loads.dtype == np.float64
    np.testing.assert_allclose(loads, [0.0, 0.75, 1.0])


def test_each_read_measures_from_the_previous_one(tmp_path):
    path = tmp_path / "stat"
    path.write_text(stat_text({0: (0, 0, 0, 100, 0, 0, 0, 0)}))
    source = ProcStatLoad(path)
    path.write_text(stat_text({0: (50, 0, 0, 150, 0, 0, 0, 0)}))
    np.testing.assert_allclose(source.read_loads([0]), [0.5])
    path.write_text(stat_text({0: (60, 0, 0, 240, 0, 0, 0, 0)}))
    np.testing.assert_allclose(source.read_loads([0]), [0.1])


def test_no_elapsed_jiffies_keeps_the_last_load(tmp_path):
    path = tmp_path / "stat"
    path.write_text(stat_text({0: (0, 0, 0, 100, 0, 0, 0, 0)}))
    source = ProcStatLoad(path)
    path.write_text(stat_text({0: (30, 0, 0, 170, 0, 0, 0, 0)}))
    np.testing.assert_allclose(source.read_loads([0]), [0.3])
    np.testing.assert_allclose(source.read_loads([0]), [0.3])


def test_unknown_core_is_named(tmp_path):
    path = tmp_path / "stat"
    path.write_text(stat_text({0: (0, 0, 0, 100, 0, 0, 0, 0)}))
    source = ProcStatLoad(path)
    with pytest.raises(ValueError, match="core 7 is not listed"):
        source.read_loads([0, 7])


def test_real_proc_stat_gives_loads_in_range():
    source = ProcStatLoad()
    assert isinstance(source, LoadSource)
    cores = sorted(os.sched_getaffinity(0))
    # burn a little CPU so that at least one jiffy passes on this core
    total = 0
    for i in range(2_000_000):
        total += i
    loads = source.read_loads(cores)
    assert loads.shape == (len(cores),)
    assert np.all((loads >= 0.0) & (loads <= 1.0))
    # this process kept some core busy for the whole interval
    assert loads.max() > 0.0
