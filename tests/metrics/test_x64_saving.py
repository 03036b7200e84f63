"""`.keras` files move between float64 state and two-word state (JAX without x64).

The state is float64 on TensorFlow and on JAX with `jax_enable_x64`, two
float32 words (`x` and `x__lo`) on JAX without it. A `.keras` file holds the
metrics' configuration only (Keras saves no metric variables), so a model
saved with one representation loads with the other: its metrics are rebuilt
with the loading process's state and give scikit-learn's values there; no
state variable is in the file to be half loaded. Each side runs in a process
of its own (tests/metrics/x64_saving.py), as the backend and x64 are fixed at
startup.
"""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn import metrics as skm

from tests.metrics import x64_saving

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name -> (backend, JAX_ENABLE_X64)
SIDES = {
    "tensorflow": ("tensorflow", "0"),
    "jax-x64": ("jax", "1"),
    "jax": ("jax", "0"),
}
PAIRS = [("tensorflow", "jax"), ("jax-x64", "jax"), ("jax", "jax-x64")]


def run_side(side: str, mode: str, path, out) -> dict:
    backend, x64 = SIDES[side]
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "JAX_ENABLE_X64": x64,
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.metrics.x64_saving", mode, str(path), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    with open(out) as f:
        return json.load(f)


def expected() -> dict[str, float]:
    x, y = x64_saving.data()
    y, s = y[:, 0].astype(int), x[:, 0].astype(np.float64)
    cm = skm.confusion_matrix(y, s > 0.5, labels=[0, 1], normalize="true")
    return {
        "log_loss": skm.log_loss(y, s, labels=[0, 1]),
        "f1": skm.f1_score(y, s > 0.5),
        "auroc": skm.roc_auc_score(y, s),
        "confusion_matrix": cm,
        "r2": skm.r2_score(y, s),
    }


def check(report: dict, side: str) -> None:
    backend, x64 = SIDES[side]
    assert report["backend"] == backend
    two_words = backend == "jax" and x64 == "0"
    assert report["float64_state"] is not two_words
    for name, value in expected().items():
        got = report["results"][name]
        np.testing.assert_allclose(got, value, rtol=0, atol=1e-6, err_msg=side)
    for name, variables in report["variables"].items():
        names = [n for n, _ in variables]
        dtypes = {d for _, d in variables}
        lows = [n for n in names if n.endswith("__lo")]
        if two_words:  # every state has its low word
            assert len(lows) * 2 == len(names), (name, names)
            assert dtypes == {"float32"}, (name, dtypes)
        else:
            assert not lows, (name, names)
            assert dtypes == {"float64"}, (name, dtypes)
    # The requested result dtype is kept in the configuration whatever this
    # process could hold (ConfusionMatrix defaults to float64).
    assert report["configs"]["confusion_matrix"] == "float64"


@pytest.mark.parametrize(("saved", "loaded"), PAIRS, ids=["-".join(p) for p in PAIRS])
def test_keras_file_loads_across_state_representations(tmp_path, saved, loaded):
    path = tmp_path / "model.keras"
    before = run_side(saved, "save", path, tmp_path / "saved.json")
    check(before, saved)
    # No metric variable is in the file: nothing of the state to convert.
    assert not [n for n in before["weights"] if "metric" in n or "__lo" in n]
    after = run_side(loaded, "load", path, tmp_path / "loaded.json")
    check(after, loaded)
    assert after["results"].keys() == before["results"].keys()
    for name, value in before["results"].items():
        np.testing.assert_allclose(after["results"][name], value, atol=1e-6)
