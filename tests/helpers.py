"""The shared test toolkit: every public component goes through these checks.

- `assert_config_roundtrip`: `get_config()` holds exactly the `__init__`
  arguments; `from_config` rebuilds an equal object; the registered name is
  `keras_components>Name`; `serialize_keras_object` / `deserialize_keras_object`
  round-trip through JSON without `custom_objects`.
- `assert_keras_roundtrip`: a model using the component saves to `.keras` and
  loads back (compiled) with identical predictions.
- `assert_export_roundtrip`: `model.export()` SavedModel serving outputs equal
  the model's.
- `assert_fit_lowers_loss`: a few epochs of `fit` lower the loss, finitely.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import keras
import numpy as np

PACKAGE = "keras_components"

# Arguments owned by the Keras base classes, present in every subclass config.
_BASE_CONFIG_KEYS = {
    keras.layers.Layer: {"name", "trainable", "dtype"},
    keras.losses.Loss: {"name", "reduction", "dtype"},
    keras.metrics.Metric: {"name", "dtype"},
}


def init_argument_names(cls: type) -> set[str]:
    """Names of `cls.__init__`'s explicit parameters (no self, *args, **kwargs)."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {
        p.name
        for p in params
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _base_keys(obj: Any) -> set[str]:
    for base, keys in _BASE_CONFIG_KEYS.items():
        if isinstance(obj, base):
            return keys
    return set()


def _normalize(config: Any) -> Any:
    """JSON-normalizes a config so equal configs compare equal."""
    return json.loads(json.dumps(config, default=repr, sort_keys=True))


def assert_config_roundtrip(obj: Any, *, extra_keys: Iterable[str] = ()) -> Any:
    """Checks config, registration and (de)serialization; returns the rebuilt object."""
    cls = type(obj)
    config = obj.get_config()
    expected = init_argument_names(cls) | _base_keys(obj) | set(extra_keys)
    assert set(config) == expected, (
        f"{cls.__name__}.get_config() keys {sorted(config)} != __init__ "
        f"arguments {sorted(expected)}"
    )

    rebuilt = cls.from_config(config)
    assert type(rebuilt) is cls
    assert _normalize(rebuilt.get_config()) == _normalize(config)

    registered = keras.saving.get_registered_name(cls)
    assert registered == f"{PACKAGE}>{cls.__name__}", registered

    serialized = keras.saving.serialize_keras_object(obj)
    assert serialized["registered_name"] == registered
    restored = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(restored) is cls
    assert _normalize(restored.get_config()) == _normalize(config)
    return rebuilt


def assert_keras_roundtrip(
    model: keras.Model, x: Any, tmp_path: Path, *, atol: float = 0.0
) -> keras.Model:
    """Saves `model` to `.keras`, reloads it without custom objects, compares."""
    path = Path(tmp_path) / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    expected = model.predict(x, verbose=0)
    got = loaded.predict(x, verbose=0)
    keras.tree.map_structure(
        lambda a, b: np.testing.assert_allclose(b, a, rtol=0, atol=atol),
        expected,
        got,
    )
    if model.compiled:
        assert loaded.compiled
        assert _normalize(loaded.get_compile_config()) == _normalize(
            model.get_compile_config()
        )
    return loaded


def assert_export_roundtrip(
    model: keras.Model, x: Any, tmp_path: Path, *, atol: float = 1e-6
) -> None:
    """Exports a SavedModel and checks its `serve` endpoint equals the model."""
    import tensorflow as tf

    path = str(Path(tmp_path) / f"{model.name}_export")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)  # keep a reference while serving
    served = reloaded.serve(x)
    expected = model.predict(x, verbose=0)
    keras.tree.map_structure(
        lambda a, b: np.testing.assert_allclose(np.asarray(b), a, rtol=0, atol=atol),
        expected,
        served,
    )


def assert_fit_lowers_loss(
    model: keras.Model, x: Any, y: Any, *, epochs: int = 5, batch_size: int = 32
) -> keras.callbacks.History:
    """Fits a compiled model and checks the loss is finite and goes down."""
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    return history


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def value_and_grad(fn, x: np.ndarray, upstream: np.ndarray | None = None):
    """`fn(x)` and its input gradient (VJP with `upstream`, default ones), TF."""
    import tensorflow as tf

    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
    grad = tape.gradient(y, xt, output_gradients=upstream)
    return to_numpy(y), to_numpy(grad)
