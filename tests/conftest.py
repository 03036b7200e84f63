"""Shared fixtures."""

import keras
import pytest


@pytest.fixture(scope="session")
def mirrored_strategy():
    """MirroredStrategy over the two logical CPUs set up in the root conftest.

    Keras 3.15 crashes (AddN shape mismatch) when a batch does not split evenly
    across replicas, so distributed tests use batch sizes divisible by 2.
    """
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute needs the TensorFlow backend")
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


@pytest.fixture
def mixed_precision_policy(request):
    """Sets the global policy named by the test's parameter, then restores it."""
    keras.mixed_precision.set_global_policy(request.param)
    yield request.param
    keras.mixed_precision.set_global_policy("float32")
