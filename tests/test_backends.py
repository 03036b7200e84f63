"""The other Keras backends, each in a fresh process (a backend is fixed at import).

Skipped where the backend is not installed (the test extra installs neither
JAX nor PyTorch; install `.[jax]` or `.[torch]` to run these).
"""

import importlib.util
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_smoke(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.backend_smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert f"backend smoke OK: {backend}" in done.stdout
