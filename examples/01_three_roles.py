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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/keras-components/blob/main/examples/01_three_roles.ipynb)
#
# # 1. Activation, loss, metric: the three roles
#
# *Activation functions shape the network, the loss drives learning, validation
# metrics judge it.* This notebook shows each role with keras-components: six
# activations side by side (curves, derivatives, the same small network trained
# with each), then a loss driving training and metrics (accuracy, F1, AUROC, log
# loss) judging it, checked against scikit-learn, and `keras-components catalog`
# as the map of every component.
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
import math

import keras
import numpy as np
from _setup import OUT, SMALL, Figure, figure, show
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score

import keras_components as kc

keras.utils.set_random_seed(0)
print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% [markdown]
# ## Activations: curves and derivatives
#
# ReLU, LeakyReLU and PReLU are Keras core's; Swish (here with a trainable
# `beta`), Mish and GELU are ours. Each is applied to a grid as a layer; the
# derivative is the finite difference of the values.

# %%
grid = np.linspace(-5.0, 5.0, 1001).astype("float32")


def activation_layers():
    """A fresh layer per activation (PReLU and Swish hold weights)."""
    return {
        "ReLU": keras.layers.ReLU(),
        "LeakyReLU": keras.layers.LeakyReLU(negative_slope=0.1),
        "PReLU": keras.layers.PReLU(
            alpha_initializer=keras.initializers.Constant(0.25)
        ),
        "Swish": kc.Swish(trainable_beta=True),
        "Mish": kc.Mish(),
        "GELU": kc.GELU(),
    }


values = {
    name: keras.ops.convert_to_numpy(layer(grid[:, None]))[:, 0]
    for name, layer in activation_layers().items()
}
derivatives = {name: np.gradient(v, grid) for name, v in values.items()}

# Checks against float64 formulas: GELU = x * Phi(x), Mish = x * tanh(softplus(x)).
x64 = grid.astype(np.float64)
phi = 0.5 * np.array([math.erfc(-t / math.sqrt(2.0)) for t in x64])
np.testing.assert_allclose(values["GELU"], x64 * phi, atol=1e-6)
np.testing.assert_allclose(
    values["Mish"], x64 * np.tanh(np.log1p(np.exp(x64))), atol=1e-6
)
# mish'(0) = tanh(log 2) = 0.6, swish'(0) = 0.5 (beta = 1), gelu'(0) = 0.5
centre = len(grid) // 2
for name, expected in [("Mish", 0.6), ("Swish", 0.5), ("GELU", 0.5)]:
    assert abs(derivatives[name][centre] - expected) < 1e-3, name
print("GELU and Mish equal their float64 formulas within 1e-6")

# %%
fig = figure(figsize=(9, 3.6))
if fig is not None:
    left, right = fig.subplots(1, 2)
    for name in values:
        left.plot(grid, values[name], label=name, lw=1.6)
        right.plot(grid, derivatives[name], label=name, lw=1.6)
    left.set(title="activation f(x)", xlabel="x", ylim=(-1.5, 5))
    right.set(title="derivative f'(x)", xlabel="x", ylim=(-0.3, 1.3))
    for ax in (left, right):
        ax.grid(alpha=0.3)
    left.legend(fontsize=8)
show(fig, "01_activations.png")

# %% [markdown]
# ## The same small network, trained with each activation
#
# Two moons (generated, with noise), a 2-16-16-1 network, binary cross-entropy.

# %%
n_samples, epochs = (800, 20) if SMALL else (4000, 80)
x, y = make_moons(n_samples, noise=0.25, random_state=0)
x = x.astype("float32")
y = y.astype("int32")
split = n_samples * 3 // 4
x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]


def small_network(layer_factory):
    keras.utils.set_random_seed(1)  # the same initial weights for every activation
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(16),
            layer_factory(),
            keras.layers.Dense(16),
            layer_factory(),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


results = {}
for name in values:
    model = small_network(lambda name=name: activation_layers()[name])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
    p = model.predict(x_val, verbose=0)[:, 0]
    results[name] = {
        "train_loss": history.history["loss"][-1],
        "val_accuracy": accuracy_score(y_val, p > 0.5),
        "model": model,
    }
    print(
        f"{name:10s} final train loss {results[name]['train_loss']:.4f}  "
        f"val accuracy {results[name]['val_accuracy']:.3f}"
    )

# Every activation learns the non-linear boundary: clearly above a linear model.
linear = LogisticRegression().fit(x_train, y_train).score(x_val, y_val)
print(f"logistic regression (linear boundary): val accuracy {linear:.3f}")
for name, result in results.items():
    assert result["val_accuracy"] > linear + 0.03, (name, result["val_accuracy"])
swish = [
    layer for layer in results["Swish"]["model"].layers if isinstance(layer, kc.Swish)
]
betas = [float(keras.ops.convert_to_numpy(layer.beta_weight)) for layer in swish]
print("Swish's trainable beta after training:", np.round(betas, 3))
assert all(abs(b - 1.0) > 1e-4 for b in betas)  # it was trained

# %%
fig = figure(figsize=(5, 3))
if fig is not None:
    ax = fig.add_subplot()
    names = list(results)
    ax.bar(names, [results[n]["val_accuracy"] for n in names], color="#1f77b4")
    ax.set(
        ylim=(0.8, 1.0),
        ylabel="validation accuracy",
        title="same network, six activations",
    )
    ax.tick_params(axis="x", labelsize=8)
show(fig, "01_activation_accuracy.png")

# %% [markdown]
# ## The loss drives, the metrics judge
#
# Cross-entropy is what the optimiser minimises. Accuracy, F1, AUROC and log loss
# (our streaming metrics) judge the model, in `fit`'s logs and in `evaluate`.
# Each equals scikit-learn's value on the model's predictions.

# %%
model = small_network(kc.Mish)
model.compile(
    optimizer=keras.optimizers.Adam(0.01),
    loss=keras.losses.BinaryCrossentropy(),
    metrics=[kc.Accuracy(), kc.F1(), kc.AUROC(), kc.LogLoss()],
)
history = model.fit(
    x_train,
    y_train,
    validation_data=(x_val, y_val),
    epochs=epochs,
    batch_size=64,
    verbose=0,
)
ours = model.evaluate(x_val, y_val, return_dict=True, verbose=0)
p = model.predict(x_val, verbose=0)[:, 0]
reference = {
    "accuracy": accuracy_score(y_val, p > 0.5),
    "f1": f1_score(y_val, p > 0.5),
    "auroc": roc_auc_score(y_val, p),
    "log_loss": log_loss(y_val, p),
}
print(f"{'metric':10s} {'ours':>9s} {'sklearn':>9s}")
for name, value in reference.items():
    print(f"{name:10s} {ours[name]:9.6f} {value:9.6f}")
    tolerance = 1e-4
    if name == "auroc":  # AUROC states its own bound on few, binned scores
        bound = kc.AUROC()
        bound.update_state(y_val, p)
        tolerance = max(tolerance, float(bound.error_bound()))
    assert abs(ours[name] - value) <= tolerance, name

# %%
if Figure is not None:
    curves = kc.plots.plot_history(
        history, OUT / "curves.png", metrics=["loss", "f1", "auroc"]
    )
    show(curves, "01_training_curves.png")

# %% [markdown]
# ## The map: `keras-components catalog`
#
# Every activation, loss and metric, ours and the Keras core ones we point to,
# with its role, import path, inputs, formula and scikit-learn equivalent. Here
# the metrics only (`--role activation|loss|metric`, `--format markdown|json`).

# %%
from keras_components.cli import main as keras_components_cli

assert keras_components_cli(["catalog", "--role", "metric"]) == 0
