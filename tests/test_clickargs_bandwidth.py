"""Bandwidth arguments, read with Click's units (bytes per second)."""

from __future__ import annotations

import pytest

from pyclick.args import Args
from pyclick.elements.clickargs import BANDWIDTH, unparse_bandwidth


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


def test_bandwidth_prints_as_bits_per_second():
    assert unparse_bandwidth(131072) == "1.04858Mbps"
    assert unparse_bandwidth(125) == "1kbps"
