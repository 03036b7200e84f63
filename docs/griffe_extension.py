"""Griffe extension (mkdocs.yml `extensions`): docstrings as Python has them.

The API reference reads the source (griffe's static analysis: no import, no
`__main__` run). Two things in this package's docstrings need more:

- Shared argument texts are filled in at import by `keras_components._docs.fill`
  (`{placeholder}` in the source). A docstring with a placeholder is replaced
  by the imported object's `__doc__`, the text `help()` shows.
- The runnable examples follow Keras's layout, a doctest below an unindented
  `Example:` line (ruff's D412 is off for it). Griffe reads a Google section
  only from its indented lines, so such an example would render as prose
  (`>>>` as nested quotes). Its lines, up to the next section title, are
  indented under an `Examples:` title, which griffe renders as code.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import griffe

ROOT = Path(__file__).resolve().parents[1]
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_SECTION_TITLE = re.compile(r"^[A-Z][A-Za-z ]*:\s*$")
# `Example:`, `Examples:`, or `Example (what it shows):`.
_EXAMPLES_TITLE = re.compile(r"^Examples?(?:\s*\((?P<what>.*)\))?:\s*$")


def indent_examples(text: str) -> str:
    """An `Example:` title over unindented lines becomes an `Examples:` section.

    The lines up to the next section title are indented under it; the words
    of an `Example (what it shows):` title become the section's first line.
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        title = _EXAMPLES_TITLE.match(line)
        if not title:
            out.append(line)
            continue
        first = i
        while first < len(lines) and not lines[first].strip():
            first += 1
        if first == i or first == len(lines) or lines[first][:1].isspace():
            out.append(line)  # a Google section already (or nothing follows)
            continue
        out.append("Examples:")
        if title.group("what"):  # the title's words open the section
            what = title.group("what")
            out += [f"    {what[0].upper()}{what[1:]}:", ""]
        i = first
        while i < len(lines) and not _SECTION_TITLE.match(lines[i]):
            out.append(f"    {lines[i]}" if lines[i].strip() else "")
            i += 1
    return "\n".join(out)


def runtime_docstring(obj: griffe.Object) -> str | None:
    """The imported object's cleaned `__doc__`, or None if it cannot be imported."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        value = griffe.dynamic_import(obj.path)
    except ImportError:
        return None
    doc = getattr(value, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else None


class KerasComponentsDocstrings(griffe.Extension):
    """Fills `_docs.fill` placeholders and indents Keras-style examples."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        """Rewrites every docstring of the package once it is loaded."""
        seen: set[int] = set()
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            stack.extend(m for m in obj.members.values() if not m.is_alias)
            docstring = obj.docstring
            if docstring is None:
                continue
            value = docstring.value
            if _PLACEHOLDER.search(value):
                value = runtime_docstring(obj) or value
            docstring.value = indent_examples(value)
