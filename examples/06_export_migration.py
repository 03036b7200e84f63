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
# [![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/OWNER/keras-components/blob/main/examples/06_export_migration.ipynb)
#
# # 6. Export and migration
#
# A model built from our components is saved as `.keras` and reloaded without
# `custom_objects`, exported as a SavedModel and as a LiteRT model, and each
# reload's predictions are compared. Then a model saved by TensorFlow Addons 0.23
# (an `.h5` file in the repository, `tests/fixtures/tfa/`: in Colab the install
# cell's clone brings it) is loaded with `keras_components.compat.tfa`, checked
# against the predictions tfa itself recorded, recompiled with our native
# components and re-saved as `.keras`, which then loads without the shim.
# SavedModel and LiteRT need the TensorFlow backend.

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
import os

from _setup import OUT, SMALL

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import json
import zipfile

import keras
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_breast_cancer

import keras_components as kc

assert keras.backend.backend() == "tensorflow", "SavedModel and LiteRT need tf"
keras.utils.set_random_seed(0)
x, y = load_breast_cancer(return_X_y=True)
x = ((x - x.mean(0)) / x.std(0)).astype("float32")
y = y.astype("int32")

model = keras.Sequential(
    [
        keras.Input((x.shape[1],)),
        keras.layers.Dense(16),
        kc.Mish(),
        keras.layers.Dense(16),
        kc.Swish(trainable_beta=True),
        keras.layers.Dense(8),
        kc.GELU(approximate=True),  # the exact GELU has no LiteRT kernel (erfc)
        keras.layers.Dense(1),
    ]
)
model.compile(
    optimizer="adam",
    loss=kc.FocalLoss(from_logits=True, mode="binary"),
    metrics=[kc.F1(from_logits=True), kc.AUROC(from_logits=True)],
)
model.fit(x, y, epochs=3 if SMALL else 20, batch_size=32, verbose=0)
expected = model.predict(x, verbose=0)

# %% [markdown]
# ## `.keras`: reloads compiled, predictions bit for bit

# %%
path = OUT / "model.keras"
model.save(path)
again = keras.saving.load_model(path)  # no custom_objects: kc is imported
np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
assert type(again.loss) is kc.FocalLoss
before = model.evaluate(x, y, return_dict=True, verbose=0)
after = again.evaluate(x, y, return_dict=True, verbose=0)
print("evaluate before:", before, "\nafter reload:  ", after)
for key, value in before.items():
    np.testing.assert_allclose(after[key], value, rtol=1e-6)

# %% [markdown]
# ## SavedModel: `model.export()` and its serving function

# %%
saved = OUT / "saved_model"
model.export(saved, verbose=False)
serving = tf.saved_model.load(str(saved))
served = serving.serve(tf.constant(x)).numpy()
print(f"SavedModel vs predict: max |diff| {np.abs(served - expected).max():.2e}")
np.testing.assert_allclose(served, expected, atol=1e-6)

# %% [markdown]
# ## LiteRT
#
# The conversion is TensorFlow's; the interpreter is the optional
# `ai-edge-litert` package (`pip install "keras-components[litert]"`).

# %%
flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
(OUT / "model.tflite").write_bytes(flatbuffer)
try:
    from ai_edge_litert.interpreter import Interpreter
except ImportError:
    Interpreter = None
    print(
        "The LiteRT interpreter is not installed: the converted model is saved "
        f"({OUT / 'model.tflite'}) but not run. Install it with: "
        'pip install "keras-components[litert]"'
    )
if Interpreter is not None:
    interpreter = Interpreter(model_content=flatbuffer)
    (inp,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(inp["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    (out,) = interpreter.get_output_details()
    lite = interpreter.get_tensor(out["index"])
    print(f"LiteRT vs predict: max |diff| {np.abs(lite - expected).max():.2e}")
    np.testing.assert_allclose(lite, expected, atol=1e-5)

# %% [markdown]
# ## Migrating a TensorFlow Addons model
#
# `multilabel_gelu_focal.h5` was trained and saved by tensorflow-addons 0.23 on
# TensorFlow 2.15: a `tfa.layers.GELU`, `SigmoidFocalCrossEntropy`, `F1Score` and
# `HammingLoss`. Importing `keras_components.compat.tfa` registers the `Addons>`
# names, so Keras 3 loads it compiled.

# %%
import keras_components.compat.tfa

fixtures = next(
    (
        folder / "tests" / "fixtures" / "tfa"
        for folder in [ROOT, pathlib.Path(kc.__file__).resolve().parents[1]]
        if folder is not None and (folder / "tests" / "fixtures" / "tfa").is_dir()
    ),
    None,
)
if fixtures is None:
    print(
        "The TensorFlow Addons fixtures are not here: run this notebook from a "
        "clone of the repository (the install cell clones it in Colab)."
    )
else:
    record = next(
        r
        for r in json.loads((fixtures / "values.json").read_text())["models"]
        if r["id"] == "models.multilabel_gelu_focal"
    )
    arrays = np.load(fixtures / "inputs.npz")
    x_old, y_old = arrays[record["x"]], arrays[record["y"]]
    old = keras.saving.load_model(fixtures / record["file"])
    p_old = old.predict(x_old, verbose=0)
    np.testing.assert_allclose(p_old, record["predict_after_reload_in_tfa"], atol=1e-6)
    print("loaded:", [type(layer).__name__ for layer in old.layers])
    print("loss:", type(old.loss).__module__, type(old.loss).__name__)
    print("predictions equal those tfa recorded on reload (within 1e-6)")

# %% [markdown]
# Re-saving natively: the compat classes keep tfa's numerics (the focal loss
# *sums* over labels), so a model re-saved as it is keeps their `Addons>` names.
# Recompile with our components (`FocalLoss(mode="binary")` averages over the
# labels; `docs/migration.md` maps every argument) and the `.keras` file needs
# nothing but `keras_components`.

# %%
if fixtures is not None:
    old.compile(
        optimizer="adam",
        loss=kc.FocalLoss(gamma=2.0, alpha=0.25, mode="binary"),
        metrics=[
            kc.F1(task="multilabel", average=None),
            kc.HammingLoss(task="multilabel"),
        ],
    )
    native = OUT / "migrated.keras"
    old.save(native)
    config = zipfile.ZipFile(native).read("config.json").decode()
    assert "Addons>" not in config, "still names a tfa object"
    np.save(OUT / "x_old.npy", x_old)
    script = (
        "import sys, numpy as np, keras, keras_components\n"
        "assert 'keras_components.compat.tfa' not in sys.modules\n"
        f"m = keras.saving.load_model({str(native)!r})\n"
        f"x = np.load({str(OUT / 'x_old.npy')!r})\n"
        f"np.save({str(OUT / 'p_new.npy')!r}, m.predict(x, verbose=0))\n"
        "print(type(m.loss).__name__, [type(x).__name__ for x in m.layers])\n"
    )
    env = dict(
        os.environ, PYTHONPATH=str(pathlib.Path(kc.__file__).resolve().parents[1])
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    print("fresh process, without the compat module:", result.stdout.strip())
    np.testing.assert_array_equal(np.load(OUT / "p_new.npy"), p_old)
    print("re-saved natively; predictions in a fresh process equal the tfa model's")
