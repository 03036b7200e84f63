"""Every golden model of every released version loads and reproduces its outputs.

`saved_models/v<version>/` is written once per release by
`saved_models/make_golden.py` and never regenerated: a change that breaks
loading an old file (a renamed registered name, a config key read
differently, different numerics) fails here: predictions and `evaluate`
results within `ATOL` / `RTOL` of the stored ones (same batch size, CPU),
every compile-config key the old file stored equal after loading (a newer
release may add keys with defaults).

Why not bit-identical: on the machine and TensorFlow build that wrote them
they are (measured: max |diff| 0), but TensorFlow's CPU matmul/conv kernels
depend on the CPU and on oneDNN (`TF_ENABLE_ONEDNN_OPTS=0` alone moves
predictions by up to 2.4e-7), so a CI runner with another CPU would fail a
bit-exact check for no format reason. 1e-6 still catches every real break (a
misread config or weight changes outputs by orders of magnitude more).
`tests/test_export.py` checks bit-identity where it holds: a model saved and
reloaded on the same machine.
"""

import json
import subprocess
import sys

import pytest

from tests.golden import SAVED_MODELS, SCRIPT, make_golden, version_folders

FOLDERS = version_folders()
ATOL = RTOL = 1e-6


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
    report = make_golden().check_folder(
        folder, exact_config=False, atol=ATOL, rtol=RTOL
    )
    problems = {name: r["problems"] for name, r in report.items() if r["problems"]}
    assert not problems, problems
    print({name: r["max_diff"] for name, r in report.items()})


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
    # The check is not vacuous: stored outputs moved by 1e-5 are reported
    # under the golden tolerance, by one float32 ulp when exact.
    import shutil

    import numpy as np

    source = FOLDERS[-1]
    folder = tmp_path / source.name
    shutil.copytree(source, folder)
    data = dict(np.load(folder / "activations.npz"))
    original = data["predictions"].copy()
    data["predictions"] = original + np.float32(1e-5)
    np.savez(folder / "activations.npz", **data)
    manifest = json.loads((folder / "golden.json").read_text())
    manifest["models"] = {"activations": manifest["models"]["activations"]}
    (folder / "golden.json").write_text(json.dumps(manifest))
    report = make_golden().check_folder(
        folder, exact_config=False, atol=ATOL, rtol=RTOL
    )
    assert any("max |diff|" in p for p in report["activations"]["problems"])
    data["predictions"] = np.nextafter(original, np.float32(np.inf))
    np.savez(folder / "activations.npz", **data)
    report = make_golden().check_folder(folder, exact_config=False)
    assert any("max |diff|" in p for p in report["activations"]["problems"])
