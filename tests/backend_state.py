"""Metric state and compile costs on one backend, run in a fresh process.

Usage: KERAS_BACKEND=jax python -m tests.backend_state

Run per backend by test_backends.py (a backend is fixed at import, and a
fresh process has no compiled functions or TensorFlow retracing statistics
left by other tests). The checks are also imported by the in-process
TensorFlow tests (tests/test_backend_state.py):

- a rejected eager update (invalid input, `ValueError`) leaves every state
  variable exactly as it was, for every public metric, and in
  `_backend.accumulator` for `invalid` counts of any shape (by reason);
- `RMSE`, `MAE` and `MSLE` read their results (they crashed on JAX);
- a deleted metric is garbage-collectable (no compiled-function cache holds
  it or its state);
- weighted and unweighted counts stay exact past 2**24 in one batch (Keras's
  `segment_sum` accumulates in float32 on PyTorch);
- TensorFlow only: many metrics of many configurations, updated eagerly on
  several batch sizes, log no "retracing" warning.
"""

from __future__ import annotations

import gc
import logging
import sys
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

N = 24  # even: MirroredStrategy over two CPUs splits batches evenly


def _inputs(family: str, n: int = N, seed: int = 0):
    """Valid `(y_true, y_pred, sample_weight)` of one metric family."""
    rng = np.random.default_rng(seed)
    if family == "class":
        y_true = np.arange(n) % 3
        logits = rng.normal(size=(n, 3))
        y_pred = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        return y_true, y_pred.astype("float32"), None
    if family == "score":
        y_true = np.arange(n) % 2
        return y_true, rng.uniform(0.05, 0.95, n).astype("float32"), None
    y_true = rng.normal(size=n).astype("float32")
    return y_true, (y_true + 0.1 * rng.normal(size=n)).astype("float32"), None


def _bad(family: str, how: str):
    y_true, y_pred, weights = _inputs(family, seed=1)
    y_pred, weights = y_pred.copy(), np.ones(len(y_true), "float32")
    if how == "nan y_pred":
        y_pred[3] = np.nan
        return y_true, y_pred, None
    if how == "bad label":
        return np.where(np.arange(len(y_true)) == 3, 7, y_true), y_pred, None
    weights[3] = np.nan  # "nan sample_weight"
    return y_true, y_pred, weights


def metric_cases() -> list[tuple[str, Callable[[], Any], str]]:
    """`(name, factory, family)` for every public metric class."""
    from keras_components import metrics

    families = {
        "AUROC": "score",
        "AUPRC": "score",
        "LogLoss": "score",
        "R2": "regression",
        "RMSE": "regression",
        "MAE": "regression",
        "MSLE": "regression",
    }
    cases = []
    for name in metrics.__all__:
        cases.append((name, getattr(metrics, name), families.get(name, "class")))
    return cases


def bad_inputs(name: str, family: str) -> list[tuple[str, tuple]]:
    """Invalid batches a metric must reject eagerly."""
    hows = ["nan y_pred"]
    if family in ("class", "score"):
        hows.append("bad label")
    if family == "regression":
        hows.append("nan sample_weight")
    return [(how, _shifted(name, _bad(family, how))) for how in hows]


def good_inputs(name: str, family: str, n: int = N, seed: int = 0) -> tuple:
    return _shifted(name, _inputs(family, n, seed))


def _shifted(name: str, batch: tuple) -> tuple:
    """MSLE takes non-negative targets."""
    if name != "MSLE":
        return batch
    y_true, y_pred, weights = batch
    return np.abs(y_true), np.abs(y_pred), weights


def state_of(metric: Any) -> dict[str, np.ndarray]:
    """Every state variable's value (summed over replicas when distributed)."""
    return {v.path: np.array(v.numpy(), copy=True) for v in metric.variables}


def assert_rejected_update_keeps_state(
    metric: Any, good: tuple, bad: tuple, what: str
) -> None:
    """`bad` raises `ValueError`, leaving the state exactly as `good` left it."""
    metric.update_state(*good)
    before = state_of(metric)
    try:
        metric.update_state(*bad)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{what}: the invalid batch was accepted")
    after = state_of(metric)
    changed = [
        k for k in before if not np.array_equal(before[k], after[k], equal_nan=True)
    ]
    if changed:
        raise AssertionError(f"{what}: the rejected update changed {changed}")


def check_rejected_updates() -> None:
    for name, factory, family in metric_cases():
        for how, bad in bad_inputs(name, family):
            assert_rejected_update_keeps_state(
                factory(), good_inputs(name, family), bad, f"{name} ({how})"
            )


def counting_kernel(x: Any) -> dict[str, Any]:
    """A kernel whose `invalid` increment is a vector of counts by reason."""
    from keras import ops

    nan = ops.sum(ops.cast(ops.isnan(x), "float64"))
    inf = ops.sum(ops.cast(ops.isinf(x), "float64"))
    finite = ops.where(ops.isfinite(x), x, ops.zeros_like(x))
    return {
        "total": ops.sum(ops.cast(finite, "float64")),
        "invalid": ops.stack([nan, inf, ops.zeros_like(nan)]),
    }


def counting_state() -> dict[str, Any]:
    import keras

    return {
        "total": keras.Variable(np.zeros(()), dtype="float64", name="total"),
        "invalid": keras.Variable(np.zeros(3), dtype="float64", name="invalid"),
    }


def check_invalid_counts_of_any_shape() -> None:
    """`_backend.accumulator` with `invalid` counted by reason, `(R,)`: a valid
    batch is added, an invalid eager one leaves every variable as it was."""
    from keras_components import _backend

    update = _backend.accumulator(counting_kernel)
    state = counting_state()
    update(state, np.array([1.0, 2.0], "float32"))
    increments = update(state, np.array([3.0, np.inf], "float32"))
    got = {k: np.asarray(v.numpy()) for k, v in state.items()}
    counted = np.asarray(increments["invalid"])
    if got["total"] != 3.0 or got["invalid"].tolist() != [0, 0, 0]:
        raise AssertionError(f"a rejected update changed the state: {got}")
    if counted.tolist() != [0, 1, 0]:
        raise AssertionError(f"invalid counts by reason: {counted}")


def check_mean_error_results() -> None:
    """`RMSE`, `MAE`, `MSLE` against float64 NumPy (they crashed on JAX)."""
    from keras_components import metrics

    y_true, y_pred, _ = _shifted("MSLE", _inputs("regression"))
    t, p = y_true.astype(np.float64), y_pred.astype(np.float64)
    expected = {
        metrics.RMSE: np.sqrt(np.mean((t - p) ** 2)),
        metrics.MAE: np.mean(np.abs(t - p)),
        metrics.MSLE: np.mean((np.log1p(t) - np.log1p(p)) ** 2),
    }
    for cls, want in expected.items():
        metric = cls()
        metric.update_state(y_true, y_pred)
        got = float(np.asarray(metric.result()))
        if not np.isclose(got, want, rtol=1e-6, atol=0):
            raise AssertionError(f"{cls.__name__}: got {got}, expected {want}")


def assert_collectable(factory: Callable[[], Any], batch: tuple, what: str) -> None:
    """A metric updated (eager, then compiled paths) and read is freed on `del`."""
    metric = factory()
    for _ in range(3):  # the second same-shape update compiles (XLA on TF)
        metric.update_state(*batch)
    metric.result()
    ref = weakref.ref(metric)
    state = [weakref.ref(v) for v in metric.variables]
    del metric
    gc.collect()
    if ref() is not None:
        raise AssertionError(f"{what}: a deleted metric is still referenced")
    if any(r() is not None for r in state):
        raise AssertionError(f"{what}: a deleted metric's state is still referenced")


def check_collectable() -> None:
    for name, factory, family in metric_cases():
        assert_collectable(factory, good_inputs(name, family), name)


def check_exact_counts() -> None:
    """Counts past 2**24 in one batch stay exact (float32 would round them)."""
    from keras_components import metrics

    big = 2**24
    # Weighted: weights 2**24, 1 and 1, the first two in one cell.
    weights = np.array([big, 1, 1], "float64")
    y_true = np.array([1, 1, 0])
    for metric, y_pred in (
        (metrics.ConfusionMatrix(task="binary"), [0.9, 0.8, 0.1]),
        (metrics.AUROC(num_thresholds=4), [0.9, 0.9, 0.1]),
    ):
        metric.update_state(y_true, np.array(y_pred, "float32"), weights)
        _assert_counts(metric, largest=big + 1, total=big + 2)
    # Both positives (2**24 + 1) rank above the negative: 2**24 + 1 pairs.
    (wins,) = [v for k, v in state_of(metric).items() if k.endswith("wins")]
    if wins.tolist() != [big + 1]:
        raise AssertionError(f"AUROC: pair count {wins} (expected {big + 1})")
    # Unweighted: 2**24 + 3 equal scores in one bin.
    n = big + 3
    metric = metrics.AUROC(num_thresholds=4)
    metric.update_state(np.ones(n, "int32"), np.full(n, 0.9, "float32"))
    _assert_counts(metric, largest=n, total=n)


def _assert_counts(metric: Any, *, largest: float, total: float) -> None:
    counts = np.concatenate(
        [
            v.ravel()
            for k, v in state_of(metric).items()
            # AUROC's `blocks` (sums of bins) and `wins` (pair counts) are
            # derived from the counts; `check_exact_counts` checks `wins`.
            if not k.endswith(("invalid", "blocks", "wins"))
        ]
    )
    if counts.max() != largest or counts.sum() != total:
        raise AssertionError(
            f"{type(metric).__name__}: largest count {counts.max()} (expected "
            f"{largest}), total {counts.sum()} (expected {total})"
        )


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def check_no_retracing_warnings() -> None:
    """Many metrics (distinct configurations, several batch sizes), updated and
    read eagerly, log no TensorFlow retracing warning."""
    from keras_components import metrics

    records = _Records()
    logger = logging.getLogger("tensorflow")
    logger.addHandler(records)
    try:
        for i in range(20):
            n = 2 * (10 + i % 5)  # five batch sizes
            c = 3 + i % 7  # seven class counts
            rng = np.random.default_rng(i)
            labels = rng.integers(0, c, n)
            scores = rng.random((n, c)).astype("float32")
            binary, score = np.arange(n) % 2, scores[:, 0]
            target = rng.normal(size=(n, 1 + i % 3)).astype("float32")
            for metric, batch in (
                (metrics.F1(num_classes=c), (labels, scores)),
                (metrics.AUROC(num_thresholds=64 + i), (binary, score)),
                (metrics.R2(), (target, target + 0.1)),
            ):
                metric.update_state(*batch)
                metric.result()
    finally:
        logger.removeHandler(records)
    retracing = [m for m in records.messages if "retracing" in m]
    if retracing:
        raise AssertionError(f"TensorFlow retracing warnings: {retracing[:2]}")


def main() -> int:
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 metric state
    if backend == "tensorflow":
        check_no_retracing_warnings()  # first: in a process with nothing traced
    check_rejected_updates()
    check_invalid_counts_of_any_shape()
    check_mean_error_results()
    check_collectable()
    check_exact_counts()
    print(f"backend state OK: {backend}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
