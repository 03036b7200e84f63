"""Fixtures of the distributed tests: the single-device reference run."""

import pytest

from tests.distributed import scenario


@pytest.fixture(scope="session")
def single_device_run():
    """`scenario.run()` on one device (TensorFlow, the default strategy)."""
    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the reference run of the tf.distribute tests")
    return scenario.run()
