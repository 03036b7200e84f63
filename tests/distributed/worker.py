"""One worker of the `MultiWorkerMirroredStrategy` test.

`TF_CONFIG=... python -m tests.distributed.worker OUT.json` runs
`scenario.run()` under `tf.distribute.MultiWorkerMirroredStrategy` (one CPU
device per worker, the cluster in `TF_CONFIG`) and writes the result to
`OUT.json`. Started by `test_multi_worker.py`, one process per worker.
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def reduce_nests(strategy) -> None:
    """Works around two Keras 3.15 bugs of `fit` under `MultiWorkerMirroredStrategy`.

    1. Before the first step, `fit` calls `strategy.reduce("MEAN", batch)`
       on the whole `(x, y, sample_weight)` tuple of per-replica values
       (Keras's `_maybe_symbolic_build`); the strategy's `reduce` takes one
       value, not a nest: "Attempt to convert a value (PerReplica:...) with
       an unsupported type (<class '...PerReplica'>) to a Tensor"
       (keras-team/keras#20585).
    2. Every step, Keras averages each replica's scalar logs with
       `strategy.reduce("MEAN", v, axis=0)` (its `reduce_per_replica`):
       "Invalid reduction dimension 0 for input with 0 dimensions".

    This reduces each leaf of a nest, a scalar across replicas only (what
    Keras means in both places). It patches only this strategy object. The
    epoch logs Keras reports (and every metric result) are read from the
    summed state in cross-replica context, not from these per-step means.
    """
    reduce = strategy.reduce

    def reduce_leaf(reduce_op, v, axis):
        values = getattr(v, "values", (v,))
        if axis is not None and all(len(x.shape) == 0 for x in values):
            axis = None
        return reduce(reduce_op, v, axis)

    def reduce_each(reduce_op, value, axis=None):
        import tensorflow as tf

        return tf.nest.map_structure(lambda v: reduce_leaf(reduce_op, v, axis), value)

    strategy.reduce = reduce_each


def main(out: str) -> None:
    import keras
    import tensorflow as tf

    keras.config.disable_traceback_filtering()  # full tracebacks in the logs
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    reduce_nests(strategy)
    from tests.distributed import scenario

    result = scenario.run(strategy=strategy)
    result["num_replicas_in_sync"] = strategy.num_replicas_in_sync
    result["task"] = json.loads(os.environ["TF_CONFIG"])["task"]
    with open(out + ".part", "w") as f:
        json.dump(result, f)
    os.replace(out + ".part", out)  # the test reads complete files only


if __name__ == "__main__":
    main(sys.argv[1])
    sys.stdout.flush()
    sys.stderr.flush()
    # TensorFlow's collective runtime can hang in interpreter teardown; the
    # result is written, so leave now.
    os._exit(0)
