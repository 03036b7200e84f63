"""The claims, side by side: Keras's value, ours, and an independent reference.

`keras-components bench claims` (or `python -m benchmarks claims`) prints one
row per claim in the README's and DESIGN.md's "what we promise instead"
table, on the data the claim names:

- `R2Score` on float32 targets around 1e4 and 1e5, streamed over 100 batches,
  against scikit-learn's `r2_score` in float64;
- `CategoricalFocalCrossentropy(from_logits=True)` at logits +-100 and +-1e4,
  value and gradient, against the float64 formula;
- `Dice` / `Tversky` on an empty mask predicted empty, and which error
  Tversky's `alpha` weighs, against the float64 formula;
- `F1Score` on sparse labels and on masks of rank > 2 (Keras rejects both),
  against scikit-learn's `f1_score` on the flattened data;
- `AUC(num_thresholds=200)` (ROC and PR) on 65536 saturated sigmoid scores,
  against `roc_auc_score` and `average_precision_score`.

The Keras column is printed, never checked: it is whatever the installed
Keras returns (later releases may fix some of these). The "holds" column
checks only our value against the reference, with the tolerance the claim
states. The time claim (Mish at most 1.3x SiLU's forward+backward time) is
measured by `keras-components bench activations`.

Needs scikit-learn (`pip install "keras-components[demo]"`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from keras_components import losses, metrics


@dataclasses.dataclass(frozen=True)
class Claim:
    """One row of the claims table.

    Attributes:
        claim: What is compared, on which data.
        keras: What Keras's built-in gives (a value, or "rejects: ...").
        ours: What our component gives.
        reference: The independent reference value (scikit-learn or float64).
        promise: What we promise, against the reference.
        holds: Whether our value meets the promise.
    """

    claim: str
    keras: str
    ours: str
    reference: str
    promise: str
    holds: bool


def _sklearn():
    try:
        import sklearn.metrics
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ModuleNotFoundError(
            "`keras-components bench claims` compares against scikit-learn, which "
            'is not installed. Install it with: pip install "keras-components[demo]"'
        ) from error
    return sklearn.metrics


def _number(value: Any) -> str:
    return f"{float(value):.6g}"


def _vector(values: Any) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in np.ravel(values)) + "]"


def _streamed(metric, y_true, y_pred, *, batches: int = 1) -> np.ndarray:
    for rows in np.array_split(np.arange(len(y_true)), batches):
        metric.update_state(y_true[rows], y_pred[rows])
    return np.asarray(keras.ops.convert_to_numpy(metric.result()), np.float64)


def _keras_value(fn: Callable[[], Any]) -> str:
    """`fn()` formatted, or "rejects: <error>" (shortened) when it raises."""
    try:
        return _number(fn())
    except Exception as error:
        text = str(error).split(". ")[0]
        text = text if len(text) <= 70 else text[:67] + "..."
        return f"rejects: {type(error).__name__}: {text}"


def _value_and_gradient(loss, y_true: np.ndarray, y_pred: np.ndarray):
    """The scalar loss and its gradient in `y_pred`, on the current backend."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(y_pred)
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss(tf.constant(y_true), x)
        return float(value), tape.gradient(value, x).numpy()
    if backend == "jax":
        import jax

        value, grad = jax.value_and_grad(lambda x: loss(y_true, x))(y_pred)
        return float(value), np.asarray(grad)
    if backend == "torch":
        import torch

        x = torch.tensor(y_pred, requires_grad=True)
        value = loss(torch.tensor(y_true), x)
        value.backward()
        return float(value.detach()), x.grad.numpy()
    raise NotImplementedError(f"Unsupported backend: {backend!r}")


# --------------------------------------------------------------------------
# The claims
# --------------------------------------------------------------------------
def r2_at_offsets(*, quick: bool = False) -> list[Claim]:
    """R2 on float32 targets `offset + N(0, 1)`, predictions off by N(0, 0.09)."""
    sk = _sklearn()
    n, batches = (2000, 20) if quick else (10000, 100)
    rows = []
    for offset in (1e4, 1e5):
        rng = np.random.default_rng(0)
        y = (offset + rng.standard_normal((n, 1))).astype(np.float32)
        y_pred = (y + 0.3 * rng.standard_normal((n, 1))).astype(np.float32)
        truth = sk.r2_score(y.astype(np.float64), y_pred.astype(np.float64))
        offset_text = f"{offset:.0e}".replace("e+0", "e")
        theirs = _streamed(keras.metrics.R2Score(), y, y_pred, batches=batches)
        ours = _streamed(metrics.R2(), y, y_pred, batches=batches)
        rows.append(
            Claim(
                f"R2Score, float32 targets around {offset_text}, {batches} batches",
                _number(theirs),
                _number(ours),
                f"{_number(truth)} (sklearn r2_score, float64)",
                "within 1e-5",
                bool(abs(ours - truth) <= 1e-5),
            )
        )
    return rows


def _focal_reference(logits: np.ndarray, label: int, gamma: float, alpha: float):
    """Float64 categorical focal loss of one row and its gradient in the logits.

    `L = -alpha (1 - p)^gamma log p` with `p = softmax(z)[label]`, so
    `dL/dz_j = -alpha [(1 - p)^gamma - gamma p (1 - p)^(gamma - 1) log p]
    (delta_jk - p_j)`.
    """
    z = np.asarray(logits, np.float64)
    log_p = z - z.max() - math.log(np.exp(z - z.max()).sum())
    probs = np.exp(log_p)
    p, lp = probs[label], log_p[label]
    value = -alpha * (1 - p) ** gamma * lp
    outer = -alpha * ((1 - p) ** gamma - gamma * p * (1 - p) ** (gamma - 1) * lp)
    grad = outer * (np.eye(len(z))[label] - probs)
    return value, grad


def focal_at_large_logits(*, quick: bool = False) -> list[Claim]:
    """A confidently wrong row `[m, -m]` with label 1, gamma 2, alpha 0.25."""
    del quick
    rows = []
    for magnitude in (100.0, 1e4):
        logits = np.array([[magnitude, -magnitude]], np.float32)
        y_true = np.array([[0.0, 1.0]], np.float32)
        ref_value, ref_grad = _focal_reference(logits[0], 1, 2.0, 0.25)
        theirs = _value_and_gradient(
            keras.losses.CategoricalFocalCrossentropy(
                alpha=0.25, gamma=2.0, from_logits=True
            ),
            y_true,
            logits,
        )
        ours = _value_and_gradient(
            losses.FocalLoss(2.0, [0.25, 0.25], from_logits=True), y_true, logits
        )
        name = f"CategoricalFocalCrossentropy(from_logits=True), logits +-{magnitude:g}"
        rows += [
            Claim(
                f"{name}: value",
                _number(theirs[0]),
                _number(ours[0]),
                f"{_number(ref_value)} (float64 formula)",
                "within 1e-3 relative",
                bool(abs(ours[0] - ref_value) <= 1e-3 * abs(ref_value)),
            ),
            Claim(
                f"{name}: gradient in the logits",
                _vector(theirs[1]),
                _vector(ours[1]),
                f"{_vector(ref_grad)} (float64 formula)",
                "finite, non-zero, within 1e-5 relative",
                bool(
                    np.isfinite(ours[1]).all()
                    and np.all(ours[1] != 0)
                    and np.allclose(ours[1][0], ref_grad, rtol=1e-5, atol=0)
                ),
            ),
        ]
    return rows


def region_losses(*, quick: bool = False) -> list[Claim]:
    """Empty mask predicted empty; which error Tversky's alpha weighs."""
    del quick
    empty = np.zeros((2, 8, 8, 1), np.float32)
    smooth = 1e-5  # our default; the float64 formula with it
    empty_ref = 1.0 - (2 * 0.0 + smooth) / (0.0 + 0.0 + smooth)
    rows = []
    for name, theirs, ours in (
        ("Dice", keras.losses.Dice(), losses.DiceLoss()),
        ("Tversky", keras.losses.Tversky(), losses.TverskyLoss()),
    ):
        value = float(ours(empty, empty))
        rows.append(
            Claim(
                f"{name} loss, empty mask predicted empty",
                _number(theirs(empty, empty)),
                _number(value),
                f"{_number(empty_ref)} (perfect: 1 - (0 + s) / (0 + s))",
                "0 (perfect)",
                value == 0.0,
            )
        )
    # 4 true positives and 4 false positives, no false negative: alpha=1,
    # beta=0 weighs false positives only (Salehi et al. 2017), so the loss
    # is 1 - 4 / (4 + 4) = 0.5.
    y_true = np.zeros((1, 8, 1), np.float32)
    y_true[0, :4] = 1
    y_pred = np.ones((1, 8, 1), np.float32)
    tp, fp, fn = 4.0, 4.0, 0.0
    ref = 1 - (tp + smooth) / (tp + 1.0 * fp + 0.0 * fn + smooth)
    ours = float(losses.TverskyLoss(alpha=1.0, beta=0.0)(y_true, y_pred))
    theirs = keras.losses.Tversky(alpha=1.0, beta=0.0, axis=(1, 2))(y_true, y_pred)
    rows.append(
        Claim(
            "Tversky(alpha=1, beta=0) loss, 4 TP + 4 FP: alpha weighs false positives",
            _number(theirs),
            _number(ours),
            f"{_number(ref)} (float64 formula, Salehi et al. 2017)",
            "within 1e-5",
            bool(abs(ours - ref) <= 1e-5),
        )
    )
    return rows


def f1_forms(*, quick: bool = False) -> list[Claim]:
    """Macro F1 on sparse labels and on (N, H, W) masks."""
    sk = _sklearn()
    n, side, c = (256, 8, 4) if quick else (4096, 32, 4)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, c, n)
    probs = rng.dirichlet(np.ones(c), n).astype(np.float32)
    masks = rng.integers(0, c, (8, side, side))
    mask_probs = rng.dirichlet(np.ones(c), (8, side, side)).astype(np.float32)
    rows = []
    for name, y_true, y_pred, keras_true in (
        (f"F1Score, sparse labels ({n},), ({n}, {c}) scores", labels, probs, labels),
        (
            f"F1Score, masks (8, {side}, {side}) with (8, {side}, {side}, {c}) scores",
            masks,
            mask_probs,
            np.eye(c, dtype=np.float32)[masks],  # Keras's own one-hot form
        ),
    ):
        truth = sk.f1_score(
            np.ravel(y_true),
            np.argmax(y_pred, -1).ravel(),
            labels=list(range(c)),
            average="macro",
        )
        theirs = _keras_value(
            lambda t=keras_true, p=y_pred: _streamed(
                keras.metrics.F1Score(average="macro"), t, p
            )
        )
        ours = float(_streamed(metrics.F1(), y_true, y_pred))
        rows.append(
            Claim(
                name,
                theirs,
                _number(ours),
                f"{_number(truth)} (sklearn f1_score, flattened)",
                "within 1e-6",
                bool(abs(ours - truth) <= 1e-6),
            )
        )
    return rows


def auc_saturated(*, quick: bool = False) -> list[Claim]:
    """ROC AUC and average precision on saturated sigmoid(3 z + 4 y - 2) scores."""
    sk = _sklearn()
    n = 4096 if quick else 65536
    rng = np.random.default_rng(0)
    y = (rng.random(n) < 0.5).astype(np.float32)
    logits = (3.0 * rng.standard_normal(n) + 4.0 * y - 2.0).astype(np.float32)
    scores = (1 / (1 + np.exp(-logits.astype(np.float64)))).astype(np.float32)
    rows = []
    for name, keras_metric, ours_metric, reference, ref_name, tol in (
        (
            "ROC",
            keras.metrics.AUC(num_thresholds=200),
            metrics.AUROC(),
            sk.roc_auc_score(y, scores),
            "roc_auc_score",
            1e-4,
        ),
        (
            "PR",
            keras.metrics.AUC(num_thresholds=200, curve="PR"),
            metrics.AUPRC(),
            sk.average_precision_score(y, scores),
            "average_precision_score",
            1e-3,
        ),
    ):
        theirs = float(_streamed(keras_metric, y, scores))
        ours = float(_streamed(ours_metric, y, scores))
        rows.append(
            Claim(
                f"AUC(num_thresholds=200, curve={name!r}), {n} saturated scores",
                f"{_number(theirs)} (off by {abs(theirs - reference):.1e})",
                f"{_number(ours)} (off by {abs(ours - reference):.1e})",
                f"{_number(reference)} (sklearn {ref_name})",
                f"within {tol:g}",
                bool(abs(ours - reference) <= tol),
            )
        )
    return rows


CLAIMS: tuple[Callable[..., list[Claim]], ...] = (
    r2_at_offsets,
    focal_at_large_logits,
    region_losses,
    f1_forms,
    auc_saturated,
)


def run(*, quick: bool = False) -> list[Claim]:
    """Computes every claim (small data when `quick`)."""
    return [claim for make in CLAIMS for claim in make(quick=quick)]


def format_table(claims: list[Claim]) -> str:
    lines = [
        "| claim | Keras | ours | reference | our promise | holds |",
        "|---|---|---|---|---|:---:|",
    ]
    lines += [
        f"| {c.claim} | {c.keras} | {c.ours} | {c.reference} | {c.promise} "
        f"| {'yes' if c.holds else '**no**'} |"
        for c in claims
    ]
    return "\n".join(lines)


def main(*, quick: bool = False) -> int:
    """Prints the claims table; returns 1 if one of our claims does not hold."""
    versions = f"Keras {keras.__version__}, {keras.backend.backend()} backend"
    print(f"Claims, side by side ({versions}):\n", flush=True)
    claims = run(quick=quick)
    print(format_table(claims))
    print(
        "\nThe Keras column is what the installed Keras returns; only our column "
        "is checked.\nTime claim (mish forward+backward at most 1.3x SiLU's): "
        "keras-components bench activations"
    )
    failed = [c for c in claims if not c.holds]
    if failed:
        print(f"\n{len(failed)} of our claims do not hold.")
        return 1
    print(f"\nAll {len(claims)} of our claims hold.")
    return 0
