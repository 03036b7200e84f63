# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/keras-components/blob/main/examples/05_regression.ipynb)
#
# # 5. Regression: Huber vs MSE on an outlier-heavy target
#
# A generated regression problem whose training targets have 10% gross outliers
# (all on one side). The same network is fitted with mean squared error and with
# Huber loss and judged on clean test targets with our `R2`, `RMSE`, `MAE` and
# `MSLE`, each checked against scikit-learn. Then the same predictions at a
# target offset of 10^4 in float32: `R2` stays equal to scikit-learn's, next to
# Keras's `R2Score`.

# %%
# Setup: install keras-components where it is not importable (Colab), and put
# examples/ on the path for the helpers all six notebooks share
# (examples/_setup.py). The only network access of this notebook: a shallow clone
# of the repository (which also holds those helpers and the data files example
# 06 reads) and `pip install` from it.
import importlib
import importlib.util
import pathlib
import subprocess
import sys

REPOSITORY = "OWNER/keras-components"  # GitHub owner/name: see examples/README.md


def _checkout(start):
    """The repository folder holding `start` (a keras_components checkout)."""
    for folder in [start, *start.parents]:
        if (folder / "keras_components").is_dir() and (
            folder / "examples" / "_setup.py"
        ).is_file():
            return folder
    return None


_spec = importlib.util.find_spec("keras_components")
ROOT = _checkout(pathlib.Path.cwd().resolve())
if ROOT is None and _spec is not None:  # importable: from a checkout?
    ROOT = _checkout(pathlib.Path(_spec.origin).resolve().parent)
if ROOT is None:  # Colab, or anywhere outside a checkout
    ROOT = pathlib.Path.cwd() / "keras-components"
    if not ROOT.exists():
        url = f"https://github.com/{REPOSITORY}"
        subprocess.run(["git", "clone", "-q", "--depth", "1", url, ROOT], check=True)
    if _spec is None:
        pip = [sys.executable, "-m", "pip", "install", "-q", f"{ROOT}[demo]"]
        subprocess.run(pip, check=True)
        importlib.invalidate_caches()
elif _spec is None:  # a checkout: use it as it is
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

# %%
import keras
import numpy as np
from _setup import SMALL, figure, show
from sklearn.metrics import (
    mean_absolute_error,
    mean_squared_log_error,
    r2_score,
    root_mean_squared_error,
)

import keras_components as kc

n_samples, epochs = (3000, 30) if SMALL else (20000, 80)
rng = np.random.default_rng(0)
x = rng.normal(size=(n_samples, 8)).astype("float32")
clean = (
    x @ rng.normal(size=8)
    + 0.5 * np.sin(2 * x[:, 0])
    + 0.3 * rng.normal(size=n_samples)
)
clean = clean.astype("float32")
split = n_samples * 3 // 4
y_train = clean[:split].copy()
outliers = rng.random(split) < 0.10
y_train[outliers] += rng.uniform(15.0, 30.0, size=outliers.sum()).astype("float32")
x_train, x_test, y_test = x[:split], x[split:], clean[split:]
print(f"{split} training rows, {outliers.mean():.0%} of their targets are outliers")

# %% [markdown]
# ## Two fits: MSE and Huber


# %%
def network():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(32),
            kc.Mish(),
            keras.layers.Dense(1),
        ]
    )


predictions = {}
for name, loss in {
    "MSE": "mean_squared_error",
    "Huber": keras.losses.Huber(1.0),
}.items():
    model = network()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=loss,
        metrics=[kc.R2(), kc.RMSE(), kc.MAE()],
    )
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    ours = model.evaluate(x_test, y_test, batch_size=256, return_dict=True, verbose=0)
    p = model.predict(x_test, batch_size=256, verbose=0)[:, 0]
    predictions[name] = p
    reference = {
        "r2": r2_score(y_test, p),
        "rmse": root_mean_squared_error(y_test, p),
        "mae": mean_absolute_error(y_test, p),
    }
    for key, value in reference.items():
        np.testing.assert_allclose(ours[key], value, rtol=1e-5, atol=1e-6)
    print(
        f"{name:6s} clean test: R2 {ours['r2']:.4f}  RMSE {ours['rmse']:.4f}  "
        f"MAE {ours['mae']:.4f}  (equal to scikit-learn's)"
    )

# The claim: Huber's fit is barely moved by the outliers, MSE's is pulled up.
r2 = {name: r2_score(y_test, p) for name, p in predictions.items()}
assert r2["Huber"] > r2["MSE"] + 0.05, r2
assert r2["Huber"] > 0.9, r2

# %% [markdown]
# ## At a large target offset (float32)
#
# Add 10^4 to the targets and the predictions: R2 is unchanged mathematically.
# Our `R2` keeps centred sums in float64 and streams them exactly; Keras's
# `R2Score` accumulates raw sums of squares, which lose the variance at this
# offset.

# %%
OFFSET = 1e4
y_big = (y_test + OFFSET).astype("float32")
p_big = (predictions["Huber"] + OFFSET).astype("float32")
ours = {"R2": kc.R2(), "RMSE": kc.RMSE(), "MAE": kc.MAE()}
keras_r2 = keras.metrics.R2Score()
for start in range(0, len(y_big), 100):  # streamed, 100 rows per batch
    batch = slice(start, start + 100)
    for metric in ours.values():
        metric.update_state(y_big[batch], p_big[batch])
    keras_r2.update_state(y_big[batch, None], p_big[batch, None])
y64, p64 = y_big.astype(np.float64), p_big.astype(np.float64)
reference = {
    "R2": r2_score(y64, p64),
    "RMSE": root_mean_squared_error(y64, p64),
    "MAE": mean_absolute_error(y64, p64),
}
print(f"{'metric':6s} {'ours':>14s} {'scikit-learn':>14s}")
for key, metric in ours.items():
    print(f"{key:6s} {float(metric.result()):14.8g} {reference[key]:14.8g}")
print(
    f"Keras R2Score: {float(keras_r2.result()):.6f} "
    f"(scikit-learn {reference['R2']:.6f})"
)
np.testing.assert_allclose(float(ours["R2"].result()), reference["R2"], atol=1e-4)
np.testing.assert_allclose(float(ours["R2"].result()), r2["Huber"], atol=1e-4)
for key in ("RMSE", "MAE"):
    np.testing.assert_allclose(float(ours[key].result()), reference[key], rtol=1e-5)

# %% [markdown]
# `MSLE` needs non-negative values: the clean targets shifted to start at 0, the
# Huber predictions shifted alike and clipped at 0.

# %%
shift = -float(y_test.min())
y_pos = (y_test + shift).astype("float32")
p_pos = np.maximum(predictions["Huber"] + shift, 0.0).astype("float32")
msle = kc.MSLE()
msle.update_state(y_pos, p_pos)
reference_msle = mean_squared_log_error(
    y_pos.astype(np.float64), p_pos.astype(np.float64)
)
print(f"MSLE ours {float(msle.result()):.8g}, scikit-learn {reference_msle:.8g}")
np.testing.assert_allclose(float(msle.result()), reference_msle, rtol=1e-5)

# %%
fig = figure(figsize=(9, 3.6))
if fig is not None:
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (name, p) in zip(axes, predictions.items(), strict=True):
        ax.scatter(y_test, p, s=3, alpha=0.4)
        low, high = float(y_test.min()), float(y_test.max())
        ax.plot([low, high], [low, high], color="0.3", lw=1)
        ax.set(title=f"{name}: R2 {r2[name]:.3f} on clean targets", xlabel="true")
    axes[0].set_ylabel("predicted")
show(fig, "05_regression_huber_vs_mse.png")
