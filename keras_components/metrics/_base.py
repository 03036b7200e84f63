"""Base class for streaming metrics over sufficient statistics."""

from __future__ import annotations

import functools
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


class StreamingMetric(keras.metrics.Metric):
    """A metric whose state is sufficient statistics, computed on in `result()`.

    Subclasses declare their state in `build_state(spec)`, where `spec` is a
    small hashable description of the input layout (e.g. the number of classes)
    returned by `state_spec(y_true, y_pred)`. When the constructor arguments
    already fix the spec, call `self.build_from_spec(spec)` in `__init__`;
    otherwise the first `update_state` builds it (also inside `compile`/`fit`,
    where Keras builds metrics symbolically under the distribution scope).

    State conventions:

    - `add_state` creates float64 zeros with `aggregation="sum"`: weighted
      counts stay exact to 2**53 (float32 stops at 2**24), and a value read
      across replicas is the sum of the replicas' values. Every state must be
      meaningful under that sum: counts and sums, never running means.
    - Every metric has a scalar `invalid` state counting entries that could not
      be counted (labels outside `[0, C)`, non-finite scores) while tracing;
      `guard(value)` turns a result into NaN when it is non-zero, so a bad
      input never yields a silently finite wrong number.
    - `merge_state(others)` adds the others' states into this one, which is
      exact for additive state; subclasses with other state override it.

    On JAX, float64 state needs `jax.config.update("jax_enable_x64", True)`;
    without it JAX stores float32 (exact only to 2**24 per cell).
    """

    # The name logs use when none is given (Keras would otherwise derive one
    # from the class name and number repeats: "f1_3").
    default_name: str | None = None

    def __init__(self, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(name=name or self.default_name, dtype=dtype)
        self._spec: Hashable | None = None
        self.invalid = self.add_state("invalid", ())

    # -- state ------------------------------------------------------------
    def add_state(self, name: str, shape: tuple[int, ...]) -> keras.Variable:
        return self.add_variable(
            shape=shape,
            initializer="zeros",
            dtype=STATE_DTYPE,
            aggregation="sum",
            name=name,
        )

    def state_spec(self, y_true: Any, y_pred: Any) -> Hashable:
        """The spec `build_state` needs, from the first batch's shapes."""
        raise NotImplementedError

    def build_state(self, spec: Hashable) -> None:
        """Creates the state variables for `spec`."""
        raise NotImplementedError

    @property
    def state_built(self) -> bool:
        return self._spec is not None

    def build_from_spec(self, spec: Hashable) -> None:
        if self._spec is None:
            self.build_state(spec)
            self._spec = spec
        elif spec != self._spec:
            raise ValueError(
                f"{type(self).__name__} was built for {self._spec!r} and cannot "
                f"accept inputs needing {spec!r} (e.g. a different number of "
                "classes). Create a new metric or call reset on a new instance."
            )

    def ensure_built(self, y_true: Any, y_pred: Any) -> None:
        self.build_from_spec(self.state_spec(y_true, y_pred))

    def add_to(self, variable: keras.Variable, value: Any) -> None:
        variable.assign(variable + ops.cast(value, variable.dtype))

    def count_invalid(self, invalid_mask: Any) -> None:
        self.add_to(self.invalid, ops.sum(ops.cast(invalid_mask, STATE_DTYPE)))

    # -- compiled batch updates -------------------------------------------
    def batch_inputs(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        """`(y_true, y_pred, sample_weight)` as tensors, the state built for them."""
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        if sample_weight is not None:
            sample_weight = ops.convert_to_tensor(sample_weight)
        self.ensure_built(y_true, y_pred)
        return y_true, y_pred, sample_weight

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

        Kernels cannot raise: they count invalid input under `"invalid"`.
        Eagerly a non-zero count raises: `explain_invalid` runs the (slower)
        NumPy checks that name the offending values. A traced count has no
        value yet; it stays in the state and `result()` is NaN.
        """
        update = compiled_update(fn, **static)
        increments = update(self.state_variables, y_true, y_pred, sample_weight)
        count = _inputs.concrete_value(increments["invalid"])
        if count is None or not np.any(count > 0):
            return
        self.explain_invalid(y_true, y_pred, sample_weight)
        raise ValueError(
            f"Invalid values in the inputs of {type(self).__name__}: "
            f"{int(np.sum(count))} entries could not be counted."
        )

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """Raises a `ValueError` naming what is invalid in a batch (eager).

        Called only for a batch a kernel found invalid; when no check here
        raises, `accumulate` raises a generic error.
        """

    def guard(self, value: Any) -> Any:
        """`value` as this metric's dtype, NaN wherever invalid input was seen."""
        return self.guarded(value, self.invalid)

    def guarded(self, value: Any, invalid: Any) -> Any:
        """`guard` for a given value of the `invalid` state (pure)."""
        value = ops.convert_to_tensor(value)
        nan = ops.full_like(value, float("nan"))
        return ops.cast(ops.where(invalid > 0, nan, value), self.dtype)

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
