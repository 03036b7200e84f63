"""The "after" examples of docs/migration.md run as written.

Every python block of the guide is marked by the HTML comment on the line
before it: `<!-- before -->` (TensorFlow Addons / segmentation_models code, not
run here), `<!-- after -->` (ours: run), or `<!-- after: requires
module.Name -->` (ours, run once that name exists; skipped before). An
unmarked python block is an error, so no example is silently left out.
"""

import importlib
import re
from pathlib import Path

import keras
import pytest

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "migration.md"
BLOCK = re.compile(r"(?:<!--\s*(.*?)\s*-->\n)?```python\n(.*?)```", re.DOTALL)


def blocks():
    """(marker, code, line) for every python block of the guide."""
    text = GUIDE.read_text()
    return [
        (match.group(1), match.group(2), text.count("\n", 0, match.start()) + 1)
        for match in BLOCK.finditer(text)
    ]


def after_blocks():
    """The "after" blocks, with the name each one requires (or None)."""
    found = []
    for marker, code, line in blocks():
        if marker == "after":
            found.append(pytest.param(code, None, id=f"line{line}"))
        elif marker and marker.startswith("after: requires "):
            required = marker.removeprefix("after: requires ").strip()
            found.append(pytest.param(code, required, id=f"line{line}"))
    return found


def test_every_python_block_is_marked():
    """Each block is "before" or "after", and both kinds are there."""
    markers = [(marker, line) for marker, _, line in blocks()]
    unmarked = [
        line
        for marker, line in markers
        if not (
            marker in ("before", "after")
            or (marker or "").startswith("after: requires ")
        )
    ]
    assert not unmarked, f"unmarked python blocks at lines {unmarked}"
    kinds = {marker.split(":")[0] for marker, _ in markers}
    assert kinds == {"before", "after"}
    assert len(after_blocks()) >= 14


def _exists(dotted):
    module, _, name = dotted.rpartition(".")
    try:
        return hasattr(importlib.import_module(module), name)
    except ImportError:
        return False


@pytest.mark.parametrize(("code", "required"), after_blocks())
def test_after_block_runs(code, required):
    """An "after" block runs in a fresh namespace (asserts inside it hold)."""
    if required and not _exists(required):
        pytest.skip(f"{required} does not exist yet")
    keras.utils.set_random_seed(0)
    exec(compile(code, str(GUIDE), "exec"), {"__name__": "migration_example"})
