"""Every private Keras API this package uses, kept to this one module.

Keras's private modules (`keras.src...`) may change in any release. Each
name below says the Keras version it was checked against and the public API
that would replace it; when one appears, switch to it here and nowhere else.
The rest of the package imports these names from this module only (a test
checks that no other module imports `keras.src`). Checked against Keras
3.15.0 and 3.15.1, the supported range (`pyproject.toml`).
"""

from __future__ import annotations

from typing import Any

# The mask side channel: the boolean mask Keras attaches to a tensor
# (`_keras_mask`) and reads in `keras.losses.Loss.__call__`. Our loss
# functions attach the mask of kept positions (`ignore_index`) exactly as
# Keras's `sparse_categorical_crossentropy(..., ignore_class=...)` does.
# Keras 3.15: `keras.src.backend.common.masking`; no public equivalent (a
# public `keras.backend.get_keras_mask` / `set_keras_mask` would replace it).
from keras.src.backend.common.masking import get_keras_mask, set_keras_mask

# Whether code runs inside a `keras.StatelessScope` (where a variable's value
# and assignments live in the scope, e.g. in `stateless_update_state`).
# Keras 3.15: `keras.src.backend.common.stateless_scope`; the public
# `keras.StatelessScope` has no query (a public `keras.in_stateless_scope()`
# would replace it).
from keras.src.backend.common.stateless_scope import in_stateless_scope

# Whether Keras is inferring output shapes (`compute_output_spec`, which on
# PyTorch calls the function on placeholder tensors filled with 83 or 89, on
# the meta device or, when that fails, on the CPU): such values are not data,
# so eager checks must not judge them.
# Keras 3.15: `keras.src.backend.common.symbolic_scope`; no public query.
from keras.src.backend.common.symbolic_scope import in_symbolic_scope  # noqa: F401

# Keras's loss reduction (masks, "sum_over_batch_size", distribution
# scaling), reused so our reductions are identical to Keras's losses.
# Keras 3.15: `keras.src.losses.loss.reduce_weighted_values`; public
# replacement: none (only `keras.losses.Loss.__call__` runs it; a public
# `keras.losses.reduce_weighted_values` would replace it).
from keras.src.losses.loss import reduce_weighted_values

# Where Keras 3.15 defines its metric functions (`keras.metrics.binary_accuracy`
# and the like are `keras.src.metrics.*` objects); there is no public
# predicate for "a Keras metric function", so the module path is the test.
_KERAS_METRICS_MODULE = "keras.src.metrics"


def is_keras_metric_function(obj: Any) -> bool:
    """Whether `obj` is one of Keras's metric functions (not a loss)."""
    module = getattr(obj, "__module__", None) or ""
    return module.startswith(_KERAS_METRICS_MODULE)


__all__ = [
    "get_keras_mask",
    "in_stateless_scope",
    "is_keras_metric_function",
    "reduce_weighted_values",
    "set_keras_mask",
]


# -- ValidationMetrics (keras_components.callbacks) ---------------------------
# Keras's data adapters turn every form `fit(validation_data=...)` accepts
# (arrays, tf.data, PyDataset, torch DataLoader) into batches. Keras 3.15:
# `keras.src.trainers.data_adapters.get_data_adapter`; public replacement:
# none (a public `keras.utils.data_adapter` would replace it).
from keras.src.trainers.data_adapters import get_data_adapter  # noqa: E402


def compiled_metric_names(model: Any) -> list[str]:
    """The names of the metrics `model` logs (compiled and added ones).

    Keras 3.15 wraps the compiled metrics in a `CompileMetrics` container
    (name "compile_metrics") whose `metrics` property lists the real ones
    once built (at the first step of `fit` when the model was already
    built); before that, its private `_user_metrics` and
    `_user_weighted_metrics` hold what `compile` received. No public API
    lists the log keys a model will produce before its first step; the
    callers also check the logs themselves at epoch end.
    """
    import keras

    def names_of(spec: Any) -> list[str]:
        if spec is None:
            return []
        if isinstance(spec, dict):
            return [n for v in spec.values() for n in names_of(v)]
        if isinstance(spec, (list, tuple)):
            return [n for v in spec for n in names_of(v)]
        if isinstance(spec, str):
            return [spec]
        if isinstance(spec, keras.metrics.Metric):
            return [spec.name]
        name = getattr(spec, "__name__", None)
        return [name] if isinstance(name, str) else []

    names = []
    for metric in getattr(model, "metrics", None) or []:
        inner = getattr(metric, "metrics", None)
        if not isinstance(inner, (list, tuple)):
            names.append(metric.name)
        elif inner:
            names.extend(m.name for m in inner)
        else:
            names.extend(names_of(getattr(metric, "_user_metrics", None)))
            names.extend(names_of(getattr(metric, "_user_weighted_metrics", None)))
    return names


def training_context(callback: Any) -> tuple[Any, bool | None]:
    """The `CallbackList` running `callback` and whether `fit` validates.

    Keras gives a callback neither its siblings nor `fit`'s arguments. Called
    from a hook (`on_train_begin`), this walks up the Python call stack to
    the `keras.callbacks.CallbackList` whose `callbacks` hold `callback`, and
    above it to the frame of `fit` (a frame with local `validation_data`
    and `validation_split`). Returns `(callback_list, validates)`; either is
    None when not found (a Keras version that calls hooks differently, a
    custom training loop): callers then fall back to checks at epoch end.
    Checked against Keras 3.15 (TensorFlow, JAX and PyTorch trainers).
    """
    import sys
    import types

    import keras

    callback_list = None
    validates = None
    try:
        frame: types.FrameType | None = sys._getframe(1)
    except (AttributeError, ValueError):  # pragma: no cover - non-CPython
        return None, None
    depth = 0
    while frame is not None and depth < 12:
        owner = frame.f_locals.get("self")
        if (
            callback_list is None
            and isinstance(owner, keras.callbacks.CallbackList)
            and any(cb is callback for cb in getattr(owner, "callbacks", ()))
        ):
            callback_list = owner
        elif callback_list is not None and frame.f_code.co_name == "fit":
            local = frame.f_locals
            if "validation_data" in local and "validation_split" in local:
                validates = bool(
                    local["validation_data"] is not None
                    or (local["validation_split"] or 0) > 0
                )
            break
        frame = frame.f_back
        depth += 1
    return callback_list, validates


__all__ += ["compiled_metric_names", "get_data_adapter", "training_context"]


# Keras 3.15: `keras.src.legacy.saving.saving_utils.compile_args_from_training_config`
# rebuilds `compile()` arguments of a legacy `.h5` file; Keras 3.15 cannot
# deserialize Keras 2's short loss aliases there ("mse", "mae", ...: "Could not
# deserialize 'keras.metrics.mse' because it is not a KerasSaveable
# subclass"). No public hook exists; `wrap_legacy_training_config` replaces
# the module attribute `legacy_h5_format` calls (looked up at call time), so
# the rewrite applies only while a legacy file's training config is read.
from keras.src.legacy.saving import saving_utils as _legacy_saving_utils  # noqa: E402


def wrap_legacy_training_config(rewrite: Any) -> None:
    """Makes legacy `.h5` loading pass training configs through `rewrite` first.

    Idempotent: wrapping twice with the same `rewrite` keeps one wrapper.
    """
    original = _legacy_saving_utils.compile_args_from_training_config
    if getattr(original, "_keras_components_rewrite", None) is rewrite:
        return

    def compile_args_from_training_config(
        training_config: Any, custom_objects: Any = None
    ) -> Any:
        return original(rewrite(training_config), custom_objects)

    setattr(compile_args_from_training_config, "_keras_components_rewrite", rewrite)  # noqa: B010
    _legacy_saving_utils.compile_args_from_training_config = (
        compile_args_from_training_config
    )
