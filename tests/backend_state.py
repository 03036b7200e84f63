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

import functools
import gc
import logging
import os
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
    from tests.helpers import REQUIRED_ARGUMENTS

    families = {
        "AUROC": "score",
        "AUPRC": "score",
        "PrecisionAtRecall": "score",
        "RecallAtPrecision": "score",
        "SensitivityAtSpecificity": "score",
        "SpecificityAtSensitivity": "score",
        "BestThreshold": "score",
        "LogLoss": "score",
        "R2": "regression",
        "RMSE": "regression",
        "MAE": "regression",
        "MSLE": "regression",
    }
    cases = []
    for name in metrics.__all__:
        required = REQUIRED_ARGUMENTS.get(name, {})
        factory = functools.partial(getattr(metrics, name), **required)
        cases.append((name, factory, families.get(name, "class")))
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


def _words(metric: Any) -> dict[str, np.ndarray]:
    """The state by name in float64, each two-word pair (no x64) summed."""
    from keras_components import _backend

    raw = {v.name: np.asarray(v.numpy(), np.float64) for v in metric.variables}
    return _backend.fold_words(raw)


def check_two_word_state() -> None:
    """Without float64 (JAX, no x64) every state is two float32 words, updated
    exactly through the one accumulate / replace / merge path."""
    from keras_components import _backend, metrics

    names = {v.name for v in metrics.F1(num_classes=3).variables}
    want = {"invalid", "invalid" + _backend.LOW_SUFFIX}
    if _backend.float64_state():
        want = {"invalid"}
    if not want <= names:
        raise AssertionError(f"state variables {sorted(names)}")
    for metric in (metrics.F1(num_classes=3), metrics.AUROC(), metrics.R2()):
        metric.update_state(*good_inputs(type(metric).__name__, _family(metric)))
        clone = type(metric).from_config(metric.get_config())
        if clone.get_config() != metric.get_config():
            raise AssertionError("the low words leaked into the configuration")
        metric.reset_state()
        if any(np.any(np.asarray(v.numpy()) != 0) for v in metric.variables):
            raise AssertionError(f"{type(metric).__name__}: reset left state")


def _family(metric: Any) -> str:
    return {"AUROC": "score", "R2": "regression"}.get(type(metric).__name__, "class")


def check_exact_counts_across_batches() -> None:
    """Counts past 2**24 and epochs of more than 2**25 positions stay exact on
    every backend (two float32 words where float64 is unavailable): 2**24 + 2
    over three batches (float32 stays at 2**24) in F1, IoU and AUROC, F1's
    confusion counts and AUROC's histogram over 9 batches of 2**22, and the
    AUROC of tied scores (an exact Mann-Whitney count)."""
    from keras_components import metrics

    big = 2**24
    one, score = np.ones(1, "int32"), np.full(1, 0.9, "float32")
    for metric in (
        metrics.F1(task="binary"),
        metrics.IoU(task="binary"),
        metrics.AUROC(task="binary"),
    ):
        # A weight of 2**24, then 1 and 1: 2**24 + 2 (float32 stays at 2**24).
        for weight in (big, 1, 1):
            metric.update_state(one, score, np.full(1, weight, "float32"))
        for name, counts in _words(metric).items():
            if name in ("confusion", "histogram") and counts.max() != big + 2:
                raise AssertionError(f"{type(metric).__name__}: {counts.max()}")
    # An epoch of 9 batches of 2**22 positions (> 2**25; one batch, given
    # 9 times, so the reference is 9 times its counts), scores on 4 levels.
    rng = np.random.default_rng(13)
    f1 = metrics.F1(num_classes=3)
    auroc = metrics.AUROC(task="binary")
    levels = np.array([0.2, 0.4, 0.6, 0.8], "float32")
    n, repeats = 2**22, 9
    labels = rng.integers(0, 3, n)
    guess = np.where(rng.random(n) < 0.7, labels, rng.integers(0, 3, n))
    probs = np.full((n, 3), 0.1, "float32")
    probs[np.arange(n), guess] = 0.8
    binary = labels % 2
    level = np.minimum(rng.integers(0, 4, n) + binary, 3)
    for _ in range(repeats):
        f1.update_state(labels, probs)
        auroc.update_state(binary, levels[level])
    confusion = repeats * np.bincount(labels * 3 + guess, minlength=9).reshape(3, 3)
    table = repeats * np.bincount(binary * 4 + level, minlength=8).reshape(2, 4)
    got = _words(f1)["confusion"]
    if not np.array_equal(got, confusion):
        raise AssertionError(f"F1: {got} != {confusion}")
    histogram = _words(auroc)["histogram"][0]  # (2, bins): one class
    for row, want in zip(histogram, table, strict=True):
        if sorted(row[row > 0]) != sorted(want[want > 0]):
            raise AssertionError(f"AUROC histogram counts {row[row > 0]} != {want}")
    neg, pos = table.astype(np.float64)
    below = np.cumsum(neg) - neg
    want = np.sum(pos * (below + neg / 2)) / (pos.sum() * neg.sum())
    got = float(np.asarray(auroc.result()))
    if abs(got - want) > 1e-6:
        raise AssertionError(f"AUROC {got} != {want}")


def check_sums_across_batches() -> None:
    """LogLoss, RMSE and R2 (targets at 1e6 + noise) over many batches equal
    float64 references / scikit-learn within 1e-6; `merge_state` of two halves
    equals one metric on all the data (counts exactly)."""
    from sklearn import metrics as skm

    from keras_components import metrics

    rng = np.random.default_rng(17)
    n, batch = 2**17, 2**10
    labels = rng.integers(0, 2, n)
    scores = rng.uniform(0.01, 0.99, n).astype("float32")
    target = (1e6 + rng.normal(size=n)).astype("float32")
    pred = (target + 0.3 * rng.normal(size=n)).astype("float32")
    t64, p64, s64 = (a.astype(np.float64) for a in (target, pred, scores))
    cases = (
        (metrics.LogLoss, (labels, scores), skm.log_loss(labels, s64)),
        (metrics.RMSE, (target, pred), skm.root_mean_squared_error(t64, p64)),
        (metrics.R2, (target, pred), skm.r2_score(t64, p64)),
        (metrics.F1, (labels, scores), skm.f1_score(labels, scores > 0.5)),
    )
    for cls, (a, b), want in cases:
        whole, first, second = cls(), cls(), cls()
        for i in range(0, n, batch):
            whole.update_state(a[i : i + batch], b[i : i + batch])
            half = first if i < n // 2 else second
            half.update_state(a[i : i + batch], b[i : i + batch])
        first.merge_state([second])
        for what, metric in (("streamed", whole), ("merged", first)):
            got = float(np.asarray(metric.result()))
            if not np.isclose(got, want, rtol=1e-6, atol=1e-6):
                raise AssertionError(f"{cls.__name__} {what}: {got} != {want}")
        state, merged = _words(whole), _words(first)
        for name in ("confusion", "total_weight", "weight_sum", "count"):
            if name in state and not np.array_equal(state[name], merged[name]):
                raise AssertionError(f"{cls.__name__} merged {name} differs")


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
    x64 = os.environ.get("KC_JAX_X64", "1") == "1"
    if backend == "jax" and x64:
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 metric state
    if backend == "tensorflow":
        check_no_retracing_warnings()  # first: in a process with nothing traced
    check_rejected_updates()
    check_invalid_counts_of_any_shape()
    check_mean_error_results()
    check_collectable()
    check_two_word_state()
    check_exact_counts_across_batches()
    check_sums_across_batches()
    if backend != "jax" or x64:
        # One batch past 2**24 per cell: float32 increments (JAX without
        # x64) are exact only below 2**24 per cell and batch.
        check_exact_counts()
    words = "" if backend != "jax" or x64 else " (no x64)"
    print(f"backend state OK: {backend}{words}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
