"""The metric contract: one base class for every streaming metric.

A metric is declared, not programmed: class attributes (its default name,
direction and options), the layout of its state, and two pure functions,
the split torchmetrics makes between `_update` and `_compute`:

- `increments(y_true, y_pred, sample_weight, **update_options)`: one
  batch's sufficient statistics by state name (`"invalid"` among them);
- `score(state, **score_options)`: the value from the state.

`StreamingMetric` runs them: one update path (`update_state`), one result
path (`result`), one merge rule (`merge_state`). Whether a step runs
compiled is decided by the path (eager calls run one cached compiled
function per configuration; traced calls inline the same ops), never by the
metric. See `StreamingMetric` for the full list of declarations.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_components import _backend, _inputs

# The state's dtype where float64 exists; kernels read the backend's own
# with `_backend.state_dtype()` (float32 words on JAX without x64).
STATE_DTYPE = "float64"


def compiled_update(
    fn: Callable[..., Mapping[str, Any]],
    /,
    reads: tuple[str, ...] = (),
    **static: Hashable,
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
    `"invalid"`, and `StreamingMetric.update_state` turns the count into an
    eager error. With `reads`, the kernel is `fn(state, y_true, y_pred,
    sample_weight)`, `state` holding those variables' current values (read
    inside the compiled call) for increments that depend on the state.
    """
    static_items = tuple(sorted(static.items()))
    return _compiled(keras.backend.backend(), fn, static_items, reads)


@functools.cache
def _compiled(
    backend: str, fn: Callable[..., Any], static: tuple, reads: tuple[str, ...]
) -> Callable:
    del backend  # part of the cache key only
    return _backend.accumulator(functools.partial(fn, **dict(static)), reads=reads)


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
        "invalid predictions (NaN or infinite, probabilities outside [0, 1], "
        "or multiclass probability rows not summing to 1)",
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

    The contract. A metric class declares, in its own body:

    - `default_name`: the name logs use when `name` is None (Keras would
      otherwise derive one from the class name and number repeats: "f1_3").
    - `direction`: `"up"` (higher is better) or `"down"`; Keras's
      `EarlyStopping` / `ModelCheckpoint` read it with `mode="auto"`.
    - `__init__`, only for the arguments it adds: it validates them (with
      `keras_components._validation`), stores them and passes `**kwargs` on.
      The public signature (`inspect.signature`, `help()`) is composed from
      the constructors up the class's bases (`full_signature`), so a class
      restates no argument of its base.
    - `state_spec(y_true, y_pred)`: a small hashable description of the
      input layout (e.g. the task and number of classes) read from the first
      batch's shapes; `state_shapes(spec)`: the state by name and shape.
      When constructor arguments already fix the spec, `__init__` calls
      `self.build_from_spec(spec, fixed=True)`.
    - `increments(y_true, y_pred, sample_weight, **update_options)` (a
      static or class method, pure `keras.ops`): one batch's statistics by
      state name, including `"invalid"`, the counts by reason
      (`invalid_counts`) of entries that could not be counted (a kernel
      cannot raise). `update_options()` gives the static keyword arguments.
    - `score(state, **score_options)` (static or class method, pure): the
      value from the state values; `score_options()` gives its static
      keyword arguments. The path turns it NaN after invalid input
      (`guarded`) and casts it to the metric's dtype.
    - `reads`: names of state variables whose current values `increments`
      needs (then called `increments(state, y_true, y_pred, sample_weight,
      **update_options)`; AUROC's running pair count). Its increments
      add (they account for the old state), so a declared `merge` then
      serves `merge_state` only. Default: none.
    - `merge`: None when every state is additive (the rule: states add);
      otherwise a pure `merge(state, other) -> state` of two states of this
      layout (R2's centred sums of squares), used for batch updates and
      `merge_state` alike.
    - `additive`: with a `merge` (or `reads`), the states it simply adds
      (R2's counts and sums, AUROC's histogram): where the state is two
      float32 words they gain the exact batch term, not a rounded change.
    - `explain_invalid(y_true, y_pred, sample_weight)`: the eager checks
      that name the offending values (run only for a batch whose increments
      counted invalid input).
    - `empty_result()`: the value before the first batch (default NaN).
    - `get_config()`: adds its own arguments to the base's.

    Family options are declared as class attributes on the family's base
    and overridden in a metric's body: `supported_tasks`, `counts_subsets`
    and `nan_aware_average` (classification), `multioutput_choices` and
    `nonnegative_inputs` (regression).

    State conventions:

    - Every state is float64 zeros with `aggregation="sum"`: weighted
      counts stay exact to 2**53 (float32 stops at 2**24), and a value read
      across replicas is the sum of the replicas' values. Every state must be
      meaningful under that sum: counts and sums, never running means.
    - Every metric has an `invalid` state of `len(INVALID_REASONS)` counts:
      entries that could not be counted while tracing, by reason (invalid
      targets, soft targets, invalid predictions, non-finite weights). The
      result is NaN when any is non-zero, so a bad input never yields a
      silently finite wrong number, and `result()` read eagerly (as Keras
      does at the end of every epoch) emits one `UserWarning` per reason
      naming the metric, the count and the fix. Eager updates never get that
      far: they raise a `ValueError` naming the values, and leave the state
      as it was.
    - `merge_state(others)` merges the others' states into this one by the
      metric's merge rule.
    - `reset_state()` gives a fresh metric: zero state, and when the layout
      was inferred from the data (not fixed by constructor arguments), the
      next eager batch may have another layout (e.g. number of classes).

    - Where float64 is unavailable (JAX without `jax_enable_x64`, which
      silently stores a float64 variable as float32), every state is two
      float32 words with no global flag: the variable `x` holds the high
      word and `x__lo` (`_backend.LOW_SUFFIX`) the low one, both state
      variables (reset, saved, never configuration). Additions are
      error-free (`_backend.add_words`: TwoSum, then Fast2Sum), so counts
      stay exact to 2**48 and sums carry about 48 bits across batches; a
      batch's own increment is computed in float32, exact for fewer than
      2**24 (weighted) counts per cell and batch. `score`, `merge` and
      `reads` kernels see each pair as `hi + lo` (float32: relative 6e-8
      per value); the states in `additive` (every state when `merge` is
      None) gain their exact batch term, the others the change the rule
      made. TensorFlow, PyTorch and JAX with x64 keep plain float64.
    """

    default_name: str | None = None
    direction: str = "up"
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] | None = None
    reads: tuple[str, ...] = ()
    additive: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__signature__ = full_signature(cls)

    def __init__(self, *, name: str | None = None, dtype: Any = None) -> None:
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
        self.invalid = self._state_variables("invalid", (_inputs.NUM_REASONS,))[0]

    # -- declarations (subclasses) ----------------------------------------
    def state_spec(self, y_true: Any, y_pred: Any) -> Hashable:
        """The spec `state_shapes` needs, from the first batch's shapes."""
        raise NotImplementedError

    def state_shapes(self, spec: Any) -> dict[str, tuple[int, ...]]:
        """The state variables for `spec`, by name and shape (`invalid` aside)."""
        raise NotImplementedError

    # One batch's increments by state name: a pure function (usually a
    # staticmethod) `increments(y_true, y_pred, sample_weight, **update_options())`.
    increments: Callable[..., dict[str, Any]]

    def update_options(self) -> dict[str, Hashable]:
        """The static keyword arguments of `increments`."""
        return {}

    # The value from the state values: a pure function
    # `score(state, **score_options())`.
    score: Callable[..., Any]

    def score_options(self) -> dict[str, Hashable]:
        """The static keyword arguments of `score`."""
        return {}

    def explain_invalid(self, y_true: Any, y_pred: Any, sample_weight: Any) -> None:
        """Raises a `ValueError` naming what is invalid in a batch (eager).

        Called only for a batch whose increments counted invalid input; when
        no check here raises, `update_state` raises an error naming the
        reasons.
        """

    def empty_result(self) -> Any:
        """The result before any batch fixed the state's layout."""
        return float("nan")

    # -- state ------------------------------------------------------------
    def _state_variables(
        self, name: str, shape: tuple[int, ...]
    ) -> list[keras.Variable]:
        """A zero state variable, and its low word where float64 is unavailable.

        The low word is a state variable of its own (`name` +
        `_backend.LOW_SUFFIX`, float32): saved, reset and summed over
        replicas with the high word, never part of the configuration.
        """

        def new(name):
            return self.add_variable(
                shape=shape,
                initializer="zeros",
                dtype=_backend.state_dtype(),
                aggregation="sum",
                name=name,
            )

        if _backend.float64_state():
            return [new(name)]
        return [new(name), new(name + _backend.LOW_SUFFIX)]

    def add_state(self, name: str, shape: tuple[int, ...]) -> keras.Variable:
        variables = self._state_variables(name, shape)
        self._spec_variables.extend(variables)
        return variables[0]

    def build_state(self, spec: Any) -> None:
        """Creates the state variables of `state_shapes(spec)`.

        Creates the state variables of `state_shapes(spec)`, each also an
        attribute of its name (`metric.confusion`).
        """
        for name, shape in self.state_shapes(spec).items():
            setattr(self, name, self.add_state(name, shape))

    @property
    def state_built(self) -> bool:
        return self._spec is not None

    def build_from_spec(self, spec: Hashable, *, fixed: bool = False) -> None:
        """Builds the state for `spec`.

        `fixed` when constructor arguments determine it (then `reset_state` keeps it).
        """
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

    @property
    def state_variables(self) -> dict[str, keras.Variable]:
        """The state variables by name."""
        return {v.name: v for v in self.variables}

    def state_values(self) -> dict[str, Any]:
        """The current state by name, to pass to a compiled function.

        Two-word states (no float64) are read as `hi + lo`.
        """
        values = _backend.state_arguments(self.state_variables)
        return _backend.fold_words(values) if self._two_words() else values

    def state_tensors(self) -> dict[str, Any]:
        """The current state by name, as tensors (two-word states folded)."""
        return _backend.fold_words(self._raw_state())

    def _merge_view(self) -> dict[str, Any]:
        """What `merge` sees: `state_tensors()`, and any two-word low words.

        For two-word states, each low word `name + LOW_SUFFIX` (the exact
        value minus the folded one), for merges that need the exact sums.
        """
        raw = self._raw_state()
        folded = _backend.fold_words(raw)
        lows = {
            n + _backend.LOW_SUFFIX: (raw[n] - folded[n]) + raw[n + _backend.LOW_SUFFIX]
            for n in _backend.word_pairs(raw)
        }
        return {**folded, **lows}

    def _raw_state(self) -> dict[str, Any]:
        return {v.name: ops.convert_to_tensor(v) for v in self.variables}

    def _two_words(self) -> bool:
        return any(n.endswith(_backend.LOW_SUFFIX) for n in self.state_variables)

    # -- inputs -----------------------------------------------------------
    def batch_inputs(self, y_true: Any, y_pred: Any, sample_weight: Any = None):
        """The batch as real tensors, with the state built for it.

        `(y_true, y_pred, sample_weight)` as real tensors, the state built
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
        _backend.check_distribution(
            self.variables, f"{type(self).__name__} {self.name!r}"
        )
        return y_true, y_pred, sample_weight

    # -- the update path --------------------------------------------------
    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Adds one batch into the state (the one update path).

        Additive state: `increments` and the additions run as one compiled
        update (`compiled_update`; `_backend.accumulator` decides how for an
        eager and a traced call). A declared `merge` runs its ops in place of
        the additions (op by op: the compiled accumulator only adds). Increments cannot
        raise: they count invalid input by reason under `"invalid"`. Eagerly
        a non-zero count raises (the state is left as it was):
        `explain_invalid` runs the (slower) NumPy checks that name the
        offending values. A traced count has no value yet; it stays in the
        state and `result()` is NaN.
        """
        y_true, y_pred, sample_weight = self.batch_inputs(y_true, y_pred, sample_weight)
        cls = type(self)
        options = self.update_options()
        # A kernel that reads the state returns increments that already
        # account for it: they add, and `merge` is for `merge_state` only.
        if cls.merge is None or cls.reads:
            update = compiled_update(cls.increments, reads=cls.reads, **options)
            increments = update(self.state_variables, y_true, y_pred, sample_weight)
            self.raise_if_invalid(increments["invalid"], y_true, y_pred, sample_weight)
            return
        increments = cls.increments(y_true, y_pred, sample_weight, **options)
        self.raise_if_invalid(increments["invalid"], y_true, y_pred, sample_weight)
        exact = {
            n: v
            for n, v in increments.items()
            if n.removesuffix(_backend.LOW_SUFFIX) in cls.additive
        }
        self._assign(cls.merge(self._merge_view(), increments), exact)

    def _assign(
        self, state: Mapping[str, Any], exact: Mapping[str, Any] | None = None
    ) -> None:
        """Assigns the new state values `state` by name.

        Where states are two words (no float64), each pair gains its change:
        for the names in `exact` (increments of the additive states, possibly
        pairs themselves) that increment exactly, for the others
        `state[name] - old` (`_backend.added_state`).
        """
        variables = self.state_variables
        if self._two_words():
            raw = self._raw_state()
            old = _backend.fold_words(raw)
            changes = {n: state[n] - old[n] for n in old}
            changes.update(exact or {})
            state = _backend.added_state(raw, changes)
        for name, variable in variables.items():
            variable.assign(ops.cast(state[name], variable.dtype))

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

    # -- the result path --------------------------------------------------
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
        """`score` of the state, guarded and cast (the one result path).

        Eagerly one compiled function per score, configuration and state
        shapes, shared by every instance (a result is a few dozen tiny ops,
        which a graph runs in a fraction of the time eager dispatch takes);
        traced (or symbolic, when Keras builds metrics) the same ops inline.
        """
        if not self.state_built:
            return ops.cast(self.empty_result(), self.result_dtype)
        state = self.state_values()
        dtype = self.result_dtype
        options = tuple(sorted(self.score_options().items()))
        score = type(self).score
        if not _inputs.is_eager(state["invalid"]):
            return guarded_score(state, score=score, options=options, dtype=dtype)
        shapes = tuple((k, tuple(v.shape)) for k, v in self.state_variables.items())
        return _compiled_score(keras.backend.backend(), score, options, dtype, shapes)(
            state
        )

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
        warn_invalid(self, counts, INVALID_TEXT, stacklevel=4)

    @property
    def result_dtype(self) -> str:
        """The result's dtype: `dtype`, float32 for float64 on JAX without x64."""
        return _backend.available_dtype(self.dtype)

    def guard(self, value: Any) -> Any:
        """`value` as this metric's dtype, NaN wherever invalid input was seen."""
        return self.guarded(value, self.invalid)

    def guarded(self, value: Any, invalid: Any) -> Any:
        """`guard` for a given value of the `invalid` state (pure)."""
        return guarded(value, invalid, self.result_dtype)

    # -- merging ----------------------------------------------------------
    def _merge_key(self) -> dict[str, Any]:
        config = dict(self.get_config())
        config.pop("name", None)
        return config

    def merge_state(self, metrics: Iterable[StreamingMetric]) -> None:
        """Merges the state of `metrics` (same class and configuration) into this one.

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
            cls = type(self)
            raw = other._raw_state()
            additive = raw if cls.merge is None else cls.additive
            exact = {
                n: v
                for n, v in raw.items()
                if n.removesuffix(_backend.LOW_SUFFIX) in additive
            }
            self._assign(merged(cls, self._merge_view(), other._merge_view()), exact)


def merged(
    cls: type[StreamingMetric], state: Mapping[str, Any], other: Mapping[str, Any]
):
    """`cls`'s merge of two states: `cls.merge`, or the sum when additive."""
    if cls.merge is not None:
        return cls.merge(dict(state), dict(other))
    return {name: state[name] + other[name] for name in state}


def invalid_counts(**masks: Any) -> Any:
    """Invalid-entry counts by reason.

    `(NUM_REASONS,)` float64 counts of the True entries of each mask,
    keyed by reason (`_inputs.INVALID_REASONS`); missing reasons count 0.
    """
    counts = []
    dtype = _backend.state_dtype()
    for reason in _inputs.INVALID_REASONS:
        mask = masks.get(reason)
        counts.append(
            ops.zeros((), dtype) if mask is None else ops.sum(ops.cast(mask, dtype))
        )
    return ops.stack(counts)


def warn_invalid(
    metric: keras.metrics.Metric,
    counts: Any,
    texts: dict[str, tuple[str, str]],
    *,
    stacklevel: int,
) -> None:
    """One `UserWarning` per reason with invalid entries in `counts`.

    `counts` is the metric's concrete `invalid` state (`NUM_REASONS` counts,
    `_inputs.INVALID_REASONS` order); `texts` maps each reason to what was
    seen and its fix. Shared by the package's metrics and `compat.tfa`'s.
    """
    for reason, count in zip(_inputs.INVALID_REASONS, counts, strict=True):
        if count > 0:
            what, fix = texts[reason]
            warnings.warn(
                f"{type(metric).__name__}(name={metric.name!r}).result() is NaN: "
                f"{int(count)} entries with {what} were seen while traced "
                "(in `fit`, `evaluate` or a compiled function, where no "
                f"error can be raised). Fix: {fix}. `reset_state()` clears "
                "the state.",
                UserWarning,
                stacklevel=stacklevel,
            )


def guarded(value: Any, invalid: Any, dtype: Any) -> Any:
    """`value` as `dtype`, NaN wherever the `invalid` counts are non-zero."""
    value = ops.convert_to_tensor(value)
    nan = ops.full_like(value, float("nan"))
    return ops.cast(ops.where(ops.sum(invalid) > 0, nan, value), dtype)


def guarded_score(
    state: dict[str, Any], *, score: Callable[..., Any], options: tuple, dtype: str
) -> Any:
    """`score(state, **options)`, guarded by `state["invalid"]` (pure)."""
    return guarded(score(state, **dict(options)), state["invalid"], dtype)


@functools.cache
def _compiled_score(
    backend: str, score: Callable[..., Any], options: tuple, dtype: str, shapes: tuple
) -> Callable[[dict[str, Any]], Any]:
    """One compiled `guarded_score` per configuration.

    One compiled `guarded_score` per backend, score function, options,
    dtype and state shapes (traced once per shape, never retraced). It takes
    the state values as arguments and holds no metric.
    """
    del backend, shapes  # part of the cache key only
    fn = functools.partial(guarded_score, score=score, options=options, dtype=dtype)
    return _backend.jit_on_state(fn, xla=False)


def full_signature(cls: type) -> inspect.Signature:
    """`cls`'s constructor signature, its `**kwargs` followed up the bases.

    A constructor names only the arguments its class adds and passes
    `**kwargs` on; this composes what a caller may pass: the class's own
    parameters first, then each base's (keyword-only) until a constructor
    without `**kwargs`, with `name` defaulting to `default_name`. It is the
    signature `inspect.signature(cls)` and `help(cls)` show.
    """
    positional: list[inspect.Parameter] = []
    keyword: list[inspect.Parameter] = []
    seen: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        follow = False
        for p in list(inspect.signature(init).parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                follow = True
            elif p.kind is not p.VAR_POSITIONAL and p.name not in seen:
                seen.add(p.name)
                default_name = getattr(cls, "default_name", None)
                if p.name == "name" and default_name:
                    p = p.replace(default=default_name)
                if p.kind is p.KEYWORD_ONLY or klass is not cls:
                    keyword.append(p.replace(kind=p.KEYWORD_ONLY))
                else:
                    positional.append(p)
        if not follow:
            break
    return inspect.Signature([*positional, *keyword])


# --------------------------------------------------------------------------
# Shared formulas
# --------------------------------------------------------------------------
def average_classes(
    per_class: Any,
    support: Any,
    *,
    average: str | None,
    skip_nan: bool = False,
    drop_unsupported: bool = False,
    no_support: float | None = None,
) -> Any:
    """Averages per-class scores `(..., K)`; the rules are the arguments.

    `average`: `"macro"` (mean over classes), `"weighted"` (weighted by
    `support`, e.g. each class's true count) or None (the vector itself).
    `skip_nan`: leave NaN classes out of both means (NaN if all are), as
    scikit-learn's precision / recall / F-beta under `zero_division=nan`;
    otherwise NaN propagates (NumPy's mean, `jaccard_score`). `drop_unsupported`:
    a class without support counts 0 at weight 0 even when NaN (scikit-learn's
    `_average_binary_score`). `no_support`: the weighted average when the
    support sums to 0 (None: the macro mean).
    """
    if average is None:
        return per_class
    if skip_nan:
        defined = ops.logical_not(ops.isnan(per_class))
        clean = ops.where(defined, per_class, ops.zeros_like(per_class))
        mask = ops.cast(defined, per_class.dtype)
        plain = ops.sum(clean, axis=-1) / ops.sum(mask, axis=-1)  # 0/0: NaN
    else:
        clean = per_class
        mask = None
        plain = ops.mean(per_class, axis=-1)
    if average == "macro":
        return plain
    if drop_unsupported:
        clean = ops.where(support > 0, clean, ops.zeros_like(clean))
    weights = support if mask is None else support * mask
    total = ops.sum(weights, axis=-1)
    weighted = ops.sum(clean * weights, axis=-1) / ops.where(
        total > 0, total, ops.ones_like(total)
    )
    fallback = plain if no_support is None else no_support
    return ops.where(total > 0, weighted, fallback)
