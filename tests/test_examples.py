"""The notebooks of examples/: in sync with their scripts, and executed.

Every `examples/NN_name.ipynb` is the jupytext pairing of `NN_name.py` with no
outputs stored, opens with its own "Open in Colab" badge and the shared install
cell, imports the rest of the setup from `examples/_setup.py`, and runs top
to bottom (nbclient, `KC_SMALL=1`) in a temporary folder, so it writes nothing
into the repository. The WGAN-GP notebook (a
`tf.GradientTape` training step) and the export notebook (SavedModel, LiteRT,
tfa fixtures) need TensorFlow.
"""

import os
import re
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))
TENSORFLOW_ONLY = {"04_wgan_gp", "06_export_migration"}
BADGE = re.compile(
    r"https://colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/blob/main/"
    r"examples/([\w.-]+)\.ipynb"
)

pytestmark = pytest.mark.slow


def test_six_notebooks_each_with_its_script():
    names = [p.stem for p in SCRIPTS]
    assert len(names) == 6, names
    assert sorted(p.stem for p in EXAMPLES.glob("*.ipynb")) == names


def _cells(notebook):
    return [(c.cell_type, c.source.strip()) for c in notebook.cells]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_notebook_in_sync_with_script_and_stripped(script):
    stored = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    assert _cells(stored) == _cells(jupytext.read(script)), (
        f"{script.name} and its .ipynb differ: run "
        f"`jupytext --update --to ipynb examples/{script.name}`"
    )
    for cell in stored.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{script.stem}: outputs stored"
            assert cell.execution_count is None, f"{script.stem}: execution count"


def _code_cells(script):
    return [c.source for c in jupytext.read(script).cells if c.cell_type == "code"]


def test_badge_points_at_the_notebook_and_setup_is_shared():
    """The install cell is the same everywhere; the rest comes from _setup.py."""
    install = _code_cells(SCRIPTS[0])[0]
    repository = re.search(r'REPOSITORY = "([^"]+)"', install).group(1)
    for script in SCRIPTS:
        head = jupytext.read(script).cells[0]
        assert head.cell_type == "markdown"
        match = BADGE.search(head.source)
        assert match, f"{script.stem}: no Open in Colab badge"
        assert match.groups() == (repository, script.stem)
        code = _code_cells(script)
        assert code[0] == install, f"{script.stem}: install cell differs"
        # The shared helpers, imported right after the install cell (not
        # copied into the notebook).
        assert re.search(r"^from _setup import ", code[1], re.MULTILINE), script.stem
        assert "def show(" not in "\n".join(code), f"{script.stem}: inline setup"


def test_shared_setup_reads_the_switches(tmp_path):
    """examples/_setup.py: KC_SMALL, KC_OUT, and show() writes the PNG there."""
    import subprocess
    import sys

    out = tmp_path / "out"
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from _setup import OUT, SMALL, figure, show\n"
        "assert SMALL and str(OUT) == sys.argv[2], (SMALL, OUT)\n"
        "fig = figure(figsize=(2, 2))\n"
        "fig.add_subplot().plot([0, 1])\n"
        "assert show(fig, 'x.png') == OUT / 'x.png'\n"
    )
    env = {**os.environ, "KC_SMALL": "1", "KC_OUT": str(out)}
    env.pop("KC_GALLERY", None)
    subprocess.run(
        [sys.executable, "-c", script, str(EXAMPLES), str(out)],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert (out / "x.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(
            s,
            marks=[pytest.mark.tensorflow_only] if s.stem in TENSORFLOW_ONLY else [],
            id=s.stem,
        )
        for s in SCRIPTS
    ],
)
def test_notebook_executes_small(script, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("KC_SMALL", "1")
    monkeypatch.setenv("KC_OUT", str(tmp_path / "out"))
    monkeypatch.delenv("KC_GALLERY", raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    before = sorted(p for p in ROOT.rglob("*") if ".git" not in p.parts)
    notebook = nbformat.read(script.with_suffix(".ipynb"), as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's cwd
    ).execute()
    after = sorted(p for p in ROOT.rglob("*") if ".git" not in p.parts)
    assert [p for p in after if p not in before if "__pycache__" not in p.parts] == []
    assert any((tmp_path / "out").iterdir())
