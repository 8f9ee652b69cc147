"""The element reference (docs/elements.md), generated from the manuals.

``python -m pyclick.docgen > docs/elements.md`` writes it; a test keeps the
committed file equal to what the docstrings say.
"""

from __future__ import annotations

import inspect

from pyclick import registry


def element_reference() -> str:
    """Markdown: an index of every built-in element, then each manual."""
    classes = sorted((c for c in registry.all_classes().values()
                      if c.__module__.startswith("pyclick.elements.")),
                     key=lambda c: c.__name__)
    out = ["# Element reference", "",
           "Every element pyclick ships, with the manual `pyclick --doc CLASS` prints.", ""]
    out += [f"- [{c.__name__}](#{c.__name__.lower()}) — {c.summary()}" for c in classes]
    for cls in classes:
        out += ["", f"## {cls.__name__}", "", "```",
                inspect.cleandoc(cls.__doc__ or cls.__name__), "```"]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(element_reference(), end="")
