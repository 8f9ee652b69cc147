"""Where element classes are found by name.

Every subclass of :class:`~pyclick.element.Element` is an element class,
named by its Python class name. They come from:

- the modules of the ``pyclick.elements`` package (imported on first lookup);
- entry points of the group ``pyclick.elements``, each naming a module or a
  class (loaded on first lookup);
- packages named by ``require(package NAME)`` in a configuration;
- any other module that was imported (a class is known once defined).

A class that sets ``registered = False`` in its own body is left out (an
abstract base, for instance); its subclasses are still registered.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import pkgutil

from pyclick.element import Element
from pyclick.errors import ConfigError, Landmark

ENTRY_POINT_GROUP = "pyclick.elements"

_log = logging.getLogger("pyclick.registry")
_loaded = False


class UnknownClass(ConfigError):
    """A configuration names an element class nobody defines."""


def _load_builtins_and_plugins() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import pyclick.elements

    for module in pkgutil.iter_modules(pyclick.elements.__path__, "pyclick.elements."):
        try:
            importlib.import_module(module.name)
        except Exception as err:  # the other classes stay usable
            _log.error("cannot load element module %s: %s", module.name, err)
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry.load()
        except Exception as err:  # a broken plugin must not take the router down
            _log.warning("cannot load element plugin %s (%s): %s", entry.name, entry.value, err)


def _subclasses(cls: type[Element]):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def all_classes() -> dict[str, type[Element]]:
    """Every registered element class by name, sorted by name.

    When two classes share a name, one defined outside ``pyclick.elements``
    (a plugin's, a test's) shadows the built-in one.
    """
    _load_builtins_and_plugins()
    chosen: dict[str, type[Element]] = {}
    for cls in _subclasses(Element):
        if not cls.__dict__.get("registered", True):
            continue
        previous = chosen.get(cls.class_name())
        if previous is None or _is_builtin(previous) or not _is_builtin(cls):
            chosen[cls.class_name()] = cls
    return dict(sorted(chosen.items()))


def _is_builtin(cls: type[Element]) -> bool:
    return cls.__module__.startswith("pyclick.elements.")


def lookup(class_name: str, landmark: Landmark | str | None = None) -> type[Element]:
    """The element class called ``class_name``; UnknownClass (with landmark) if none."""
    cls = all_classes().get(class_name)
    if cls is None:
        raise UnknownClass(f"unknown element class '{class_name}'", landmark)
    return cls


def require_package(name: str, landmark: Landmark | str | None = None) -> None:
    """Import the package ``name`` (or ``pyclick_name``) so that its classes register."""
    for module in (name, f"pyclick_{name}"):
        try:
            importlib.import_module(module)
            return
        except ModuleNotFoundError as err:
            if err.name not in (module, module.split(".")[0]):
                raise ConfigError(f"require(package {name}): {err}", landmark) from None
    raise ConfigError(f"require(package {name}): no module named '{name}' "
                      f"or 'pyclick_{name}'", landmark)
