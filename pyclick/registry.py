"""Where element classes are found by name.

Every subclass of :class:`~pyclick.element.Element` is an element class,
named by its Python class name. A :class:`Registry` (each router owns one)
finds the class a configuration names:

1. a class already defined outside ``pyclick.elements`` (a test's, one from
   a package named by ``require(package NAME)``, a plugin already loaded)
   shadows a built-in class of the same name;
2. a built-in class is found through the index
   :data:`pyclick.elements.CLASS_MODULES`, and only the module that defines
   it is imported: a configuration pays only for the modules it uses. A
   module that fails to import is reported as such (the module and the
   cause), with the landmark of the element that named the class;
3. any other name is looked for in the Python modules of the element
   search path (``pyclick -C DIR:DIR``, like click's CLICKPATH; each
   ``*.py`` file of each directory, imported in path order at the first
   such name), then in the entry points of the group ``pyclick.elements``
   (each naming a module or a class). A module or plugin that fails to load
   is logged as a warning, and named in the error when the class is not
   found elsewhere. ``require(package NAME)`` looks for ``NAME.py`` (or a
   package directory ``NAME``) on the search path first.

:meth:`Registry.all_classes` (for ``--list`` and the manuals) imports every
built-in module and every plugin. A class that sets ``registered = False``
in its own body is left out (an abstract base, for instance); its
subclasses are still registered.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator, KeysView, Mapping, Sequence

from pyclick.element import Element
from pyclick.elements import CLASS_MODULES
from pyclick.errors import ConfigError, ElementModuleError, Landmark, UnknownClass
from pyclick.lang.configstr import shown as shorten

ENTRY_POINT_GROUP = "pyclick.elements"
BUILTIN_PACKAGE = "pyclick.elements"

_log = logging.getLogger("pyclick.registry")


class Registry:
    """Element classes by name (see the module docstring).

    ``builtins`` maps built-in class names to their module in
    ``pyclick.elements``; ``group`` is the entry-point group of plugins;
    ``search_path`` the directories of plugin modules.
    """

    def __init__(self, builtins: Mapping[str, str] = CLASS_MODULES,
                 group: str = ENTRY_POINT_GROUP, search_path: Sequence[str] = ()) -> None:
        self._builtins = builtins
        self._group = group
        self._search_path = [Path(d) for d in search_path if d]
        #: Search-path modules that failed to import, described; None until loaded.
        self._path_failures: list[str] | None = None
        self._found: dict[str, type[Element]] = {}
        #: Built-in modules that failed to import: module name -> cause.
        self._broken: dict[str, str] = {}
        #: Plugins that failed to load, as ``name (value): cause``; None until loaded.
        self._plugin_failures: list[str] | None = None

    # --- one class
    @property
    def builtin_names(self) -> KeysView[str]:
        """The names of the built-in classes, known without importing a module."""
        return self._builtins.keys()

    def lookup(self, class_name: str, landmark: Landmark | str | None = None) -> type[Element]:
        """The element class called ``class_name``.

        Raises UnknownClass, or ElementModuleError when the built-in module
        that defines it cannot be imported (both with ``landmark``).
        """
        cls = self._found.get(class_name)
        if cls is None:
            cls = _defined_outside(class_name)
            if cls is None and class_name in self._builtins:
                cls = self._builtin(class_name, landmark)
            if cls is None:
                cls = self._from_plugins(class_name, landmark)
            self._found[class_name] = cls
        return cls

    def _builtin(self, class_name: str, landmark: Landmark | str | None) -> type[Element]:
        module_name = f"{BUILTIN_PACKAGE}.{self._builtins[class_name]}"
        module = self._import(module_name)
        if module is None:
            raise ElementModuleError(
                f"element class '{class_name}' is unavailable: module {module_name} "
                f"failed to import ({self._broken[module_name]})", landmark)
        cls = vars(module).get(class_name)
        if not _is_element_class(cls):
            raise UnknownClass(class_name, f" (module {module_name} does not define it)",
                               landmark)
        return cls

    def _import(self, module_name: str) -> ModuleType | None:
        """The module, or None when it failed to import (the cause is kept)."""
        if module_name in self._broken:
            return None
        try:
            return importlib.import_module(module_name)
        except Exception as err:  # whatever the module raises, the others stay usable
            _log.debug("cannot import %s", module_name, exc_info=err)
            self._broken[module_name] = f"{type(err).__name__}: {err}"
            return None

    def _from_plugins(self, class_name: str, landmark: Landmark | str | None) -> type[Element]:
        failures = self._load_search_path()
        cls = _defined_outside(class_name)
        if cls is not None:
            return cls
        failures = failures + self._load_plugins()
        cls = _defined_outside(class_name)
        if cls is None:
            why = f" (element plugins that failed to load: {'; '.join(failures)})" \
                if failures else ""
            raise UnknownClass(class_name, why, landmark)
        return cls

    def _load_search_path(self) -> list[str]:
        """Import every module of the search path, once; the failures, described."""
        if self._path_failures is None:
            self._path_failures = []
            for directory in self._search_path:
                for path in sorted(directory.glob("*.py")):
                    if not path.stem.startswith("_"):
                        self._load_path_module(path)
        return self._path_failures

    def _load_path_module(self, path: Path) -> bool:
        """Import the module at ``path`` under its file name; False if it failed."""
        if path.stem in sys.modules:
            return True
        if path.is_dir():
            spec = importlib.util.spec_from_file_location(
                path.stem, path / "__init__.py", submodule_search_locations=[str(path)])
        else:
            spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            return False
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        try:
            spec.loader.exec_module(module)
        except Exception as err:  # a broken module must not take the router down
            del sys.modules[path.stem]
            _log.warning("cannot load element module %s: %s", path, err)
            assert self._path_failures is not None
            self._path_failures.append(f"{path}: {type(err).__name__}: {err}")
            return False
        return True

    def _load_plugins(self) -> list[str]:
        """Load every entry point of the group, once; the failures, described."""
        if self._plugin_failures is None:
            # Reading the installed distributions costs more than the rest of
            # a start-up: only a name no other place defines pays for it.
            import importlib.metadata
            self._plugin_failures = []
            for entry in importlib.metadata.entry_points(group=self._group):
                try:
                    entry.load()
                except Exception as err:  # a broken plugin must not take the router down
                    _log.warning("cannot load element plugin %s (%s): %s", entry.name,
                                 entry.value, err)
                    self._plugin_failures.append(f"{entry.name} ({entry.value}): {err}")
        return self._plugin_failures

    # --- every class
    def all_classes(self) -> dict[str, type[Element]]:
        """Every registered element class by name, sorted by name.

        Imports every built-in module, the search path's and every plugin; a module that fails
        to import is logged and its classes are missing. When two classes
        share a name, one defined outside ``pyclick.elements`` (a plugin's,
        a test's) shadows the built-in one.
        """
        for module_name in sorted(set(self._builtins.values())):
            full_name = f"{BUILTIN_PACKAGE}.{module_name}"
            if self._import(full_name) is None:
                _log.error("cannot load element module %s: %s", full_name,
                           self._broken[full_name])
        self._load_search_path()
        self._load_plugins()
        chosen: dict[str, type[Element]] = {}
        for cls in _registered():
            previous = chosen.get(cls.class_name())
            if previous is None or _is_builtin(previous) or not _is_builtin(cls):
                chosen[cls.class_name()] = cls
        return dict(sorted(chosen.items()))

    # --- packages
    def require_package(self, name: str, landmark: Landmark | str | None = None) -> None:
        """Import the package ``name`` (or ``pyclick_name``) so that its classes register:
        from the search path first, then as an installed module."""
        if not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(f"require(package {shorten(name)}): not a module name", landmark)
        if self._path_failures is None:
            self._path_failures = []
        for directory in self._search_path:
            for candidate in (directory / f"{name}.py", directory / name):
                if candidate.is_file() or (candidate / "__init__.py").is_file():
                    if not self._load_path_module(candidate):
                        raise ConfigError(f"require(package {name}): "
                                          f"{self._path_failures[-1]}", landmark)
                    return
        for module in (name, f"pyclick_{name}"):
            try:
                importlib.import_module(module)
                return
            except ModuleNotFoundError as err:
                if err.name not in (module, module.split(".")[0]):
                    raise ConfigError(f"require(package {name}): {err}", landmark) from None
        raise ConfigError(f"require(package {name}): no module named '{name}' "
                          f"or 'pyclick_{name}'", landmark)


def all_classes() -> dict[str, type[Element]]:
    """Every element class by name, from a registry of its own (see Registry.all_classes)."""
    return Registry().all_classes()


def _subclasses(cls: type[Element]) -> Iterator[type[Element]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _registered() -> Iterator[type[Element]]:
    """Every registered element class defined so far, in definition order."""
    return (cls for cls in _subclasses(Element) if cls.__dict__.get("registered", True))


def _defined_outside(class_name: str) -> type[Element] | None:
    """The last class named ``class_name`` defined outside the built-in modules."""
    found = None
    for cls in _registered():
        if cls.class_name() == class_name and not _is_builtin(cls):
            found = cls
    return found


def _is_element_class(value: object) -> bool:
    return (isinstance(value, type) and issubclass(value, Element)
            and value.__dict__.get("registered", True))


def _is_builtin(cls: type[Element]) -> bool:
    return cls.__module__.startswith(f"{BUILTIN_PACKAGE}.")
