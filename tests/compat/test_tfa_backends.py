"""compat.tfa on JAX and PyTorch, each in a fresh process (backend_tfa.py)."""

import pytest

from tests.test_backends import run_on_backend


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_tfa_compat_on_backend(backend):
    out = run_on_backend(backend, "tests.compat.backend_tfa", timeout=600)
    assert f"tfa backend OK: {backend}" in out
