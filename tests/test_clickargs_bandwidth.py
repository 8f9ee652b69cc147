"""Bandwidth arguments, read with Click's units (bytes per second)."""

from __future__ import annotations

import pytest

from pyclick.args import Args
from pyclick.elements.clickargs import BANDWIDTH, fixed_point, unparse_bandwidth, unparse_fixed


@pytest.mark.parametrize("text, bytes_per_second", [
    ("131072B/s", 131072),       # Click's conf/delay.click
    ("131072Bps", 131072),
    ("1000", 1000),              # a bare number is bytes per second
    ("8kbps", 1000),             # 8,000 bits
    ("8 kbps", 1000),
    ("8Kbps", 1000),
    ("8000b/s", 1000),
    ("8000baud", 1000),
    ("1.5Mbps", 187500),         # 1,500,000 bits
    ("20kBps", 20000),
    ("20kB/s", 20000),
    ("2GBps", 2e9),
    ("1e3Bps", 1000),
])
def test_bandwidth_units(text, bytes_per_second):
    assert BANDWIDTH(text, Args("")) == bytes_per_second


@pytest.mark.parametrize("text", [
    "10 Mb", "10kB", "10mbps", "10MBPS", "10Kibps", "k", "10 k bps", "10bps/s", "-5Bps", ""])
def test_bandwidth_refuses_what_click_refuses(text):
    with pytest.raises(ValueError):
        BANDWIDTH(text, Args(""))


@pytest.mark.parametrize("bytes_per_second, text", [
    (131072, "1.048576Mbps"),    # 1,048,576 bits
    (125, "1kbps"),
    (1000, "8kbps"),
    (7, "0.056kbps"),
    (0, "0kbps"),
    (12345, "98.76kbps"),
    (124999, "999.992kbps"),
    (125000, "1Mbps"),
    (187500, "1.5Mbps"),
    (125_000_000, "1Gbps"),
    (300_000_000, "2.4Gbps"),
    (0x20000000, "536.870912MBps"),
    (1_000_000_000, "1000MBps"),
])
def test_bandwidth_prints_as_click_prints_it(bytes_per_second, text):
    assert unparse_bandwidth(bytes_per_second) == text


@pytest.mark.parametrize("text, bits, value, printed", [
    ("0.5", 28, 1 << 27, "0.5"),
    ("1", 28, 1 << 28, "1"),
    ("0", 28, 0, "0"),
    ("0.1", 28, 26843546, "0.1"),           # 26843545.6 rounded
    ("1e-05", 28, 2684, "0.00001"),         # 2684.35
    ("2.25", 16, 147456, "2.25"),
    # The fraction is rounded to 32 bits first, by digits from the last one
    # (each step truncating): 146334904.48 becomes 146334905.
    ("0.54514", 28, 146334905, "0.545140002"),
])
def test_fixed_point_as_click_reads_and_prints_it(text, bits, value, printed):
    assert fixed_point(text, bits) == value
    assert unparse_fixed(value, bits) == printed
