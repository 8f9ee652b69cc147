"""conf/rsspp-sim.click: the README's configuration on the simulated NIC."""

from pathlib import Path

from pyclick.cli import main
from pyclick.lang import flatten

CONF = Path(__file__).resolve().parents[1] / "conf"
#: The simulated stand-ins for the README's kernel elements.
REPLACED = {"fd": ("FromDevice", "SimNIC"), "xdp": ("XDPLoader", "SimCounter")}


def flat(name: str):
    path = CONF / name
    return flatten(path.read_text(), filename=str(path))


def test_only_the_device_and_the_counter_differ_from_the_readme():
    real, simulated = flat("rsspp.click"), flat("rsspp-sim.click")
    assert [e.name for e in simulated.elements] == [e.name for e in real.elements]
    for ours, theirs in zip(simulated.elements, real.elements):
        if ours.name in REPLACED:
            assert (theirs.class_name, ours.class_name) == REPLACED[ours.name]
        else:
            assert (ours.class_name, ours.config) == (theirs.class_name, theirs.config)
    assert simulated.connections == real.connections
    by_name = {e.name: e for e in simulated.elements}
    assert by_name["fd"].config.startswith("CORES 18, RETA_SIZE 128")
    assert by_name["xdp"].config == "DEV fd"


def test_the_configuration_checks_without_root(capsys):
    assert main(["-q", "-w", str(CONF / "rsspp-sim.click")]) == 0
