"""Element classes by name: built-ins, require(package ...), entry-point plugins."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pyclick.elements
from pyclick.element import Element
from pyclick.elements import CLASS_MODULES
from pyclick.errors import ConfigError, ElementModuleError, Landmark, UnknownClass
from pyclick.lang.model import FlatConfig, FlatElement
from pyclick.registry import Registry, all_classes
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


def test_the_index_names_exactly_the_classes_each_module_defines():
    defined = {}
    for module in pkgutil.iter_modules(pyclick.elements.__path__):
        loaded = importlib.import_module(f"pyclick.elements.{module.name}")
        for value in vars(loaded).values():
            if (isinstance(value, type) and issubclass(value, Element)
                    and value.__module__ == loaded.__name__
                    and value.__dict__.get("registered", True)):
                defined[value.__name__] = module.name
    assert dict(CLASS_MODULES) == defined


def test_builtin_classes_are_found():
    registry = Registry()
    assert registry.lookup("StaticThreadSched").__module__ == \
        "pyclick.elements.staticthreadsched"
    assert "StaticThreadSched" in registry.all_classes()


def test_a_configuration_and_a_manual_import_only_the_modules_of_their_classes():
    probe = textwrap.dedent("""
        import sys
        from pyclick.cli import main
        assert main(["--doc", "Idle"]) == 0
        assert main(["-q", "-e", "Idle -> Discard; Script(TYPE PASSIVE)"]) == 0
        print(" ".join(sorted(m for m in sys.modules if m.startswith("pyclick.elements.")
                              or m.split(".")[0] in ("numpy", "pyroute2"))))
        """)
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    manual, modules = run.stdout.rstrip("\n").rsplit("\n", 1)
    assert manual.startswith("Idle")
    # Script reads its expressions with the help of scriptexpr and handlercall.
    assert modules.split() == ["pyclick.elements.discard", "pyclick.elements.handlercall",
                               "pyclick.elements.script", "pyclick.elements.scriptexpr"]


def test_unknown_class_error_has_the_landmark():
    with pytest.raises(UnknownClass) as info:
        Registry().lookup("Nowhere", Landmark("x.click", 7))
    assert info.value.messages == ["x.click:7: unknown element class 'Nowhere'"]


@pytest.fixture
def broken_builtin(tmp_path, monkeypatch):
    """A built-in module, ``pyclick.elements.regbrokenmod``, whose import fails."""
    (tmp_path / "regbrokenmod.py").write_text("import no_such_dependency_anywhere\n")
    monkeypatch.setattr(pyclick.elements, "__path__", [*pyclick.elements.__path__,
                                                       str(tmp_path)])
    return Registry({**CLASS_MODULES, "Broken": "regbrokenmod"})


def test_a_builtin_module_that_fails_to_import_is_named_with_its_cause(broken_builtin):
    config = FlatConfig([FlatElement("i", "Idle", "", Landmark("b.click", 1)),
                         FlatElement("x", "Broken", "", Landmark("b.click", 2)),
                         FlatElement("y", "Broken", "", Landmark("b.click", 3))])
    with pytest.raises(ConfigError) as info:
        Router(config, registry=broken_builtin)
    cause = ("element class 'Broken' is unavailable: module pyclick.elements.regbrokenmod "
             "failed to import (ModuleNotFoundError: No module named "
             "'no_such_dependency_anywhere')")
    assert info.value.messages == [f"b.click:2: {cause}", f"b.click:3: {cause}"]
    assert isinstance(config_error(broken_builtin, "Broken"), ElementModuleError)


def test_a_broken_module_hides_only_its_own_classes_from_the_list(broken_builtin, caplog):
    with caplog.at_level(logging.ERROR, logger="pyclick.registry"):
        classes = broken_builtin.all_classes()
    assert "Broken" not in classes and "Idle" in classes
    assert "cannot load element module pyclick.elements.regbrokenmod" in caplog.text


def config_error(registry: Registry, class_name: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        registry.lookup(class_name)
    return info.value


def test_unregistered_base_is_hidden_but_its_subclasses_are_not():
    classes = all_classes()
    assert "RegistryAbstract" not in classes
    assert classes["RegistryConcrete"] is RegistryConcrete
    with pytest.raises(UnknownClass):
        Registry().lookup("RegistryAbstract")


def test_all_classes_is_sorted():
    names = list(Registry().all_classes())
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
        Registry().require_package("regbroken")


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    """An installed distribution with three entry points: a module, a class, a broken one."""
    (tmp_path / "regplugmod.py").write_text(PLUGIN_MODULE.format(name="PluggedIn"))
    (tmp_path / "regplugcls.py").write_text(PLUGIN_MODULE.format(name="PluggedClass"))
    dist = tmp_path / "pyclick_regplugtest-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pyclick-regplugtest\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [pyclick.elements]
        whole = regplugmod
        one = regplugcls:PluggedClass
        broken = no_such_plugin_module
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for module in ("regplugmod", "regplugcls"):
        sys.modules.pop(module, None)


def test_entry_point_plugins_are_loaded_for_names_not_built_in(plugins, caplog):
    registry = Registry()
    with caplog.at_level(logging.WARNING, logger="pyclick.registry"):
        assert registry.lookup("Idle").__module__ == "pyclick.elements.discard"
        assert "regplugmod" not in sys.modules and caplog.text == ""
        assert registry.lookup("PluggedIn").__module__ == "regplugmod"
        assert registry.lookup("PluggedClass").__module__ == "regplugcls"
    assert "cannot load element plugin broken (no_such_plugin_module)" in caplog.text


def test_a_class_no_plugin_defines_names_the_plugins_that_failed(plugins):
    with pytest.raises(UnknownClass) as info:
        Registry().lookup("Nowhere", Landmark("p.click", 4))
    (message,) = info.value.messages
    assert message.startswith("p.click:4: unknown element class 'Nowhere' (element plugins "
                              "that failed to load: broken (no_such_plugin_module): ")
