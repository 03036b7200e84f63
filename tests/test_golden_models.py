"""Every golden model of every released version loads and reproduces its outputs.

`saved_models/v<version>/` is written once per release by
`saved_models/make_golden.py` and never regenerated: a change that breaks
loading an old file (a renamed registered name, a config key read
differently, different numerics) fails here. Predictions must be
bit-identical (float32 on CPU, same batch size); `evaluate` results equal;
every compile-config key the old file stored equal after loading (a newer
release may add keys with defaults).
"""

import json
import subprocess
import sys

import pytest

from tests.golden import SAVED_MODELS, SCRIPT, make_golden, version_folders

FOLDERS = version_folders()


def test_there_is_a_golden_folder_for_this_version():
    import keras_components

    assert SAVED_MODELS / f"v{keras_components.__version__}" in FOLDERS


def test_the_demo_folder_is_not_a_golden_folder():
    assert all(folder.name != "demo" for folder in FOLDERS)
    assert all(folder.name.startswith("v") for folder in FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda f: f.name)
def test_every_model_reproduces(folder):
    manifest = json.loads((folder / "golden.json").read_text())
    assert set(manifest["models"]) == {p.stem for p in folder.glob("*.keras")}, (
        "every .keras file in the folder is listed in golden.json"
    )
    report = make_golden().check_folder(folder, exact_config=False)
    problems = {name: r["problems"] for name, r in report.items() if r["problems"]}
    assert not problems, problems


def test_script_refuses_an_existing_folder(tmp_path):
    existing = tmp_path / "v0"
    existing.mkdir()
    (existing / "keep.txt").write_text("kept")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--output-dir", str(existing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "never regenerated" in done.stderr
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]


def test_a_changed_prediction_fails_the_check(tmp_path):
    # The check is not vacuous: a golden folder whose stored outputs differ
    # by one float32 ulp is reported.
    import shutil

    import numpy as np

    source = FOLDERS[-1]
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    data = dict(np.load(folder / "activations.npz"))
    data["predictions"] = np.nextafter(data["predictions"], np.inf)
    np.savez(folder / "activations.npz", **data)
    manifest = json.loads((folder / "golden.json").read_text())
    manifest["models"] = {"activations": manifest["models"]["activations"]}
    (folder / "golden.json").write_text(json.dumps(manifest))
    report = make_golden().check_folder(folder, exact_config=False)
    assert any("not bit-identical" in p for p in report["activations"]["problems"])
