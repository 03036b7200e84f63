"""Base class for streaming metrics over sufficient statistics."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_components import _backend, _inputs

STATE_DTYPE = "float64"


def compiled_update(
    fn: Callable[..., Mapping[str, Any]], /, **static: Hashable
) -> Callable[..., Mapping[str, Any]]:
    """`fn` with its `static` keyword arguments bound, as a compiled update.

    The per-batch statistics of the heavier metrics (confusion counts, score
    histograms) are pure functions `fn(y_true, y_pred, sample_weight)`
    returning increments by state name; run compiled, an update is one fused
    computation whether the caller is eager, a plain `tf.function` or already
    under XLA. The result is `update(variables, y_true, y_pred, sample_weight)`
    (`_backend.accumulator`), cached per function, static configuration and
    backend, so every metric with one configuration shares one compiled
    kernel. Kernels cannot raise on bad values: they count them under
    `"invalid"`, and `StreamingMetric.accumulate` turns the count into an
    eager error.
    """
    return _compiled(keras.backend.backend(), fn, tuple(sorted(static.items())))


@functools.cache
def _compiled(backend: str, fn: Callable[..., Any], static: tuple) -> Callable:
    del backend  # part of the cache key only
    return _backend.accumulator(functools.partial(fn, **dict(static)))


# What each reason of the `invalid` state means, and its fix (the warning
# `result()` gives names both); subclasses may refine the texts.
INVALID_TEXT = {
    "targets": (
        "invalid targets (labels outside [0, num_classes) that are not "
        "`ignore_index`, fractional labels, NaN, or dense rows that are not "
        "one-hot)",
        "pass whole-number labels in range, set `ignore_index` for void labels "
        "(e.g. 255), or pass task='multilabel' for multi-hot targets",
    ),
    "soft_targets": (
        "soft targets (values strictly between 0 and 1, as label smoothing "
        "or mix-up produce)",
        "metrics that count classes need hard 0/1 labels: pass the labels "
        "before smoothing or mixing (or `y_true > 0.5`); losses accept soft "
        "targets",
    ),
    "predictions": (
        "invalid predictions (NaN or infinite, or probabilities outside [0, 1])",
        "check the model's outputs for NaN; pass from_logits=True if "
        "`y_pred` holds logits",
    ),
    "weights": (
        "NaN or infinite sample weights",
        "pass finite `sample_weight` values",
    ),
}


class StreamingMetric(keras.metrics.Metric):
    """A metric whose state is sufficient statistics, computed on in `result()`.

    Subclasses declare their state in `build_state(spec)`, where `spec` is a
    small hashable description of the input layout (e.g. the number of classes)
    returned by `state_spec(y_true, y_pred)`. When the constructor arguments
    already fix the spec, call `self.build_from_spec(spec)` in `__init__`;
    otherwise the first `update_state` builds it (also inside `compile`/`fit`,
    where Keras builds metrics symbolically under the distribution scope).
    Subclasses compute their value in `compute_result()`; `result()` adds the
    reporting described below.

    State conventions:

    - `add_state` creates float64 zeros with `aggregation="sum"`: weighted
      counts stay exact to 2**53 (float32 stops at 2**24), and a value read
      across replicas is the sum of the replicas' values. Every state must be
      meaningful under that sum: counts and sums, never running means.
    - Every metric has an `invalid` state of `len(INVALID_REASONS)` counts:
      entries that could not be counted while tracing, by reason (invalid
      targets, soft targets, invalid predictions, non-finite weights).
      `guard(value)` turns a result into NaN when any is non-zero, so a bad
      input never yields a silently finite wrong number, and `result()` read
      eagerly (as Keras does at the end of every epoch) emits one
      `UserWarning` per reason naming the metric, the count and the fix.
      Eager updates never get that far: they raise a `ValueError` naming the
      values, and leave the state as it was.
    - `merge_state(others)` adds the others' states into this one, which is
      exact for additive state; subclasses with other state override it.
    - `reset_state()` gives a fresh metric: zero state, and when the layout
      was inferred from the data (not fixed by constructor arguments), the
      next eager batch may have another layout (e.g. number of classes).

    Every metric declares `direction` (`"up"`: higher is better, `"down"`:
    lower), which Keras's `EarlyStopping` / `ModelCheckpoint` read with
    `mode="auto"`.

    On JAX, float64 state needs `jax.config.update("jax_enable_x64", True)`;
    without it JAX stores float32 (exact only to 2**24 per cell).
    """

    # The name logs use when none is given (Keras would otherwise derive one
    # from the class name and number repeats: "f1_3").
    default_name: str | None = None
    direction: str = "up"

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name or self.default_name, dtype=dtype)
        if not keras.backend.is_float_dtype(self.dtype):
            raise ValueError(
                "Invalid value for argument `dtype`. Expected a floating-point "
                "dtype or policy (e.g. 'float32', 'float64', 'mixed_float16'); "
                f"a metric's result is a real number. Received: dtype={dtype!r}"
            )
        self._direction = self.direction  # what Keras's callbacks read
        self._spec: Any = None  # what state_spec returned (a tuple or an int)
        self._spec_fixed = False  # set by constructor arguments
        self._may_rebuild = False  # after reset_state of an inferred layout
        self._spec_variables: list[keras.Variable] = []
        self._warned_shape = False
        self.invalid = self.add_variable(
            shape=(_inputs.NUM_REASONS,),
            initializer="zeros",
            dtype=STATE_DTYPE,
            aggregation="sum",
            name="invalid",
        )

    # -- state ------------------------------------------------------------
    def add_state(self, name: str, shape: tuple[int, ...]) -> keras.Variable:
        variable = self.add_variable(
            shape=shape,
            initializer="zeros",
            dtype=STATE_DTYPE,
            aggregation="sum",
            name=name,
        )
        self._spec_variables.append(variable)
        return variable

    def state_spec(self, y_true: Any, y_pred: Any) -> Hashable:
        """The spec `build_state` needs, from the first batch's shapes."""
        raise NotImplementedError

    def build_state(self, spec: Any) -> None:
        """Creates the state variables for `spec`."""
        raise NotImplementedError

    @property
    def state_built(self) -> bool:
        return self._spec is not None

    def build_from_spec(self, spec: Hashable, *, fixed: bool = False) -> None:
        """Builds the state for `spec`; `fixed` when constructor arguments
        determine it (then `reset_state` keeps it)."""
        if self._spec is None:
            self.build_state(spec)
            self._spec = spec
            self._spec_fixed = fixed
        elif spec != self._spec:
            if self._may_rebuild:
                self._rebuild(spec)
                return
            raise ValueError(
                f"{type(self).__name__} was built for {self._spec!r} and cannot "
                f"accept inputs needing {spec!r} (e.g. a different number of "
                "classes). Call `reset_state()` first, or use a new metric."
            )
        self._may_rebuild = False

    def _rebuild(self, spec: Hashable) -> None:
        """Replaces the state with a fresh one for `spec` (after a reset)."""
        for variable in self._spec_variables:
            self._tracker.untrack(variable)
        self._spec_variables = []
        self.build_state(spec)
        self._spec = spec
        self._may_rebuild = False

    def ensure_built(self, y_true: Any, y_pred: Any) -> None:
        spec = self.state_spec(y_true, y_pred)
        if spec != self._spec and self._may_rebuild and not _inputs.is_eager(y_pred):
            self._may_rebuild = False  # a traced function keeps its variables
        self.build_from_spec(spec)

    def reset_state(self) -> None:
        super().reset_state()
        self._may_rebuild = self._spec is not None and not self._spec_fixed

    def add_to(self, variable: keras.Variable, value: Any) -> None:
        variable.assign(variable + ops.cast(value, variable.dtype))

    def invalid_counts(self, **masks: Any) -> Any:
        """`(NUM_REASONS,)` float64 counts of the True entries of each mask,
        keyed by reason (`_inputs.INVALID_REASONS`); missing reasons count 0."""
        counts = []
        for reason in _inputs.INVALID_REASONS:
            mask = masks.get(reason)
            counts.append(
                ops.zeros((), STATE_DTYPE)
                if mask is None
                else ops.sum(ops.cast(mask, STATE_DTYPE))
            )
        return ops.stack(counts)

    def count_invalid(self, **masks: Any) -> None:
        """Adds `invalid_counts(**masks)` to the `invalid` state."""
        self.add_to(self.invalid, self.invalid_counts(**masks))

    # -- inputs -----------------------------------------------------------
    def batch_inputs(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        """`(y_true, y_pred, sample_weight)` as real tensors, the state built
        for them.

        Complex or non-numeric inputs are a `TypeError` (a complex value has
        no order to threshold and its imaginary part would be dropped);
        integer and bool `y_pred` (hard 0/1 predictions) are scored as
        float32.
        """
        y_true = _inputs.real_tensor(y_true, name="y_true")
        y_pred = _inputs.real_tensor(y_pred, name="y_pred")
        if not keras.backend.is_float_dtype(y_pred.dtype):
            y_pred = ops.cast(y_pred, "float32")
        if sample_weight is not None:
            sample_weight = _inputs.real_tensor(sample_weight, name="sample_weight")
        self.ensure_built(y_true, y_pred)
        return y_true, y_pred, sample_weight

    # -- compiled batch updates -------------------------------------------
    def accumulate(
        self,
        fn: Callable[..., Mapping[str, Any]],
        y_true: Any,
        y_pred: Any,
        sample_weight: Any,
        **static: Hashable,
    ) -> None:
        """Adds one batch's increments `fn(y_true, y_pred, sample_weight, **static)`
        into the state, compiled (`compiled_update`).

        Kernels cannot raise: they count invalid input by reason under
        `"invalid"`. Eagerly a non-zero count raises (the state is left as it
        was): `explain_invalid` runs the (slower) NumPy checks that name the
        offending values. A traced count has no value yet; it stays in the
        state and `result()` is NaN.
        """
        update = compiled_update(fn, **static)
        increments = update(self.state_variables, y_true, y_pred, sample_weight)
        self.raise_if_invalid(increments["invalid"], y_true, y_pred, sample_weight)

    def raise_if_invalid(
        self, counts: Any, y_true: Any, y_pred: Any, sample_weight: Any
    ) -> None:
        """Raises a `ValueError` for a concrete non-zero count of invalid input."""
        count = _inputs.concrete_value(counts)
        if count is None or not np.any(count > 0):
            return
        self.explain_invalid(y_true, y_pred, sample_weight)
        raise ValueError(
            f"Invalid inputs to {type(self).__name__}: "
            + "; ".join(
                f"{int(n)} entries with {INVALID_TEXT[reason][0]} (fix: "
                f"{INVALID_TEXT[reason][1]})"
                for reason, n in zip(_inputs.INVALID_REASONS, count, strict=True)
                if n > 0
            )
        )

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """Raises a `ValueError` naming what is invalid in a batch (eager).

        Called only for a batch a kernel found invalid; when no check here
        raises, `accumulate` raises an error naming the reasons.
        """

    # -- result -----------------------------------------------------------
    def result(self) -> Any:
        """The metric's value; NaN after invalid input, with a warning.

        Read eagerly after invalid input was counted while traced, it emits
        one `UserWarning` per reason naming this metric, the count and the
        fix. Read while traced (as Keras's `fit` does for its logs), a value
        that is not a scalar warns once: Keras shows the mean of it in logs
        and the progress bar, which means nothing for a confusion matrix or
        a per-class vector.
        """
        value = self.compute_result()
        self._report(value)
        return value

    def compute_result(self) -> Any:
        """The value from the state (subclasses)."""
        raise NotImplementedError

    def _report(self, value: Any) -> None:
        counts = _inputs.concrete_value(ops.convert_to_tensor(self.invalid.value))
        if counts is None:
            if len(getattr(value, "shape", ())) and not self._warned_shape:
                self._warned_shape = True
                warnings.warn(
                    f"{type(self).__name__}(name={self.name!r}) returns a "
                    f"value of shape {tuple(value.shape)}, not a scalar: in "
                    "`fit`/`evaluate` logs and the progress bar Keras shows "
                    "its mean, which is not a meaningful number. Read "
                    "`metric.result()` after `evaluate`, or report it per "
                    "class with a callback.",
                    UserWarning,
                    stacklevel=3,
                )
            return
        for reason, count in zip(_inputs.INVALID_REASONS, counts, strict=True):
            if count > 0:
                what, fix = INVALID_TEXT[reason]
                warnings.warn(
                    f"{type(self).__name__}(name={self.name!r}).result() is NaN: "
                    f"{int(count)} entries with {what} were seen while traced "
                    "(in `fit`, `evaluate` or a compiled function, where no "
                    f"error can be raised). Fix: {fix}. `reset_state()` clears "
                    "the state.",
                    UserWarning,
                    stacklevel=3,
                )

    def guard(self, value: Any) -> Any:
        """`value` as this metric's dtype, NaN wherever invalid input was seen."""
        return self.guarded(value, self.invalid)

    def guarded(self, value: Any, invalid: Any) -> Any:
        """`guard` for a given value of the `invalid` state (pure)."""
        value = ops.convert_to_tensor(value)
        nan = ops.full_like(value, float("nan"))
        return ops.cast(ops.where(ops.sum(invalid) > 0, nan, value), self.dtype)

    @property
    def state_variables(self) -> dict[str, keras.Variable]:
        """The state variables by name."""
        return {v.name: v for v in self.variables}

    def state_values(self) -> dict[str, Any]:
        """The current state by variable name, to pass to a compiled function."""
        return _backend.state_arguments(self.state_variables)

    # -- merging ----------------------------------------------------------
    def _merge_key(self) -> dict[str, Any]:
        config = dict(self.get_config())
        config.pop("name", None)
        return config

    def merge_state(self, metrics: Iterable[StreamingMetric]) -> None:
        """Adds the state of `metrics` (same class and configuration) into this one.

        A metric merged from metrics updated on disjoint shards equals one
        metric updated on all the data.
        """
        for other in metrics:
            if type(other) is not type(self) or other._merge_key() != self._merge_key():
                raise ValueError(
                    "Invalid value for argument `metrics`. Expected metrics of "
                    f"class {type(self).__name__} with configuration "
                    f"{self._merge_key()}. Received: {other!r} with configuration "
                    f"{other._merge_key() if hasattr(other, '_merge_key') else None}"
                )
            if not other.state_built:
                continue
            self.build_from_spec(other._spec)
            self.merge_built_state(other)

    def merge_built_state(self, other: StreamingMetric) -> None:
        """Merges `other`'s (built, compatible) state; additive by default."""
        for mine, theirs in zip(self.variables, other.variables, strict=True):
            mine.assign(mine + theirs)
