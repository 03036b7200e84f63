"""`keras.distribution.DataParallel` on JAX over 2 host CPU devices.

A subprocess (`python -m tests.distributed.jax_worker OUT.json` with
`KERAS_BACKEND=jax` and `XLA_FLAGS=--xla_force_host_platform_device_count=2`)
runs `scenario.run()` on one device, under `DataParallel` and under
`ModelParallel` (Dense kernels split over a "model" axis); here the results
are checked: metrics equal scikit-learn on the predictions and the
one-device run (1e-6), losses and weights to float32 tolerance. An update
under a user-defined `Distribution` is refused, naming it.

Skipped where jax is not installed, except on CI (`CI` set), where that
fails (CI installs it, see .ci/run).
"""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from tests.distributed import scenario

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TIMEOUT = 240  # seconds


@pytest.fixture(scope="module")
def jax_results(tmp_path_factory):
    if importlib.util.find_spec("jax") is None:
        if os.environ.get("CI"):
            pytest.fail("jax is not installed on CI (see .ci/run)")
        pytest.skip("jax is not installed")
    out = tmp_path_factory.mktemp("jax") / "result.json"
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        "JAX_PLATFORMS": "cpu",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": ROOT,
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.distributed.jax_worker", str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads(out.read_text())


def test_two_host_devices_with_x64(jax_results):
    assert len(jax_results["devices"]) == 2, jax_results["devices"]
    assert jax_results["x64"]


def test_one_device_matches_sklearn(jax_results):
    scenario.assert_matches_sklearn(jax_results["single"], "JAX, one device")


def test_data_parallel_equals_one_device_and_sklearn(jax_results):
    result = jax_results["data_parallel"]
    scenario.assert_matches_sklearn(result, "JAX DataParallel")
    scenario.assert_same_run(result, jax_results["single"], "JAX DataParallel")


def test_model_parallel_equals_one_device_and_sklearn(jax_results):
    result = jax_results["model_parallel"]
    scenario.assert_matches_sklearn(result, "JAX ModelParallel")
    scenario.assert_same_run(result, jax_results["single"], "JAX ModelParallel")


def test_another_distribution_is_refused_naming_it(jax_results):
    message = jax_results["unsupported"]
    assert "does not support the Keras distribution CustomDistribution" in message
    assert "Supported: DataParallel, ModelParallel" in message
