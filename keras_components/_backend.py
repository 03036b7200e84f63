"""Backend-specific execution, kept to this one place.

`jit(fn)` compiles a pure `keras.ops` function for the current backend: XLA
through `tf.function(jit_compile=True)` on TensorFlow, `jax.jit` on JAX, and
`fn` itself on PyTorch. Metrics run their per-batch kernels through it, so an
update is one fused computation whether the caller is eager, a plain
`tf.function` (a compiled function called from a graph stays compiled), or
already under XLA (where it is simply inlined). The kernels take and return
tensors only; their static configuration is bound before compiling, so one
compiled function serves every metric of one configuration and holds no
metric (a deleted metric is garbage-collectable).

`accumulator(fn)` and `state_arguments(variables)` remove the remaining eager
dispatches of a metric update and result on TensorFlow, where each eager op
and each compiled call costs a fixed Python overhead (about 0.1 ms and 0.5 ms
on a small CPU) that dominates a metric on one batch. `state_replacer(fn)` is
the same for a kernel that returns the new state instead of increments
(AUROC), so that XLA can update a large state in place, also inside `fit`.

Compile costs on TensorFlow. XLA compiles per concrete input shape (about
0.2-0.5 s for a metric kernel on a small CPU), so an eager update compiled
per batch size would pay that for every new size, e.g. a loop's last partial
batch. An eager update therefore runs as a plain graph traced once for any
batch size (the leading axis is left unknown) until its exact input shapes
come back (`XLA_AFTER_CALLS`), and only then is compiled with XLA for those
shapes: a steady batch size gets the fused XLA kernel from its second update,
a size seen once costs no compilation. On JAX each new input shape is traced
and compiled once (about 0.1 s; JAX has no shape-polymorphic execution);
PyTorch runs the kernels eagerly.

`segment_sum`, `cumsum`, `maximum`, `minimum`, `floor` and `matmul` are
`keras.ops`'s except on PyTorch, where Keras 3.15 computes them in float32
for float64 inputs (its `segment_sum` scatters `data.float()`; its
`result_type` maps 64-bit to 32-bit dtypes off TensorFlow, and the others
cast to it): a float64 count is then exact only to 2**24. Ours call torch in
the inputs' dtype (float64 counts are exact to 2**53, int32 to 2**31).

`float64_state()`, `add_words` and `added_state`: where float64 is
unavailable (JAX without `jax_enable_x64`), metric state is two float32
words per value, added error-free (TwoSum), through the same accumulator and
state replacer; elsewhere state is plain float64.

`custom_vjp(forward, backward)` attaches a hand-written gradient with one
calling convention on TensorFlow, JAX and PyTorch (the region losses' sums).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_components import _inputs

# Keras has no public query for "inside a `keras.StatelessScope`" (private
# Keras APIs live in `_keras_compat`).
from keras_components._keras_compat import in_stateless_scope, in_symbolic_scope

# An eager update on TensorFlow is compiled with XLA for its exact input
# shapes from the `XLA_AFTER_CALLS`-th call with them; before that (and for
# shapes never seen again) it runs as a plain graph.
XLA_AFTER_CALLS = 2
# How many not-yet-compiled shapes an update remembers the calls of.
_MAX_COUNTED_SHAPES = 256


class _Traced:
    """`fn` as a callable of its own for `tf.function`.

    TensorFlow keys its retracing statistics by the Python code object, so
    many compiled functions made from one closure (one per metric
    configuration, each traced once) would read as one function retraced
    over and over and log "triggered tf.function retracing" warnings. A
    callable object is keyed by itself.
    """

    __slots__ = ("__weakref__", "fn")
    traces = 0  # Python traces of every such function (`tracing_count`)

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        _Traced.traces += 1  # runs only while TensorFlow traces
        return self.fn(*args)


def tracing_count() -> int:
    """How many times TensorFlow traced the functions compiled here.

    All of them together: a cost to keep at one per configuration.
    """
    return _Traced.traces


def _tf_function(fn: Callable[..., Any], *, jit_compile: bool) -> Any:
    import tensorflow as tf

    return tf.function(_Traced(fn), jit_compile=jit_compile, autograph=False)


def jit(fn: Callable[..., Any], *, xla: bool = True) -> Callable[..., Any]:
    """`fn` compiled for the current backend.

    `xla=False` asks TensorFlow for a plain graph (no XLA compilation): enough
    to run many tiny ops (a metric's `result()`) without eager dispatch, at a
    fraction of XLA's compile time.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tf_function(fn, jit_compile=xla)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def segment_sum(data: Any, segment_ids: Any, num_segments: int) -> Any:
    """`out[i] = sum(data[segment_ids == i])`, in `data`'s dtype.

    `segment_ids` must lie in `[0, num_segments)`. On PyTorch, Keras's
    `segment_sum` accumulates in float32; this one does not.
    """
    if keras.backend.backend() != "torch":
        return ops.segment_sum(data, segment_ids, num_segments=num_segments)
    import torch

    data = ops.convert_to_tensor(data)
    segment_ids = ops.convert_to_tensor(segment_ids).to(torch.int64)
    if data.ndim == 1 and data.is_floating_point():
        # bincount sums in the weights' dtype (and is the fastest here).
        counts = torch.bincount(segment_ids, weights=data, minlength=num_segments)
        return counts.to(data.dtype)
    out = torch.zeros(
        (num_segments, *data.shape[1:]), dtype=data.dtype, device=data.device
    )
    return out.index_add_(0, segment_ids, data)


def _torch_operands(x: Any, y: Any) -> tuple[Any, Any]:
    """`x` and `y` as torch tensors, a Python number in the other's dtype."""
    import torch

    if not isinstance(x, torch.Tensor) and isinstance(y, torch.Tensor):
        y, x = _torch_operands(y, x)
        return x, y
    x = ops.convert_to_tensor(x)
    if isinstance(y, (bool, int, float)) and x.is_floating_point():
        y = torch.tensor(y, dtype=x.dtype, device=x.device)
    else:
        y = ops.convert_to_tensor(y)
    return x, y


def cumsum(x: Any, axis: int) -> Any:
    """`ops.cumsum(x, axis)`, in `x`'s dtype on PyTorch too (bool: int32)."""
    if keras.backend.backend() != "torch":
        return ops.cumsum(x, axis=axis)
    import torch

    x = ops.convert_to_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    # (torch.cumsum alone promotes integers to int64.)
    return torch.cumsum(x, dim=axis, dtype=x.dtype)


def maximum(x: Any, y: Any) -> Any:
    """`ops.maximum(x, y)`, float64 kept on PyTorch (a number takes `x`'s dtype)."""
    if keras.backend.backend() != "torch":
        return ops.maximum(x, y)
    import torch

    return torch.maximum(*_torch_operands(x, y))


def minimum(x: Any, y: Any) -> Any:
    """`ops.minimum(x, y)`, float64 kept on PyTorch (a number takes `x`'s dtype)."""
    if keras.backend.backend() != "torch":
        return ops.minimum(x, y)
    import torch

    return torch.minimum(*_torch_operands(x, y))


def floor(x: Any) -> Any:
    """`ops.floor(x)`, in a floating `x`'s dtype on PyTorch too."""
    if keras.backend.backend() != "torch":
        return ops.floor(x)
    x = ops.convert_to_tensor(x)
    if not x.is_floating_point():
        return ops.floor(x)
    import torch

    return torch.floor(x)


def matmul(x: Any, y: Any) -> Any:
    """`ops.matmul(x, y)`, float64 kept on PyTorch (same floating dtypes)."""
    if keras.backend.backend() != "torch":
        return ops.matmul(x, y)
    x, y = ops.convert_to_tensor(x), ops.convert_to_tensor(y)
    if not (x.is_floating_point() and x.dtype == y.dtype):
        return ops.matmul(x, y)
    import torch

    return torch.matmul(x, y)


def _tf_handles(variables: Mapping[str, keras.Variable]) -> dict[str, Any] | None:
    """The `tf.Variable`s behind Keras variables, when they can be passed.

    The `tf.Variable`s behind Keras variables when a compiled function may
    take them as arguments: TensorFlow, eager, plain (not per-replica)
    variables outside a distribution strategy; distributed variables go
    through Keras's own assign, also when used outside their strategy's scope.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if (
        not tf.executing_eagerly()
        or tf.distribute.has_strategy()
        or in_stateless_scope()  # assignments must go to the scope, not the variables
    ):
        return None
    handles = {name: v.value for name, v in variables.items()}
    if all(
        isinstance(h, tf.Variable)
        and not isinstance(h, tf.distribute.DistributedValues)
        for h in handles.values()
    ):
        return handles
    return None


def cross_replica_read() -> bool:
    """Whether a state read now is summed over replicas.

    Whether a state read now is the sum over a distribution strategy's
    replicas (TensorFlow, inside a strategy's scope, cross-replica context).
    """
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()


# `tf.distribute` strategies whose replicas each update their own copy of a
# metric's state, summed when read across replicas, and Keras distributions
# (JAX) that update it from the whole global batch: each tested in
# tests/distributed. Measured otherwise: `CentralStorageStrategy` keeps one
# copy that every replica writes (a wrong F1 in `evaluate`);
# `ParameterServerStrategy` and `TPUStrategy` are untested, so refused too.
SUPPORTED_STRATEGIES = (
    "MirroredStrategy",
    "MultiWorkerMirroredStrategy",
    "OneDeviceStrategy",
)
SUPPORTED_DISTRIBUTIONS = ("DataParallel", "ModelParallel")


def check_distribution(variables: Any, metric: str) -> None:
    """Raises for a distribution the metric state cannot be exact under.

    Called on every update (also while tracing): a `tf.distribute` strategy
    or Keras distribution not in the supported list is a `ValueError`
    naming it; so is an update in the replica context of a strategy with
    several replicas of a metric whose state variables were created outside
    its scope (every replica would write one plain variable, racing).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        distribution = keras.distribution.distribution()
        supported = tuple(
            getattr(keras.distribution, n) for n in SUPPORTED_DISTRIBUTIONS
        )
        if distribution is not None and not isinstance(distribution, supported):
            raise ValueError(
                f"{metric} does not support the Keras distribution "
                f"{type(distribution).__name__}: its state is exact when "
                "replicated and updated from the whole global batch. Supported: "
                f"{', '.join(SUPPORTED_DISTRIBUTIONS)} (see docs/scaling.md)."
            )
        return
    if backend != "tensorflow":
        return
    import tensorflow as tf

    if not tf.distribute.has_strategy():
        return
    strategy = tf.distribute.get_strategy()
    name = type(strategy).__name__
    supported = tuple(getattr(tf.distribute, n) for n in SUPPORTED_STRATEGIES)
    if not isinstance(strategy, supported):
        raise ValueError(
            f"{metric} does not support tf.distribute strategy {name}: its "
            "state must be one copy per replica, summed when read. Supported: "
            f"{', '.join(SUPPORTED_STRATEGIES)} (see docs/scaling.md)."
        )
    if tf.distribute.in_cross_replica_context() or strategy.num_replicas_in_sync < 2:
        return
    plain = [
        v.name
        for v in variables
        if not isinstance(v.value, tf.distribute.DistributedValues)
    ]
    if plain:
        raise ValueError(
            f"{metric} was created outside `strategy.scope()` of {name} and is "
            f"updated inside it: its state variables {plain} are one plain copy "
            "that every replica would write. Create the metric inside "
            "`with strategy.scope():` (where the model is compiled)."
        )


def _rejected(increments: Mapping[str, Any]) -> bool:
    """Whether concrete (eager) increments count invalid input.

    Any shape of `invalid` (a count, or counts by reason): "no invalid input"
    is every count 0. Traced increments have no value yet: not rejected.
    """
    count = _inputs.concrete_value(increments["invalid"])
    return count is not None and bool(np.any(count != 0))


class _EagerTensorFlowCall:
    """Eager calls of `fn(handles, *tensors)`, traced once for any batch size.

    Calls run a concrete function: a plain graph traced with the leading
    axis of every tensor unknown, or, once a call's exact shapes and dtypes
    have come `XLA_AFTER_CALLS` times, an XLA compilation for them. Calling
    concrete functions directly also skips `tf.function`'s dispatch.

    Exact shapes (leading axes that differ, or a kernel that rejects the
    relaxed trace) are traced by a function of their own: `tf.function`
    serves a request for exact shapes from any cached trace whose signature
    admits them, so a relaxed trace `(None,)` would run `y_true` of shape
    `(1,)` against `y_pred` of `(5, 3)` unchecked (broadcast into a wrong
    value) instead of tracing those shapes, whose checks raise.
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._graph = _tf_function(fn, jit_compile=False)
        self._exact = _tf_function(fn, jit_compile=False)
        self._xla = _tf_function(fn, jit_compile=True)
        self._relaxed: dict[tuple, Any] = {}
        self._compiled: dict[tuple, Any] = {}
        self._calls: dict[tuple, int] = {}

    def __call__(self, handles: Mapping[str, Any], *tensors: Any) -> Any:
        import tensorflow as tf

        tensors = tuple(
            t if t is None or tf.is_tensor(t) else tf.convert_to_tensor(t)
            for t in tensors
        )
        key = tuple(None if t is None else (tuple(t.shape), t.dtype) for t in tensors)
        concrete = self._compiled.get(key)
        if concrete is None:
            calls = self._calls.get(key, 0) + 1
            if calls >= XLA_AFTER_CALLS:
                self._calls.pop(key, None)
                concrete = self._xla.get_concrete_function(handles, *tensors)
                self._compiled[key] = concrete
            else:
                if len(self._calls) >= _MAX_COUNTED_SHAPES:
                    self._calls.clear()
                self._calls[key] = calls
                concrete = self._relaxed_function(handles, tensors)
        return concrete(handles, *tensors)

    def _relaxed_function(self, handles: Mapping[str, Any], tensors: tuple) -> Any:
        import tensorflow as tf

        batch_sizes = {t.shape[0] for t in tensors if t is not None and t.shape.rank}
        if len(batch_sizes) != 1:
            # Leading axes that differ (an error the kernel reports while
            # tracing) or no leading axis at all: trace the exact shapes.
            return self._exact.get_concrete_function(handles, *tensors)
        specs = tuple(
            None
            if t is None
            else tf.TensorSpec((None, *t.shape[1:]) if t.shape.rank else (), t.dtype)
            for t in tensors
        )
        if specs not in self._relaxed:
            try:
                concrete = self._graph.get_concrete_function(handles, *specs)
            except (ValueError, TypeError):
                # Inputs a kernel rejects while tracing (incompatible shapes),
                # or one that needs the exact shapes: trace per exact shape,
                # which also names the shapes in any error.
                concrete = None
            self._relaxed[specs] = concrete
        concrete = self._relaxed[specs]
        if concrete is None:
            concrete = self._exact.get_concrete_function(handles, *tensors)
        return concrete


class _TensorFlowAccumulator:
    """`accumulator(fn)` on TensorFlow (see there)."""

    def __init__(self, fn: Callable[..., Mapping[str, Any]], reads: tuple) -> None:
        self._reads = reads

        def add_in_place(handles, *args):
            increments = fn({n: _read(handles[n]) for n in reads}, *args)
            keep = ops.all(ops.equal(increments["invalid"], 0))
            for name, handle in handles.items():
                value = ops.cast(increments[name], handle.dtype)
                handle.assign_add(ops.where(keep, value, ops.zeros_like(value)))
            return increments

        self._fused = _EagerTensorFlowCall(add_in_place)
        self._eager_kernel = _EagerTensorFlowCall(fn)
        self._kernel = _tf_function(fn, jit_compile=True)

    def __call__(self, variables: Mapping[str, keras.Variable], *args: Any):
        import tensorflow as tf

        handles = _tf_handles(variables)
        if handles is not None:
            return self._fused(handles, *args)
        state = {n: tf.convert_to_tensor(variables[n].value) for n in self._reads}
        if tf.executing_eagerly():  # a distribution strategy or a StatelessScope
            increments = self._eager_kernel(state, *args)
        else:
            increments = self._kernel(state, *args)
        _assign_sums(variables, increments)
        return increments


# --------------------------------------------------------------------------
# Two-word state where float64 is unavailable (JAX without `jax_enable_x64`)
# --------------------------------------------------------------------------
# The companion variable of a state `x` kept as two float32 words: `x` holds
# the high word, `x + LOW_SUFFIX` the low word, the value is their sum.
LOW_SUFFIX = "__lo"


def float64_state() -> bool:
    """Whether float64 state variables hold float64 values on this backend.

    False only on JAX without `jax_enable_x64`, where a float64 variable is
    silently stored as float32 (exact to 2**24 only); metrics then keep each
    state as two float32 words (`add_words`).
    """
    if keras.backend.backend() != "jax":
        return True
    import jax

    return bool(jax.config.read("jax_enable_x64"))


def state_dtype() -> str:
    """The dtype of metric state and of the kernels' sums on this backend.

    `"float64"` where `float64_state()`, else `"float32"` (the two-word
    representation's word): asking JAX without `jax_enable_x64` for float64
    only truncates it to float32, with a warning. Read when a kernel is
    traced or a variable is created, so enabling x64 at startup is enough.
    """
    return "float64" if float64_state() else "float32"


def available_dtype(dtype: Any) -> str:
    """`dtype` (standardized), float32 for float64 where float64 is unavailable.

    A metric asked for a float64 result (its configuration keeps the
    request, so a saved model loads as float64 elsewhere) returns float32
    on JAX without `jax_enable_x64`, the nearest it can hold, instead of
    asking JAX for float64 (which truncates it, with a warning).
    """
    dtype = keras.backend.standardize_dtype(dtype)
    return "float32" if dtype == "float64" and not float64_state() else dtype


def add_words(hi: Any, lo: Any, x: Any, x_lo: Any = None) -> tuple[Any, Any]:
    """`(hi, lo) + (x, x_lo)` as two words, with no rounding error (pure).

    Knuth's TwoSum of the high words (branch-free, any order of magnitude)
    gives their sum and its exact rounding error; the error and the low
    words go into the low word, and Fast2Sum renormalises the pair so that
    `|lo| <= ulp(hi) / 2`. Integer counts stay exact while the total is
    below `2**48` in float32 (the low word's sum is exact below `2**24`);
    sums of reals carry about 48 bits. A non-finite sum (an `inf` "unknown"
    increment, NaN from traced invalid input) is kept as the high word with
    a zero low word, so it propagates as in one word.
    """
    x = ops.cast(x, hi.dtype)
    total = hi + x
    x_part = total - hi
    error = (hi - (total - x_part)) + (x - x_part)
    low = lo + error
    if x_lo is not None:
        low = low + ops.cast(x_lo, hi.dtype)
    new_hi = total + low
    new_lo = low - (new_hi - total)
    finite = ops.isfinite(total)
    return (
        ops.where(finite, new_hi, total),
        ops.where(ops.logical_and(finite, ops.isfinite(new_lo)), new_lo, 0.0),
    )


def word_pairs(names: Any) -> list[str]:
    """The state names among `names` kept as two words (their low word present)."""
    names = set(names)
    return [n for n in names if not n.endswith(LOW_SUFFIX) and n + LOW_SUFFIX in names]


def fold_words(state: Mapping[str, Any]) -> dict[str, Any]:
    """The state's values by name, each two-word pair read as `hi + lo`."""
    return {
        name: value + state[name + LOW_SUFFIX] if name + LOW_SUFFIX in state else value
        for name, value in state.items()
        if not name.endswith(LOW_SUFFIX)
    }


def added_state(
    state: Mapping[str, Any], increments: Mapping[str, Any]
) -> dict[str, Any]:
    """Every value of `state` (raw, low words included) plus its increment (pure).

    A two-word pair gains the increment by `add_words`; a plain value (float64
    state, or one without a low word) by `+`. An increment may itself be a
    pair, `increments[name + LOW_SUFFIX]` holding its low word.
    """
    new = dict(state)
    for name, value in state.items():
        if name.endswith(LOW_SUFFIX) or name not in increments:
            continue
        increment = ops.cast(increments[name], value.dtype)
        low_name = name + LOW_SUFFIX
        if low_name in state:
            new[name], new[low_name] = add_words(
                value, state[low_name], increment, increments.get(low_name)
            )
        else:
            new[name] = value + increment
    return new


def _assign_sums(
    variables: Mapping[str, keras.Variable], increments: Mapping[str, Any]
) -> None:
    """Adds the increments into the variables, unless eager ones are invalid."""
    if _rejected(increments):
        return  # the caller raises; the state stays as it was
    if in_symbolic_scope():
        # Shape inference needs no state. On PyTorch Keras infers shapes on
        # meta tensors and, when that fails, again on CPU tensors in the same
        # StatelessScope, where a first-try assignment would still hold meta.
        return
    values = {name: v.value for name, v in variables.items()}
    for name, value in added_state(values, increments).items():
        variables[name].assign(ops.cast(value, variables[name].dtype))


def accumulator(
    fn: Callable[..., Mapping[str, Any]],
    *,
    reads: tuple[str, ...] = (),
) -> Callable[..., Mapping[str, Any]]:
    """A compiled update adding `fn(*args)` into state variables.

    With `reads`, the kernel is `fn(state, *args)`: `state` holds the current
    values of those variables by name (read inside the compiled call), for
    increments that depend on the state (still added, as below).

    `fn(*args)` returns increments by state name (one must be `"invalid"`:
    counts, of any shape, of inputs that could not be counted). The result
    `update(variables, *args)` adds each increment into `variables[name]` and
    returns the increments.

    An eager update whose increments count invalid input leaves the state
    exactly as it was, on every backend and under a distribution strategy
    (the caller raises on it). Eagerly on TensorFlow the kernel and the
    additions run as one compiled call taking the variables as arguments
    (see the module docstring for when it is compiled with XLA); eagerly on
    JAX as one jitted call returning the new state. A traced
    update (in a graph, `jax.jit`, `torch.compile`) cannot know the count:
    it adds every sum, invalid counts included, which is how a traced update
    reports bad input (`result()` turns NaN).
    """
    if not reads:
        fn = (lambda f: lambda state, *args: f(*args))(fn)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _TensorFlowAccumulator(fn, reads)
    kernel = jit(fn)
    fused = _jax_fused(fn, reads) if backend == "jax" else None

    def update(variables: Mapping[str, keras.Variable], *args: Any):
        if fused is not None and _jax_eager(variables, args):
            values = {name: v.value for name, v in variables.items()}
            new_values, increments = fused(values, *args)
            for name, variable in variables.items():
                variable.assign(new_values[name])
            return increments
        values = {n: variables[n].value for n in _with_words(reads, variables)}
        increments = kernel(fold_words(values), *args)
        _assign_sums(variables, increments)
        return increments

    return update


def _with_words(names: tuple[str, ...], state: Mapping[str, Any]) -> list[str]:
    """`names` and the low words of those kept as two words in `state`."""
    return [*names, *(n + LOW_SUFFIX for n in names if n + LOW_SUFFIX in state)]


def _jax_fused(
    fn: Callable[..., Mapping[str, Any]], reads: tuple
) -> Callable[..., Any]:
    """A fused JAX update that leaves a rejected batch out of the state.

    `jax.jit` of `(state, *args) -> (state + increments, increments)`, the
    increments of a batch with invalid input replaced by zeros: an eager
    update that keeps a rejected batch out of the state without waiting for
    the count on the host first.
    """
    import jax

    def add_kept(state, *args):
        increments = fn(
            fold_words({n: state[n] for n in _with_words(reads, state)}), *args
        )
        keep = ops.all(ops.equal(increments["invalid"], 0))
        kept = {
            name: ops.where(keep, ops.cast(increments[name], state[name].dtype), 0)
            for name in state
            if name in increments
        }
        return added_state(state, kept), increments

    return jax.jit(add_kept)


def _jax_eager(variables: Mapping[str, keras.Variable], args: tuple) -> bool:
    """Whether a JAX update runs eagerly (no tracer, no `StatelessScope`)."""
    import jax

    if in_stateless_scope():
        return False
    values = [v.value for v in variables.values()]
    return not any(isinstance(x, jax.core.Tracer) for x in (*values, *args))


def _tf_traced_handles(
    variables: Mapping[str, keras.Variable],
) -> dict[str, Any] | None:
    """The `tf.Variable`s behind Keras variables in a traced TensorFlow step.

    As `_tf_handles`, while tracing (`fit`, `evaluate`, `tf.function`): None
    under a distribution strategy or in a `StatelessScope`.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    if tf.executing_eagerly() or tf.distribute.has_strategy() or in_stateless_scope():
        return None
    handles = {name: v.value for name, v in variables.items()}
    if all(
        isinstance(h, tf.Variable)
        and not isinstance(h, tf.distribute.DistributedValues)
        for h in handles.values()
    ):
        return handles
    return None


def _assign_all(variables: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    for name, variable in variables.items():
        variable.assign(ops.cast(values[name], variable.dtype))


class _TensorFlowReplacer:
    """`state_replacer(fn)` on TensorFlow (see there)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        def in_place(handles, *args, gate):
            new, report = fn(
                {n: _read(h) for n, h in handles.items()}, *args, gate=gate
            )
            _assign_all(handles, new)
            return report

        def eager_in_place(handles, *args):
            return in_place(handles, *args, gate=True)

        def on_resources(resources, dtypes, *args):
            # Raw resource tensors (not `tf.Variable`s, which a function
            # traced inside another one would capture, keeping the first
            # caller's variables): one function serves every metric.
            import tensorflow as tf

            state = {
                name: tf.raw_ops.ReadVariableOp(resource=r, dtype=dtypes[name])
                for name, r in resources.items()
            }
            new, report = fn(state, *args, gate=False)
            for name, r in resources.items():
                value = ops.cast(new[name], dtypes[name])
                tf.raw_ops.AssignVariableOp(resource=r, value=value)
            return report

        self._eager = _EagerTensorFlowCall(eager_in_place)
        self._traced = _tf_function(on_resources, jit_compile=True)
        self._eager_kernel = _EagerTensorFlowCall(
            lambda state, *args: fn(state, *args, gate=True)
        )
        self._kernel = _tf_function(
            lambda state, *args: fn(state, *args, gate=False), jit_compile=True
        )

    def __call__(self, variables: Mapping[str, keras.Variable], *args: Any):
        import tensorflow as tf

        handles = _tf_handles(variables)
        if handles is not None:
            return self._eager(handles, *args)
        handles = _tf_traced_handles(variables)
        if handles is not None:
            resources = {name: h.handle for name, h in handles.items()}
            dtypes = {name: h.dtype for name, h in handles.items()}
            return self._traced(resources, dtypes, *args)
        state = {n: tf.convert_to_tensor(v.value) for n, v in variables.items()}
        if tf.executing_eagerly():  # a distribution strategy or a StatelessScope
            new, report = self._eager_kernel(state, *args)
        else:
            new, report = self._kernel(state, *args)
        if not _rejected(report):
            _assign_all(variables, new)
        return report


def _replaced_words(
    fn: Callable[..., Any], additive: tuple[str, ...]
) -> Callable[..., Any]:
    """`fn` of `state_replacer` on a state whose values may be two words.

    Without low words, `fn` itself. With them (no float64), `fn` reads the
    folded values (`hi + lo`) and its new values become increments: for the
    `additive` states (new = old + a batch term that does not depend on the
    old state) the exact batch term, `fn` of a zero state; for the others
    the change `new - old`. Each is added into its pair (`add_words`).
    """

    def on_words(values, *args, gate):
        if not word_pairs(values):
            return fn(values, *args, gate=gate)
        folded = fold_words(values)
        new, report = fn(folded, *args, gate=gate)
        increments = {n: new[n] - folded[n] for n in folded if n not in additive}
        if additive:
            zero = {n: ops.zeros_like(v) for n, v in folded.items()}
            exact, _ = fn(zero, *args, gate=gate)
            increments.update({n: exact[n] for n in additive})
        return added_state(values, increments), report

    return on_words


def state_replacer(
    fn: Callable[..., Any], *, additive: tuple[str, ...] = ()
) -> Callable[..., Mapping[str, Any]]:
    """A compiled update replacing state variables by `fn`'s new values.

    `fn(state, *args, gate)` gets every variable's current value by name and
    returns `(new_state, report)`: the new value of every variable, and
    `report["invalid"]`, the batch's counts of invalid input. With
    `gate=True` (eager calls) a batch with invalid input must give every
    value unchanged; with `gate=False` (traced) it adds what a traced
    `accumulator` adds. The result `update(variables, *args)` assigns the
    new values and returns the report.

    Unlike `accumulator`, whose increments are added to the state after the
    kernel, `fn` updates the state itself, which lets XLA update a large
    state in place: on TensorFlow the kernel and the assignments run as one
    compiled call taking the variables, eagerly (as `accumulator`) and also
    while traced, in a plain graph too (an XLA function called from it).
    XLA updates a value in place only when nothing reads the old value after
    the update; a read of the old value alongside the new one copies it
    (for AUROC's default histogram, 2.6 MB in every step). Under a
    distribution strategy or a `StatelessScope`, and on JAX and PyTorch,
    the new values are assigned after the kernel; an eager batch with
    invalid input leaves the state as it was on every backend.

    `additive`: the states whose new value is the old one plus a term of
    the batch alone; where the state is two float32 words (JAX without
    x64) that term is added exactly (`_replaced_words`).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _TensorFlowReplacer(fn)
    fn = _replaced_words(fn, additive)
    eager_kernel = jit(lambda state, *args: fn(state, *args, gate=True))

    def update(variables: Mapping[str, keras.Variable], *args: Any):
        values = {name: v.value for name, v in variables.items()}
        if backend == "jax" and _jax_eager(variables, args):
            new, report = eager_kernel(values, *args)
        else:
            new, report = fn(values, *args, gate=False)
        if not _rejected(report):
            _assign_all(variables, new)
        return report

    return update


def state_arguments(variables: Mapping[str, keras.Variable]) -> dict[str, Any]:
    """The variables' values, ready to pass to a function from `jit_on_state`.

    Eagerly on TensorFlow these are the variables themselves (the compiled
    function reads them: no copy op per variable); elsewhere plain tensors
    (`ops.copy` reads a TensorFlow variable in a graph, which would otherwise
    pass through unread).
    """
    handles = _tf_handles(variables)
    if handles is not None:
        return handles
    return {name: _read(v.value) for name, v in variables.items()}


def _read(value: Any) -> Any:
    return ops.copy(value)


def jit_on_state(
    fn: Callable[[dict[str, Any]], Any], *, xla: bool = True
) -> Callable[[dict[str, Any]], Any]:
    """`jit(fn)` for `fn(state)` over `state_arguments(...)`.

    any variables among them are read inside the compiled function, so `fn` sees
    tensors.
    """
    return jit(lambda state: fn({k: _read(v) for k, v in state.items()}), xla=xla)


def compiled_by_xla() -> bool:
    """Whether the code being traced now is compiled by XLA.

    True on JAX and inside TensorFlow's `jit_compile=True` functions (Keras's
    `fit` default there), where elementwise column operations fuse into one
    pass; False for TensorFlow graphs, eager code and PyTorch, where each
    operation is a pass of its own.
    """
    backend = keras.backend.backend()
    if backend == "jax":
        return True
    if backend != "tensorflow":
        return False
    import tensorflow as tf

    if tf.executing_eagerly():
        return False
    # Private TensorFlow API (2.21): TensorFlow has no public query for "this
    # graph is being compiled by XLA". If it moves, fall back to False (the
    # unfused kernels are correct, only slower under XLA).
    try:
        from tensorflow.python.ops import control_flow_util
    except ImportError:
        return False
    graph = tf.compat.v1.get_default_graph()
    return control_flow_util.GraphOrParentsInXlaContext(graph)


def graph_without_xla() -> bool:
    """Whether the code being traced now is a TensorFlow graph outside XLA.

    There each operation is a kernel and a pass of its own; a
    `fused_elementwise` function nested in it runs as one XLA cluster.
    False on other backends, eagerly and under XLA.
    """
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return not tf.executing_eagerly() and not compiled_by_xla()


def input_gradient(fn: Callable[[Any], Any], x: Any) -> Any:
    """`d sum(fn(x)) / dx`, itself differentiable (in `fn`'s weights too).

    TensorFlow: `tf.GradientTape`; JAX: `jax.vjp` (inside `jax.jit` and under
    an outer `jax.grad` alike); PyTorch: `torch.autograd.grad` with
    `create_graph=True`. Zeros where `fn(x)` does not depend on `x`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            out = fn(x)
        grads = tape.gradient(out, x)
    elif backend == "jax":
        import jax

        out, pullback = jax.vjp(fn, x)
        grads = pullback(ops.ones_like(out))[0]
    elif backend == "torch":
        import torch

        with torch.enable_grad():
            x = x.detach().requires_grad_(True) if not x.requires_grad else x
            out = fn(x)
            grads = None  # a constant `fn(x)` has no graph to differentiate
            if out.requires_grad:
                grads = torch.autograd.grad(
                    out.sum(), x, create_graph=True, allow_unused=True
                )[0]
    else:
        raise NotImplementedError(
            "Input gradients (e.g. gradient_penalty) need the TensorFlow, JAX "
            f"or PyTorch backend; the current Keras backend is {backend!r}."
        )
    return ops.zeros_like(x) if grads is None else grads


def erfc_is_one_kernel() -> bool:
    """Whether `ops.erfc` here is fast and convertible where it is traced.

    True under XLA (JAX always; TensorFlow inside `jit_compile=True`, where
    XLA fuses erfc with its neighbours) and on PyTorch (one vectorized
    kernel). False in TensorFlow graphs and eagerly outside XLA: there it is
    a separate `Erfc` op that LiteRT cannot convert (no builtin, no flex op),
    so GELU uses its exp-only form, compiled by `fused_elementwise`.
    """
    backend = keras.backend.backend()
    if backend != "tensorflow":
        return True
    import tensorflow as tf
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(
        tf.compat.v1.get_default_graph()
    )


def graph_kernel(fn: Callable[..., Any], state: Any, **static: Any) -> Any:
    """`fn(state, **static)`, as one nested XLA kernel in a plain graph.

    For a metric's score of its state: in a TensorFlow graph outside XLA
    (`graph_without_xla`: `fit`'s default on a CPU, an eager `result()`)
    each of a score's operations would be a graph kernel of its own, which
    for the operating points' and CalibrationError's ~20 small operations
    costs more than the whole update. The kernel is compiled once per `fn`
    and `static` (hashable values) and traced per state shape. Elsewhere
    `fn(state, **static)` as it is.
    """
    if not graph_without_xla():
        return fn(state, **static)
    return _graph_kernel(fn, tuple(sorted(static.items())))(state)


@functools.cache
def _graph_kernel(fn: Callable[..., Any], static: tuple) -> Callable[..., Any]:
    return fused_elementwise(functools.partial(fn, **dict(static)))


def fused_elementwise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` (elementwise, tensors in and out) as one compiled kernel.

    Also for sums of elementwise expressions (the region losses' forward
    statistics with their entrywise checks): XLA fuses the expressions into
    the reductions' passes, where a graph runs each as a kernel of its own.

    TensorFlow: `tf.function(jit_compile=True)`, in an outer graph as well
    (one XLA cluster instead of one kernel per op; the LiteRT converter
    inlines it); JAX: `jax.jit`; PyTorch: `fn` itself.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True, autograph=False, reduce_retracing=True)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    return fn


def materialized(values: Any) -> Any:
    """`values`, computed once into a buffer of their own under XLA.

    XLA on CPU fuses cheap elementwise producers into every consumer and
    recomputes them in each. Measured with the XLA of TensorFlow 2.21 (CPU,
    one thread): without this, AUROC's update, whose per-cell checks and
    binning feed five consumers, added about 1.8x as much to a compiled
    step of 256 x 10 scores. A conditional is a fusion boundary: its predicate here
    (every value exceeds the smallest int32, or the values are not NaN)
    always holds, so it returns `values` unchanged. Elsewhere (eager code,
    TensorFlow graphs, PyTorch) it costs one reduction.
    """
    if keras.backend.is_int_dtype(values.dtype):
        holds = ops.min(values) > np.iinfo(np.int32).min
    else:
        holds = ops.logical_not(ops.isnan(ops.sum(values)))
    return ops.cond(holds, lambda: values, lambda: values)


def fused_mish(x: Any) -> Any | None:
    """`x * tanh(softplus(x))` as the backend's own fused kernel, else None.

    PyTorch has one (`torch.nn.functional.mish`: one forward kernel and one
    `mish_backward` kernel). Run eagerly, as Keras runs PyTorch by default,
    each operation of a composite Mish is its own kernel with its own new
    buffer, where SiLU is one kernel each way (see the README's benchmark
    table). TensorFlow and JAX have none: None. Neither under
    `torch.compile`, which fuses the composite form into one cheaper kernel
    (one exponential) than its lowering of `mish` (exp, log1p and tanh).
    """
    if keras.backend.backend() == "torch":
        import torch

        if not torch.compiler.is_compiling():
            return torch.nn.functional.mish(x)
    return None


def sigmoid(x: Any) -> Any:
    """`ops.sigmoid(x)`, correctly rounded near 1 on JAX and PyTorch.

    Their CPU sigmoids round one float32 ulp low near 1 (0.9999999 for
    sigmoid(16.6), correctly 0.99999994), and autodiff's `s * (1 - s)`
    doubles the gradient's tail from that ulp (an error of 2e-6 in
    `gelu(approximate=True)`'s gradient at x = 5). There it is
    `where(x >= 0, 1, e) / (1 + e)` with `e = exp(-|x|)`: correctly rounded,
    its autodiff gradient has no cancellation, and nothing overflows.
    TensorFlow keeps its fused sigmoid.
    """
    if keras.backend.backend() == "tensorflow":
        return ops.sigmoid(x)
    e = ops.exp(-ops.abs(x))
    return ops.where(x >= 0, ops.ones_like(e), e) / (1.0 + e)


def tanh_grad(t: Any, dy: Any) -> Any:
    """`dy * (1 - t**2)`: the gradient of `tanh` at its output `t`, applied to `dy`.

    One kernel where the backend has one: TensorFlow's `TanhGrad` (public as
    `tf.raw_ops.TanhGrad`, lowered by XLA too), PyTorch's `tanh_backward`. In
    a TensorFlow graph that kernel reads both operands once and writes over
    `dy`'s buffer, where the plain expression takes three kernels and a new
    buffer for `t**2` (Mish's gradient uses it). JAX fuses the expression.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.raw_ops.TanhGrad(y=t, dy=dy)
    if backend == "torch":
        import torch

        return torch.ops.aten.tanh_backward(dy, t)
    return dy * (1.0 - t * t)


def custom_vjp(
    forward: Callable[..., Any],
    backward: Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[Any, ...]],
    *,
    residuals: bool = False,
) -> Callable[..., tuple[Any, ...]]:
    """`forward` (tensors in, a tuple of tensors out) with the gradient `backward`.

    `backward(saved, upstream)` gets the saved tensors and one upstream
    gradient per output (zeros for an output nothing depends on) and returns
    one gradient per input, each of its input's shape. By default `saved` is
    the inputs themselves. With `residuals=True`, `forward` returns
    `(outputs, residuals)`, both tuples of tensors, and `saved` is
    `residuals`: values of the forward pass the gradient reuses instead of
    recomputing them (the function still returns only `outputs`). Only first
    derivatives are tested; the losses using it need no more.

    Keras's `ops.custom_gradient` differs per backend (PyTorch passes
    `*args, upstream=` and takes a single output); this is one convention:
    `tf.custom_gradient`, `jax.custom_vjp` (reverse mode only, like every
    custom VJP: `jax.jvp` of it is an error) and a `torch.autograd.Function`.
    Other backends get `forward` with its autodiff gradient.
    """
    backend = keras.backend.backend()

    def split(*args):  # (outputs, saved) of one forward call
        if residuals:
            outputs, saved = forward(*args)
            return tuple(outputs), tuple(saved)
        return tuple(forward(*args)), args

    def filled(upstream, outputs):
        return tuple(
            ops.zeros_like(out) if g is None else g
            for g, out in zip(upstream, outputs, strict=True)
        )

    if backend == "tensorflow":
        import tensorflow as tf

        @tf.custom_gradient
        def tf_fn(*args):
            outputs, saved = split(*args)

            def grad(*upstream):
                return tuple(backward(saved, filled(upstream, outputs)))

            return outputs, grad

        return tf_fn
    if backend == "jax":
        import jax

        jax_fn = jax.custom_vjp(lambda *args: split(*args)[0])

        def bwd(saved, upstream):
            return tuple(backward(saved, tuple(upstream)))

        jax_fn.defvjp(split, bwd)
        return jax_fn
    if backend == "torch":
        import torch

        class _Function(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *args):
                outputs, saved = split(*args)
                ctx.save_for_backward(*saved)
                return outputs

            @staticmethod
            def backward(ctx, *upstream):
                return tuple(backward(ctx.saved_tensors, tuple(upstream)))

        return _Function.apply
    return lambda *args: split(*args)[0]


def adapter_batches(adapter: Any) -> Any:
    """A re-iterable over a Keras data adapter's batches, in the backend's form.

    What Keras's own epoch iterators use: a `tf.data.Dataset` on TensorFlow,
    a torch `DataLoader` on PyTorch (a fresh one for every iteration), JAX
    arrays on JAX (whose iterator is a one-shot generator: a fresh one for
    every iteration).
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return adapter.get_tf_dataset()
    if backend == "torch":
        # A fresh loader per pass, as Keras's torch epoch iterator does: the
        # PyDataset adapter's loader wraps a one-shot generator, and reusing
        # it would make every pass after the first one empty.
        return _Reiterable(adapter.get_torch_dataloader)
    return _Reiterable(
        adapter.get_jax_iterator if backend == "jax" else adapter.get_numpy_iterator
    )


class _Reiterable:
    __slots__ = ("make",)

    def __init__(self, make: Callable[[], Any]) -> None:
        self.make = make

    def __iter__(self) -> Any:
        return iter(self.make())


def stateful_step(fn: Callable[..., Any], *, xla: bool) -> Callable[..., Any] | None:
    """`fn` (which updates variables) as one compiled step, or None.

    On TensorFlow a `tf.function` (XLA when `xla`), as `model.evaluate` runs
    its test step: the model call and every metric update in one graph. On
    JAX and PyTorch, variables cannot be assigned inside a plain compiled
    function (JAX) or gain nothing from it (PyTorch): None, and the caller
    runs the model's compiled predict function and eager metric updates.
    """
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf.function(_Step(fn), jit_compile=xla, reduce_retracing=True)


class _Step:
    """`fn` as a callable of its own for `tf.function` (see `_Traced`).

    TensorFlow keys its retracing statistics by the code object, so the
    steps of many callbacks (one closure each) would read as one function
    retraced over and over.
    """

    __slots__ = ("__weakref__", "fn")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)
