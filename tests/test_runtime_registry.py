"""Element classes by name: built-ins, require(package ...), entry-point plugins."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pyclick import registry
from pyclick.element import Element
from pyclick.errors import ConfigError, Landmark
from pyclick.lang.model import FlatConfig, FlatElement
from pyclick.router import Router

ROOT = Path(__file__).resolve().parent.parent

PLUGIN_MODULE = '''
from pyclick.element import Element


class {name}(Element):
    """{name}() -- an element from a plugin"""
'''


class RegistryAbstract(Element):
    """not an element class of its own"""

    registered = False


class RegistryConcrete(RegistryAbstract):
    """RegistryConcrete -- derives from an unregistered base"""


def test_builtin_classes_are_found():
    assert registry.lookup("StaticThreadSched").__module__ == \
        "pyclick.elements.staticthreadsched"
    assert "StaticThreadSched" in registry.all_classes()


def test_unknown_class_error_has_the_landmark():
    with pytest.raises(ConfigError) as info:
        registry.lookup("Nowhere", Landmark("x.click", 7))
    assert info.value.messages == ["x.click:7: unknown element class 'Nowhere'"]


def test_unregistered_base_is_hidden_but_its_subclasses_are_not():
    classes = registry.all_classes()
    assert "RegistryAbstract" not in classes
    assert classes["RegistryConcrete"] is RegistryConcrete


def test_all_classes_is_sorted():
    names = list(registry.all_classes())
    assert names == sorted(names)


@pytest.mark.parametrize("module_prefix", ["", "pyclick_"])
def test_require_package_imports_name_or_pyclick_name(tmp_path, monkeypatch, module_prefix):
    package = f"regpkg{module_prefix.rstrip('_')}"
    class_name = f"Required{module_prefix.strip('_').title()}Thing"
    (tmp_path / f"{module_prefix}{package}.py").write_text(
        PLUGIN_MODULE.format(name=class_name))
    monkeypatch.syspath_prepend(str(tmp_path))
    config = FlatConfig([FlatElement("x", class_name, "", Landmark("r.click", 2))],
                        requirements=[("package", package)])
    router = Router(config)
    assert type(router.element("x")).__name__ == class_name


def test_require_package_reports_a_broken_package(tmp_path, monkeypatch):
    (tmp_path / "regbroken.py").write_text("import no_such_dependency_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match="no_such_dependency_anywhere"):
        registry.require_package("regbroken")


def test_entry_point_plugins_are_loaded(tmp_path):
    (tmp_path / "plugmod.py").write_text(PLUGIN_MODULE.format(name="PluggedIn"))
    (tmp_path / "plugcls.py").write_text(PLUGIN_MODULE.format(name="PluggedClass"))
    dist = tmp_path / "pyclick_plugtest-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pyclick-plugtest\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [pyclick.elements]
        whole = plugmod
        one = plugcls:PluggedClass
        broken = no_such_plugin_module
        """))
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}")
    run = subprocess.run([sys.executable, "-m", "pyclick", "-q", "-e",
                          "a :: PluggedIn; b :: PluggedClass;"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "cannot load element plugin broken" in run.stderr
