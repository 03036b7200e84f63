"""The other Keras backends, each in a fresh process (a backend is fixed at import).

- tests/backend_smoke.py: every family on JAX and PyTorch against
  independent references.
- tests/backend_state.py: metric state (rejected updates, results, garbage
  collection, exact counts) on JAX (with and without `jax_enable_x64`) and
  PyTorch, and on TensorFlow the checks that need a process where nothing
  was traced yet (retracing warnings).

Skipped where a backend is not installed (install `.[jax]` / `.[torch]`),
except on CI (`CI` set), which installs both: there a missing backend fails.
"""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_on_backend(
    backend: str, module: str, *, timeout: int, env: dict | None = None
) -> str:
    if importlib.util.find_spec(backend) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{backend} is not installed on CI (see .ci/run)")
        pytest.skip(f"{backend} is not installed")
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **(env or {}),
    }
    done = subprocess.run(
        [sys.executable, "-m", module],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return done.stdout


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_smoke(backend):
    out = run_on_backend(backend, "tests.backend_smoke", timeout=600)
    assert f"backend smoke OK: {backend}" in out


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_backend_state(backend):
    out = run_on_backend(backend, "tests.backend_state", timeout=600)
    assert f"backend state OK: {backend}\n" in out


def test_backend_state_on_jax_without_x64():
    """JAX's default (no `jax_enable_x64`): state kept as two float32 words,
    exact past 2**24 with no global flag."""
    out = run_on_backend(
        "jax", "tests.backend_state", timeout=600, env={"KC_JAX_X64": "0"}
    )
    assert "backend state OK: jax (no x64)" in out
