"""The shared test toolkit: every public component goes through these checks.

- `assert_config_roundtrip`: `get_config()` holds exactly the `__init__`
  arguments; `from_config` rebuilds an equal object; the registered name is
  `keras_components>Name`; `serialize_keras_object` / `deserialize_keras_object`
  round-trip through JSON without `custom_objects`.
- `assert_keras_roundtrip`: a model using the component saves to `.keras` and
  loads back (compiled) with identical predictions.
- `assert_export_roundtrip`: `model.export()` SavedModel serving outputs equal
  the model's; `assert_exports(model, x, tmp_path, export_format)` runs it for
  `"tf_saved_model"` and, on PyTorch, checks a `format="torch"` (`.pt2`)
  ExportedProgram the same way.
- `assert_fit_lowers_loss`: a few epochs of `fit` lower the loss, finitely.
"""

from __future__ import annotations

import inspect
import itertools
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
    """Names a caller may pass to `cls(...)` (no self, *args, **kwargs).

    A constructor that takes `**kwargs` passes them to its base's, so the
    names are followed up the MRO through this package's classes until a
    constructor without `**kwargs` (what Keras's own base classes accept is
    `_BASE_CONFIG_KEYS`).
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        if not klass.__module__.startswith(PACKAGE):
            break
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        names |= {
            p.name
            for p in params
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


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


EXPORT_FORMATS = ("tf_saved_model", "torch")


def assert_exports(
    model: keras.Model, x: Any, tmp_path: Path, export_format: str
) -> None:
    """`model.export(format=export_format)` serves what `model.predict` gives.

    `"tf_saved_model"`: `assert_export_roundtrip`. `"torch"` (PyTorch only;
    Keras refuses it on other backends): a `.pt2` ExportedProgram with a
    dynamic batch axis, reloaded with `torch.export.load`, within 1e-6.
    """
    import pytest

    if export_format == "tf_saved_model":
        assert_export_roundtrip(model, x, tmp_path)
        return
    if keras.backend.backend() != "torch":
        pytest.skip('format="torch" exports on the PyTorch backend only')
    import torch

    path = str(Path(tmp_path) / f"{model.name}.pt2")
    batch = torch.export.Dim("batch", min=1, max=4096)
    model.export(path, format="torch", verbose=False, dynamic_shapes={0: batch})
    program = torch.export.load(path).module()
    with torch.no_grad():
        served = program(torch.as_tensor(np.asarray(x)))
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(served.numpy(), expected, rtol=0, atol=1e-6)


def assert_fit_lowers_loss(
    model: keras.Model, x: Any, y: Any, *, epochs: int = 5, batch_size: int = 32
) -> keras.callbacks.History:
    """Fits a compiled model and checks the loss is finite and goes down."""
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    return history


def tensor(x: Any, dtype: str | None = None) -> Any:
    """`x` as a tensor of the current backend."""
    return keras.ops.convert_to_tensor(np.asarray(x), dtype=dtype)


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def value_and_grad(fn, x: np.ndarray, upstream: np.ndarray | None = None):
    """`fn(x)` and its input gradient (VJP with `upstream`, default ones).

    Through the current backend's autodiff: `tf.GradientTape`, `jax.vjp` or
    `torch.autograd.grad`. Zeros where `fn(x)` does not depend on `x`.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        y, pullback = jax.vjp(fn, keras.ops.convert_to_tensor(x))
        up = keras.ops.ones_like(y) if upstream is None else upstream
        return to_numpy(y), to_numpy(pullback(keras.ops.cast(up, y.dtype))[0])
    if backend == "torch":
        import torch

        xt = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        y = fn(xt)
        up = (
            torch.ones_like(y)
            if upstream is None
            else keras.ops.cast(upstream, y.dtype)
        )
        (grad,) = torch.autograd.grad(y, xt, grad_outputs=up, allow_unused=True)
        grad = torch.zeros_like(xt) if grad is None else grad
        return to_numpy(y.detach()), to_numpy(grad)
    import tensorflow as tf

    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt)
    grad = tape.gradient(y, xt, output_gradients=upstream)
    return to_numpy(y), to_numpy(grad)


def value_and_grad_tensors(fn, x: Any) -> tuple[Any, Any]:
    """`fn(x)` and its input gradient (of the sum) as tensors; traceable."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        y, pullback = jax.vjp(fn, x)
        return y, pullback(keras.ops.ones_like(y))[0]
    if backend == "torch":
        import torch

        x = x.detach().requires_grad_(True)
        y = fn(x)
        return y.detach(), torch.autograd.grad(y.sum(), x)[0]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.gradient(y, x)


def variable_gradients(fn, variables: list) -> tuple[np.ndarray, list]:
    """`fn()` and the gradients of its sum in `variables` (Keras variables).

    Through the current backend's autodiff; on JAX `fn` runs in a
    `keras.StatelessScope` that maps the variables to the differentiated
    values. A variable `fn` does not use gets None (TensorFlow, PyTorch) or
    zeros (JAX).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        def total(values):
            mapping = list(zip(variables, values, strict=True))
            with keras.StatelessScope(state_mapping=mapping):
                y = fn()
            return keras.ops.sum(y), y

        (_, y), grads = jax.value_and_grad(total, has_aux=True)(
            [v.value for v in variables]
        )
        return to_numpy(y), [to_numpy(g) for g in grads]
    if backend == "torch":
        import torch

        y = fn()
        grads = torch.autograd.grad(
            y.sum(), [v.value for v in variables], allow_unused=True
        )
        return to_numpy(y.detach()), [None if g is None else to_numpy(g) for g in grads]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        y = fn()
    grads = tape.gradient(y, variables)
    return to_numpy(y), [None if g is None else to_numpy(g) for g in grads]


def compiled(fn: Any, *, jit_compile: bool = True) -> Any:
    """`fn` compiled as a `jit_compile` model step is, on the current backend.

    TensorFlow: `tf.function` (XLA for `jit_compile=True`); JAX: `jax.jit`
    (JAX always compiles with XLA); PyTorch: `fn` itself (Keras runs PyTorch
    eagerly unless asked for `torch.compile`).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "torch":
        return fn
    import tensorflow as tf

    return tf.function(fn, jit_compile=jit_compile)


def traced(fn: Any, *, jit_compile: bool = False) -> Any:
    """`fn` traced (no concrete values): `tf.function` on TensorFlow, `jax.jit`.

    PyTorch runs eagerly, so there is no traced call to test: skipped.
    """
    if keras.backend.backend() == "torch":
        import pytest

        pytest.skip("PyTorch runs eagerly: nothing is traced")
    return compiled(fn, jit_compile=jit_compile)


def nested_xla_calls(fn: Any) -> int:
    """How many XLA-compiled function calls a plain TensorFlow graph of `fn` makes.

    `fn` takes no arguments; it is traced by `tf.function` without XLA, and
    the calls counted are the graph's own (not those inside them) that
    TensorFlow must compile with XLA (`_XlaMustCompile`: a nested
    `tf.function(jit_compile=True)`). TensorFlow only.
    """
    import tensorflow as tf

    graph = tf.function(fn).get_concrete_function().graph
    return sum(
        "_XlaMustCompile" in op.node_def.attr and op.get_attr("_XlaMustCompile")
        for op in graph.get_operations()
    )


def traced_with_state(
    fn: Any, metrics: list, *, jit_compile: bool = False, build_with: Any = None
) -> Any:
    """`traced(fn)` for a `fn(y_true, y_pred, ...)` that updates `metrics`.

    TensorFlow: `tf.function` (stateful). JAX: the metrics' state is built
    for the batch's shapes first (`build_with=(y_true, y_pred)` for a `fn`
    without arguments), as Keras builds compiled metrics before tracing;
    then `fn` runs under `jax.jit` in a `keras.StatelessScope` over their
    variables (as Keras's `evaluate` does) and the new values are assigned
    back after each call. PyTorch: skipped (nothing is traced).
    """
    if keras.backend.backend() != "jax":
        return traced(fn, jit_compile=jit_compile)
    import jax

    def pure(variables, values, *args):
        mapping = list(zip(variables, values, strict=True))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            out = fn(*args)
        new = [scope.get_current_value(v) for v in variables]
        return out, [v if n is None else n for v, n in zip(values, new, strict=True)]

    jitted = {}

    def call(*args):
        batch = build_with or args[:2]
        for metric in metrics if len(batch) == 2 else ():
            metric.ensure_built(*batch)
        variables = [v for metric in metrics for v in metric.variables]
        key = tuple(id(v) for v in variables)
        if key not in jitted:
            jitted[key] = jax.jit(lambda values, *a: pure(variables, values, *a))
        out, values = jitted[key]([v.value for v in variables], *args)
        for variable, value in zip(variables, values, strict=True):
            variable.assign(value)
        return out

    return call


def skip_without_float64() -> None:
    """Skips on JAX without `jax_enable_x64`, where float64 becomes float32."""
    if keras.backend.backend() == "jax":
        import jax
        import pytest

        if not jax.config.jax_enable_x64:
            pytest.skip("JAX without jax_enable_x64 has no float64 tensors")


def expected_state_shapes(*shapes: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The shapes of a metric's `variables` for states of `shapes`, in order.

    Where the backend has no float64 (JAX without x64) each state is two
    float32 words: its low-word variable, of the same shape, follows it.
    """
    from keras_components import _backend

    words = 1 if _backend.float64_state() else 2
    return [tuple(shape) for shape in shapes for _ in range(words)]


def fold_state(metric: Any) -> dict[str, np.ndarray]:
    """The metric's state by name in float64, each two-word pair summed exactly."""
    from keras_components import _backend

    raw = {v.name: to_numpy(v).astype(np.float64) for v in metric.variables}
    return {
        name: value + raw.get(name + _backend.LOW_SUFFIX, 0.0)
        for name, value in raw.items()
        if not name.endswith(_backend.LOW_SUFFIX)
    }


def float32_slack(ulps: float, scale: Any = 1.0) -> Any:
    """What a float32 result may add to a float64 tolerance: `ulps` float32 eps.

    0 where results can be float64 (TensorFlow, PyTorch, JAX with x64), so
    their checks are unchanged. On JAX without x64 the state is exact (two
    float32 words) but the result is float32: `ulps * eps32 * scale`, with
    `scale` the magnitude of the value (or of the summed terms). Use it only
    where the result is right to float32 rounding, with `ulps` the roundings
    the computation makes (measured, and said where it is used).
    """
    from keras_components import _backend

    if _backend.float64_state():
        return 0.0
    return ulps * float(np.finfo(np.float32).eps) * np.abs(scale)


# --------------------------------------------------------------------------
# Streaming metrics: batch splits, merging, models, distribution
# --------------------------------------------------------------------------
def random_splits(n: int, parts: int, rng: np.random.Generator) -> list[slice]:
    """`parts` contiguous, non-empty slices covering range(n), at random cuts."""
    parts = max(1, min(parts, n))
    cuts = (
        np.sort(rng.choice(np.arange(1, n), size=parts - 1, replace=False))
        if parts > 1
        else np.array([], dtype=int)
    )
    bounds = [0, *cuts.tolist(), n]
    return [slice(a, b) for a, b in itertools.pairwise(bounds)]


def _take(x: Any, s: slice) -> Any:
    return None if x is None else x[s]


def streamed_result(
    metric: Any,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    slices: Iterable[slice] | None = None,
) -> np.ndarray:
    """Updates `metric` batch by batch (one batch when `slices` is None)."""
    slices = [slice(None)] if slices is None else slices
    for s in slices:
        metric.update_state(_take(y_true, s), _take(y_pred, s), _take(sample_weight, s))
    return to_numpy(metric.result())


def assert_streaming_equals(
    make_metric: Any,
    expected: Any,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    atol: float = 1e-6,
    rtol: float = 0.0,
    seed: int = 0,
    batchings: tuple[int, ...] = (1, 3, 7),
) -> None:
    """One batch, random batchings, a merge of shards and a reset all give `expected`.

    `make_metric()` returns a fresh metric; `expected` is the independent
    reference (e.g. scikit-learn on the flattened data).
    """
    rng = np.random.default_rng(seed)
    n = len(y_true)
    check = lambda got, how: np.testing.assert_allclose(  # noqa: E731
        np.asarray(got, np.float64), expected, atol=atol, rtol=rtol, err_msg=how
    )
    for parts in batchings:
        metric = make_metric()
        check(
            streamed_result(
                metric,
                y_true,
                y_pred,
                sample_weight,
                slices=random_splits(n, parts, rng),
            ),
            f"{parts} batches",
        )
    # Shards updated separately, then merged, equal the whole.
    shards = random_splits(n, min(3, n), rng)
    metrics = [make_metric() for _ in shards]
    for metric, s in zip(metrics, shards, strict=True):
        streamed_result(metric, y_true, y_pred, sample_weight, slices=[s])
    merged = make_metric()
    merged.merge_state(metrics)
    check(to_numpy(merged.result()), "merge_state of shards")
    # reset_state restores a fresh metric.
    metric = metrics[0]
    metric.reset_state()
    check(streamed_result(metric, y_true, y_pred, sample_weight), "after reset_state")


def passthrough_model(input_shape: tuple[int, ...], *, trainable: bool = False):
    """A model whose predictions are its inputs (optionally via a frozen Dense).

    `trainable=True` inserts a Dense layer initialised to the identity and
    trained with learning rate 0, so `fit` runs real steps while predictions
    stay equal to the inputs.
    """
    inputs = keras.Input(input_shape)
    outputs = keras.layers.Identity()(inputs)
    if trainable:
        outputs = keras.layers.Dense(
            input_shape[-1], kernel_initializer="identity", use_bias=False
        )(outputs)
    return keras.Model(inputs, outputs)


def zero_loss(y_true: Any, y_pred: Any) -> Any:
    return keras.ops.sum(y_pred * 0.0, axis=-1)


def metric_in_model(
    make_metric: Any,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    **kwargs: Any,
) -> dict[str, np.ndarray]:
    """`metrics_in_model` for one metric: `{"value": ..., "predictions": ...}`.

    Keyword arguments as `metrics_in_model` (`mode`, `jit_compile`,
    `run_eagerly`, `strategy`, `batch_size`).
    """
    holder = []

    def make_metrics():
        holder.append(make_metric())
        return holder

    values = metrics_in_model(make_metrics, y_true, y_pred, sample_weight, **kwargs)
    return {"value": values[holder[0].name], "predictions": values["predictions"]}


# The ways a metric runs inside Keras that every metric family is checked in.
IN_MODEL_OPTIONS = [
    {"mode": "evaluate"},
    {"mode": "fit"},
    {"mode": "evaluate", "jit_compile": True},
    {"mode": "fit", "run_eagerly": True},
]


def runs_eagerly_in_model(*, jit_compile: bool = False, **_: Any) -> bool:
    """Whether Keras runs `fit`/`evaluate` eagerly here with these options.

    JAX and PyTorch run them eagerly unless `jit_compile=True` (TensorFlow
    traces a graph either way). An invalid batch then meets the eager check
    and raises its ValueError, the contract's eager branch, where a traced
    run gives NaN.
    """
    return keras.backend.backend() != "tensorflow" and not jit_compile


def in_model_id(options: dict[str, Any]) -> str:
    return "-".join(f"{k}={v}" for k, v in options.items())


def metrics_in_model(
    make_metrics: Any,
    y_true: Any,
    y_pred: Any,
    sample_weight: Any = None,
    *,
    mode: str = "evaluate",
    jit_compile: bool = False,
    run_eagerly: bool = False,
    strategy: Any = None,
    batch_size: int = 16,
) -> dict[str, np.ndarray]:
    """`metric_in_model` for several metrics in one model, sample weights included.

    `make_metrics()` returns a list of fresh metrics. They are compiled as
    `weighted_metrics` when `sample_weight` is given (Keras passes
    `sample_weight` only to `weighted_metrics`, never to `metrics`), else as
    `metrics`. Returns each metric's logged value by name, plus
    `"predictions"` (`model.predict` of the same data).
    """
    import contextlib

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = passthrough_model(y_pred.shape[1:], trainable=mode == "fit")
        metrics = make_metrics()
        kind = "metrics" if sample_weight is None else "weighted_metrics"
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=0.0),
            loss=zero_loss,
            jit_compile=jit_compile,
            run_eagerly=run_eagerly,
            **{kind: metrics},
        )
    if mode == "evaluate":
        logs = model.evaluate(
            y_pred,
            y_true,
            sample_weight=sample_weight,
            batch_size=batch_size,
            verbose=0,
            return_dict=True,
        )
    else:
        history = model.fit(
            y_pred,
            y_true,
            sample_weight=sample_weight,
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
        )
        logs = {k: v[-1] for k, v in history.history.items()}
    values = {m.name: np.asarray(logs[m.name]) for m in metrics}
    values["predictions"] = model.predict(y_pred, batch_size=batch_size, verbose=0)
    return values


# The operating points need their constraint; every other public metric has a
# default for every argument.
REQUIRED_ARGUMENTS: dict[str, dict[str, float]] = {
    "PrecisionAtRecall": {"recall": 0.5},
    "RecallAtPrecision": {"precision": 0.5},
    "SensitivityAtSpecificity": {"specificity": 0.5},
    "SpecificityAtSensitivity": {"sensitivity": 0.5},
}
