"""State and compile costs of the metrics on TensorFlow, in this process.

The same checks on JAX and PyTorch (and the TensorFlow retracing-warning
check, which needs a fresh process) run per backend in subprocesses:
tests/test_backends.py runs tests/backend_state.py.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn import metrics as skm

from keras_components import _backend
from keras_components import metrics as km
from tests import backend_state

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow-specific"
)

CASES = backend_state.metric_cases()
BAD = [
    (name, factory, family, how, batch)
    for name, factory, family in CASES
    for how, batch in backend_state.bad_inputs(name, family)
]


NAMES = [c[0] for c in CASES]
BAD_ARGS = ("name", "factory", "family", "how", "bad")


def _ids(cases):
    return [f"{c[0]}-{c[3]}" for c in cases]


@pytest.mark.parametrize(BAD_ARGS, BAD, ids=_ids(BAD))
def test_rejected_eager_update_keeps_state(name, factory, family, how, bad):
    backend_state.assert_rejected_update_keeps_state(
        factory(), backend_state.good_inputs(name, family), bad, f"{name} ({how})"
    )


@pytest.mark.parametrize(BAD_ARGS, BAD, ids=_ids(BAD))
def test_rejected_eager_update_keeps_state_under_mirrored_strategy(
    name, factory, family, how, bad, mirrored_strategy
):
    with mirrored_strategy.scope():
        metric = factory()
        backend_state.assert_rejected_update_keeps_state(
            metric, backend_state.good_inputs(name, family), bad, f"{name} ({how})"
        )


def test_rejected_update_then_valid_updates_match_scikit_learn(mirrored_strategy):
    """After a rejected batch (in and out of a strategy scope) the metric goes on
    as if the batch had never been given."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 64)
    p = rng.random((64, 4)).astype("float32")
    bad = p[:8].copy()
    bad[2, 1] = np.nan
    expected = skm.f1_score(y, p.argmax(-1), average="macro")
    plain = km.F1()
    with mirrored_strategy.scope():
        distributed = km.F1()
    for metric in (plain, distributed):
        metric.update_state(y[:32], p[:32])
        with pytest.raises(ValueError, match="y_pred"):
            metric.update_state(y[:8], bad)
        metric.update_state(y[32:], p[32:])
        np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)


def test_traced_invalid_update_still_turns_the_result_nan():
    """Traced updates cannot raise: they keep adding the invalid count."""
    metric = km.F1()
    p = np.full((4, 3), 1 / 3, "float32")
    metric.update_state([0, 1, 2, 0], p)
    bad = p.copy()
    bad[0, 0] = np.nan
    tf.function(metric.update_state, jit_compile=True)(
        tf.constant([0, 1, 2, 0]), tf.constant(bad)
    )
    assert np.isnan(float(metric.result()))


def test_invalid_counts_of_any_shape():
    backend_state.check_invalid_counts_of_any_shape()
    # Traced, the counts by reason and the sums are added: the state says why.
    update = _backend.accumulator(backend_state.counting_kernel)
    state = backend_state.counting_state()
    tf.function(lambda x: update(state, x))(tf.constant([1.0, np.nan, np.inf]))
    np.testing.assert_array_equal(state["invalid"].numpy(), [1, 1, 0])
    assert state["total"].numpy() == 1.0


def test_eager_updates_trace_once_for_any_batch_size():
    """Five eager updates on five batch sizes trace the kernel once, and the
    result equals scikit-learn's on all the data (no timing involved)."""
    rng = np.random.default_rng(5)
    # A configuration no other test uses, so nothing is compiled for it yet.
    metric = km.F1(task="multiclass", num_classes=7, ignore_index=-3)
    sizes = [40, 17, 33, 8, 61]
    ys, ps = [], []
    before = _backend.tracing_count()
    for n in sizes:
        ys.append(rng.integers(0, 7, n))
        ps.append(rng.random((n, 7)).astype("float32"))
        metric.update_state(ys[-1], ps[-1])
    assert _backend.tracing_count() - before == 1
    # A batch size that comes back is compiled with XLA for it, once.
    for _ in range(3):
        ys.append(rng.integers(0, 7, 61))
        ps.append(rng.random((61, 7)).astype("float32"))
        metric.update_state(ys[-1], ps[-1])
    assert _backend.tracing_count() - before == 2
    y, p = np.concatenate(ys), np.concatenate(ps)
    expected = skm.f1_score(y, p.argmax(-1), average="macro")
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-6)


def test_eager_update_batch_size_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"y_true.shape=\(5,\)"):
        km.F1().update_state(np.zeros(5), np.zeros((4, 3), "float32"))


@pytest.mark.parametrize(("name", "factory", "family"), CASES, ids=NAMES)
def test_deleted_metric_is_garbage_collectable(name, factory, family):
    backend_state.assert_collectable(
        factory, backend_state.good_inputs(name, family), name
    )


def test_metric_in_a_deleted_model_is_garbage_collectable():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, 32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    metric = km.F1(from_logits=True)
    model.compile(loss="sparse_categorical_crossentropy", metrics=[metric])
    model.evaluate(x, y, batch_size=16, verbose=0)
    import gc
    import weakref

    ref = weakref.ref(metric)
    del model, metric
    gc.collect()
    assert ref() is None
