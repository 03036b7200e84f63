"""The JAX side of the `keras.distribution.DataParallel` test.

`KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2
python -m tests.distributed.jax_worker OUT.json` runs `scenario.run()` on
one device and under `DataParallel` over the 2 host CPU devices, and writes
both results to `OUT.json`. Started by `test_jax_data_parallel.py`.

`jax_enable_x64` is on, so the metrics' float64 state is float64 (without
it JAX stores float32; this test's counts would still be exact, but its
weighted sums would be rounded to float32).
"""

import json
import os
import sys


def unsupported_error(data_parallel) -> str:
    """The error of an update under a distribution we do not support.

    A user-defined `keras.distribution.Distribution` (here one that lays
    everything out as `data_parallel` does): refused, since nothing says
    how it splits the metric state.
    """
    # Keras 3.15 exports no base class; a custom distribution subclasses it.
    from keras.src.distribution.distribution_lib import Distribution

    import keras_components as km

    class CustomDistribution(Distribution):
        def __init__(self):
            super().__init__(data_parallel.device_mesh)

        def get_data_layout(self, data_shape):
            return data_parallel.get_data_layout(data_shape)

        def get_variable_layout(self, variable):
            return data_parallel.get_variable_layout(variable)

        def get_tensor_layout(self, path):
            return data_parallel.get_tensor_layout(path)

        def distribute_dataset(self, dataset):
            return data_parallel.distribute_dataset(dataset)

    metric = km.F1()
    with CustomDistribution().scope():
        try:
            metric.update_state([0, 1, 1, 0], [0.2, 0.7, 0.4, 0.1])
        except ValueError as error:
            return str(error)
    return "no error"


def main(out: str) -> None:
    assert os.environ.get("KERAS_BACKEND") == "jax", os.environ.get("KERAS_BACKEND")
    import jax

    jax.config.update("jax_enable_x64", True)
    import keras

    from tests.distributed import scenario

    keras.config.disable_traceback_filtering()
    devices = keras.distribution.list_devices("cpu")
    single = scenario.run()
    distribution = keras.distribution.DataParallel(devices=devices)
    data_parallel = scenario.run(distribution=distribution)
    # The Dense kernels split over a "model" axis of the 2 devices.
    mesh = keras.distribution.DeviceMesh((1, 2), ["batch", "model"], devices)
    layout_map = keras.distribution.LayoutMap(mesh)
    layout_map["dense.*kernel"] = (None, "model")
    model_parallel = scenario.run(
        distribution=keras.distribution.ModelParallel(
            layout_map=layout_map, batch_dim_name="batch"
        )
    )
    result = {
        "devices": [str(d) for d in devices],
        "x64": bool(jax.config.jax_enable_x64),
        "single": single,
        "data_parallel": data_parallel,
        "model_parallel": model_parallel,
        "unsupported": unsupported_error(distribution),
    }
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
