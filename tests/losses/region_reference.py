"""Float64 NumPy reference of the region losses and its finite-difference gradient.

Pure NumPy (no backend import), shared by tests/losses/test_region_gradient.py
(TensorFlow) and tests/losses/backend_region_gradient.py (JAX, PyTorch in a
fresh process). Written from the formulas in DESIGN.md / `dice_loss`: per
sample n and class c, over the kept positions, `I = sum(y p)`, `T = sum(y)`,
`P = sum(p)`; the per-class loss; the class-weighted mean; then Keras's
`"sum_over_batch_size"` reduction with a `(N,)` sample weight.
"""

from __future__ import annotations

import numpy as np

IGNORE = 255
TVERSKY = {"alpha": 0.3, "beta": 0.7, "gamma": 1.5}
SMOOTH = 1e-5


def probabilities(y_pred, mode, from_logits):
    z = np.asarray(y_pred, np.float64)
    if not from_logits:
        return z
    if mode == "multiclass":
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-z))


def objective(
    y,
    y_pred,
    case,
):
    """The reduced loss (a float) for dense float64 targets `y` and `y_pred`."""
    p = probabilities(y_pred, case["mode"], case["from_logits"])
    keep = case.get("keep")
    y = np.asarray(y, np.float64)
    if keep is not None:
        y, p = y * keep, p * keep
    axes = tuple(range(1, y.ndim - 1))
    i, t, q = (y * p).sum(axes), y.sum(axes), p.sum(axes)
    kind = case["kind"]
    if kind == "dice":
        per_class = 1.0 - (2 * i + SMOOTH) / (t + q + SMOOTH)
    elif kind == "jaccard":
        per_class = 1.0 - (i + SMOOTH) / (t + q - i + SMOOTH)
    else:
        a, b, g = TVERSKY["alpha"], TVERSKY["beta"], TVERSKY["gamma"]
        tversky = (i + SMOOTH) / (i + a * (q - i) + b * (t - i) + SMOOTH)
        per_class = (1.0 - tversky) ** g
    w = case.get("class_weights")
    w = np.ones(y.shape[-1]) if w is None else np.asarray(w, np.float64)
    per_sample = (per_class * w).sum(-1) / w.sum()
    sw = case.get("sample_weight")
    sw = np.ones(len(per_sample)) if sw is None else np.asarray(sw, np.float64)
    return float((per_sample * sw).sum() / len(per_sample))


def finite_difference(fn, x, step=1e-6):
    """Central differences of the scalar `fn` at every entry of `x`."""
    x = np.array(x, np.float64)
    grad = np.zeros_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + step
        up = fn(x)
        flat[j] = keep - step
        down = fn(x)
        flat[j] = keep
        out[j] = (up - down) / (2 * step)
    return grad


def cases(seed=0):
    """Random inputs away from every kink: (name, case) pairs.

    Each case holds `kind`, `mode`, `from_logits`, `y_true` (what the loss is
    called with), `dense` (its float64 one-hot / soft form for the
    reference), `differentiable_targets` (dense float targets, whose
    gradient is checked too), `y_pred`, optional `keep` (positions or cells
    that count, from `ignore_index`), `class_weights`, `sample_weight` and
    `kwargs` for the loss constructor.
    """
    rng = np.random.default_rng(seed)
    n, h, w, c = 3, 4, 5, 3
    out = []
    for kind in ("dice", "jaccard", "tversky"):
        for mode in ("binary", "multiclass", "multilabel"):
            for from_logits in (False, True):
                channels = 1 if mode == "binary" else c
                shape = (n, h, w, channels)
                logits = 1.5 * rng.standard_normal(shape)
                if from_logits:
                    y_pred = logits
                elif mode == "multiclass":
                    y_pred = probabilities(logits, "multiclass", True)
                else:
                    y_pred = rng.uniform(0.05, 0.95, shape)
                if mode == "multiclass":
                    # Soft rows (label smoothing of random one-hot rows).
                    hot = np.eye(c)[rng.integers(0, c, shape[:-1])]
                    dense = 0.8 * hot + 0.2 / c
                else:
                    dense = rng.uniform(0.05, 0.95, shape)
                case = {
                    "kind": kind,
                    "mode": mode,
                    "from_logits": from_logits,
                    "y_true": dense,
                    "dense": dense,
                    "differentiable_targets": True,
                    "y_pred": y_pred,
                    "class_weights": None
                    if channels == 1
                    else tuple(rng.uniform(0.5, 2.0, channels)),
                    "sample_weight": rng.uniform(0.5, 2.0, n),
                    "kwargs": {},
                }
                logit_name = "logits" if from_logits else "probs"
                out.append((f"{kind}-{mode}-{logit_name}", case))
        # ignore_index: sparse multiclass labels and binary targets.
        logits = 1.5 * rng.standard_normal((n, h, w, c))
        labels = rng.integers(0, c, (n, h, w))
        ignored = rng.uniform(size=labels.shape) < 0.3
        sparse = np.where(ignored, IGNORE, labels)
        out.append(
            (
                f"{kind}-multiclass-sparse-ignore-logits",
                {
                    "kind": kind,
                    "mode": "multiclass",
                    "from_logits": True,
                    "y_true": sparse,
                    "dense": np.eye(c)[labels] * ~ignored[..., None],
                    "differentiable_targets": False,
                    "y_pred": logits,
                    "keep": (~ignored)[..., None].astype(np.float64),
                    "class_weights": (0.5, 1.0, 2.0),
                    "sample_weight": rng.uniform(0.5, 2.0, n),
                    "kwargs": {"ignore_index": IGNORE},
                },
            )
        )
        targets = rng.integers(0, 2, (n, h, w, 1)).astype(np.float64)
        cells = rng.uniform(size=targets.shape) < 0.3
        out.append(
            (
                f"{kind}-binary-ignore-probs",
                {
                    "kind": kind,
                    "mode": "binary",
                    "from_logits": False,
                    "y_true": np.where(cells, IGNORE, targets),
                    "dense": targets * ~cells,
                    "differentiable_targets": False,
                    "y_pred": rng.uniform(0.05, 0.95, (n, h, w, 1)),
                    "keep": (~cells).astype(np.float64),
                    "class_weights": None,
                    "sample_weight": None,
                    "kwargs": {"ignore_index": IGNORE},
                },
            )
        )
    return out


def reference(case):
    """`(value, d/d y_pred, d/d y_true or None)` by central differences."""
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


def assert_close(name, got, expected, rtol=1e-6):
    """Equal to `rtol` relative to the largest reference entry (finite
    differences in float64 are accurate to about 1e-9 here)."""
    got = np.asarray(got, np.float64)
    scale = float(np.max(np.abs(expected)))
    np.testing.assert_allclose(
        got, expected, rtol=rtol, atol=rtol * scale, err_msg=name
    )
