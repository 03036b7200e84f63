"""Test-wide settings, loaded before any test module or doctest imports Keras."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

collect_ignore = ["benchmarks/__main__.py", "keras_components/__main__.py"]


def _split_cpu_into_two_devices() -> None:
    """Two logical CPUs, so `tf.distribute.MirroredStrategy` tests can run.

    Must happen before TensorFlow initialises its devices, i.e. here.
    """
    if os.environ["KERAS_BACKEND"] != "tensorflow":
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )


_split_cpu_into_two_devices()
