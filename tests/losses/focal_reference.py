"""Float64 NumPy reference of the categorical focal loss and its gradient.

Pure NumPy (no backend import), shared by tests/losses/test_focal_gradient.py
(TensorFlow) and tests/losses/backend_focal_gradient.py (JAX, PyTorch in a
fresh process). Written from the formula in `focal_loss`: per sample,
`-sum_c alpha_c * y_c * (1 - p_c)**gamma * log p_c` with `p = softmax(z)`,
label-smoothed targets `y * (1 - s) + s / C` (zero on `ignore_index` rows),
then Keras's `"sum_over_batch_size"` reduction with a sample weight
(over the kept positions only when some are ignored). Gradients by central
differences of that function.
"""

from __future__ import annotations

import numpy as np

from tests.losses.region_reference import assert_close, finite_difference

__all__ = ["assert_close", "cases", "reference"]

IGNORE = -1


def objective(y, z, case):
    """The reduced loss (a float) for dense float64 targets `y` and logits `z`."""
    z = np.asarray(z, np.float64)
    y = np.asarray(y, np.float64)
    c = z.shape[-1]
    shifted = z - z.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    p = np.exp(log_p)
    s = case["kwargs"].get("label_smoothing", 0.0)
    keep = case.get("keep")
    if s:
        y = y * (1.0 - s) + s / c
        if keep is not None:
            y = y * keep[..., None]
    alpha = case["kwargs"].get("alpha")
    a = y if alpha is None else y * np.asarray(alpha, np.float64)
    gamma = case["kwargs"]["gamma"]
    values = -(a * (1.0 - p) ** gamma * log_p).sum(-1)
    sw = case.get("sample_weight")
    if sw is not None:
        sw = np.asarray(sw, np.float64)
        values = values * sw.reshape(sw.shape + (1,) * (values.ndim - sw.ndim))
    if keep is not None:
        return float((values * keep).sum() / keep.sum())
    return float(values.mean())


def cases(seed=0):
    """(name, case) pairs: logits away from `q = 0`, so that central
    differences are accurate for every gamma (`q = 0` is tested apart).

    Each case holds `y_true` (what the loss is called with), `dense` (its
    float64 one-hot / soft form), `differentiable_targets`, `y_pred`
    (logits), optional `keep` (positions kept by `ignore_index`),
    `sample_weight` and the FocalLoss `kwargs` (`from_logits` always).
    """
    rng = np.random.default_rng(seed)
    n, c = 6, 4
    alpha = tuple(rng.uniform(0.25, 2.0, c))
    out = []
    for gamma in (2.0, 0.0, 0.5, 1.0, 3.5):
        for smoothing in (0.0, 0.1):
            for weighted in (False, True):
                logits = 1.5 * rng.standard_normal((n, c))
                hot = np.eye(c)[rng.integers(0, c, n)]
                soft = rng.dirichlet(np.ones(c), n)
                dense = 0.7 * hot + 0.3 * soft  # soft rows summing to 1
                kwargs = {"gamma": gamma, "label_smoothing": smoothing}
                if weighted:
                    kwargs["alpha"] = alpha
                name = f"gamma{gamma}-s{smoothing}-{'alpha' if weighted else 'plain'}"
                out.append(
                    (
                        name,
                        {
                            "y_true": dense,
                            "dense": dense,
                            "differentiable_targets": True,
                            "y_pred": logits,
                            "sample_weight": rng.uniform(0.5, 2.0, n)
                            if weighted
                            else None,
                            "kwargs": kwargs,
                        },
                    )
                )
    # Sparse labels with ignore_index, (N, L, C) sequences, smoothing.
    for gamma in (2.0, 0.5):
        shape = (3, 5, c)
        logits = 1.5 * rng.standard_normal(shape)
        labels = rng.integers(0, c, shape[:-1])
        ignored = rng.uniform(size=labels.shape) < 0.3
        out.append(
            (
                f"gamma{gamma}-sparse-ignore",
                {
                    "y_true": np.where(ignored, IGNORE, labels),
                    "dense": np.eye(c)[labels] * ~ignored[..., None],
                    "differentiable_targets": False,
                    "y_pred": logits,
                    "keep": (~ignored).astype(np.float64),
                    # Per-position weights: an (N,) weight with a mask on
                    # (N, L) values fails in Keras 3.15's torch reduction
                    # (an in-place product on a broadcast tensor).
                    "sample_weight": rng.uniform(0.5, 2.0, shape[:-1]),
                    "kwargs": {
                        "gamma": gamma,
                        "alpha": alpha,
                        "label_smoothing": 0.1,
                        "ignore_index": IGNORE,
                    },
                },
            )
        )
    return out


def reference(case):
    """`(value, d/d logits, d/d y_true or None)`, float64."""
    value = objective(case["dense"], case["y_pred"], case)
    grad_pred = finite_difference(
        lambda x: objective(case["dense"], x, case), case["y_pred"]
    )
    grad_true = None
    if case["differentiable_targets"]:
        grad_true = finite_difference(
            lambda x: objective(x, case["y_pred"], case), case["dense"]
        )
    return value, grad_pred, grad_true
