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
- A metric's public signature is composed at import from the constructors up
  its bases (`keras_components.metrics._base.full_signature`, stored as the
  class's `__signature__`); the source shows only the arguments a class adds
  and `**kwargs`. A class with its own `__signature__` gets that signature.
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


def _runtime(obj: griffe.Object) -> object | None:
    """The imported object, or None if it cannot be imported."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    try:
        return griffe.dynamic_import(obj.path)
    except ImportError:
        return None


def runtime_docstring(obj: griffe.Object) -> str | None:
    """The imported object's cleaned `__doc__`, or None."""
    doc = getattr(_runtime(obj), "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else None


def _annotation(annotation: object) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    return (
        annotation
        if isinstance(annotation, str)
        else inspect.formatannotation(annotation)
    )


def set_runtime_signature(cls: griffe.Class) -> None:
    """Gives `cls` the runtime class's own `__signature__`, if it has one."""
    runtime = _runtime(cls)
    signature = vars(runtime).get("__signature__") if runtime is not None else None
    if not isinstance(signature, inspect.Signature):
        return
    parameters = [
        griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)
    ]
    for p in signature.parameters.values():
        parameters.append(
            griffe.Parameter(
                p.name,
                annotation=_annotation(p.annotation),
                kind=griffe.ParameterKind(p.kind.description),
                default=None if p.default is p.empty else repr(p.default),
            )
        )
    init = cls.members.get("__init__")
    if isinstance(init, griffe.Function):
        init.parameters = griffe.Parameters(*parameters)
    else:
        init = griffe.Function(
            "__init__", parameters=griffe.Parameters(*parameters), parent=cls
        )
        cls.set_member("__init__", init)


class KerasComponentsDocstrings(griffe.Extension):
    """Fills placeholders, indents Keras-style examples, composes signatures."""

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
            if obj.is_class:
                set_runtime_signature(obj)
            docstring = obj.docstring
            if docstring is None:
                continue
            value = docstring.value
            if _PLACEHOLDER.search(value):
                value = runtime_docstring(obj) or value
            docstring.value = indent_examples(value)
