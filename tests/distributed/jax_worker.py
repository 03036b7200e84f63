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
    result = {
        "devices": [str(d) for d in devices],
        "x64": bool(jax.config.jax_enable_x64),
        "single": single,
        "data_parallel": data_parallel,
    }
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
