"""Shared docstring text, written once and filled into `{placeholder}`s.

Several public objects document the same argument the same way (the region
losses share six arguments). Writing the text once keeps the documented
figures from drifting apart. The source docstring keeps every argument's
name, so ruff's pydocstyle rules still see a complete Args section; only the
description is a placeholder:

    @docs.fill(smooth=SMOOTH)
    def dice_loss(y_true, y_pred, *, smooth=1e-5):
        '''Soft Dice loss per sample.

Args:
            smooth: {smooth}
        '''

A placeholder is `{name}` (a Python identifier in braces); no other brace
in a docstring is touched, so no escaping is needed. A placeholder alone on
its line is replaced by the text indented like the line (a paragraph); one
after other text on its line (an `Args` entry) continues the text on the
following lines with the Google-style hanging indent (the line's indent plus
4 spaces). Texts are written without indentation, wrapped as they should
appear; one mapping may serve several objects (unused texts are fine). A
placeholder without a text is a `KeyError` at import, so a typo never
ships a literal `{name}`. Doctests run on the filled docstring.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_text(doc: str, **texts: str) -> str:
    """`doc` with each `{name}` replaced by `texts[name]` (see the module)."""
    lines = []
    for line in doc.splitlines():
        match = _PLACEHOLDER.search(line)
        if match is None:
            lines.append(line)
            continue
        name = match.group(1)
        if name not in texts:
            raise KeyError(f"No text for docstring placeholder {{{name}}}")
        indent = line[: len(line) - len(line.lstrip())]
        body = textwrap.dedent(texts[name]).strip().splitlines()
        before, after = line[: match.start()], line[match.end() :]
        if before.strip():  # an entry: hanging indent
            lines.append(before + body[0])
            lines.extend(f"{indent}    {text}" if text else "" for text in body[1:])
        else:  # a paragraph
            lines.extend(f"{indent}{text}" if text else "" for text in body)
        lines[-1] += after.rstrip()
    return "\n".join(lines) + ("\n" if doc.endswith("\n") else "")


def fill(**texts: str) -> Callable[[T], T]:
    """Decorator filling the `{name}` placeholders of the object's docstring."""

    def decorate(obj: T) -> T:
        obj.__doc__ = fill_text(obj.__doc__ or "", **texts)
        return obj

    return decorate
