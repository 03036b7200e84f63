"""Activation functions: `swish`, `mish`, `gelu`.

Each is a pure `keras.ops` function, registered for serialization, so that
`keras.layers.Dense(8, activation=keras_components.activations.mish)` saves as
`"keras_components>mish"` and loads back without `custom_objects`. Pass the
function object, not a string: Keras resolves plain strings only from its own
table (where `"mish"` and `"gelu"` mean Keras's versions).

ReLU, LeakyReLU, PReLU, sigmoid and softmax are Keras core's
(`keras.activations`, `keras.layers`).

Half-precision inputs (`float16`, `bfloat16`) are computed in float32 and
cast back, so mixed-precision models get float32-accurate activations.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import keras
from keras import ops

from keras_components import _backend
from keras_components._export import export
from keras_components._validation import check_bool, check_float, invalid_type

__all__ = ["gelu", "mish", "swish"]

_HALF_DTYPES = ("float16", "bfloat16")


def _as_float_tensor(x: Any):
    x = ops.convert_to_tensor(x)
    if not keras.backend.is_float_dtype(x.dtype):
        x = ops.cast(x, keras.backend.floatx())
    return x


def _in_float32(fn, x):
    """Applies `fn` in float32 when `x` is half precision, else in x's dtype."""
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in _HALF_DTYPES:
        return ops.cast(fn(ops.cast(x, "float32")), dtype)
    return fn(x)


@export
def swish(x: Any, *, beta: Any = 1.0):
    """Swish activation: `x * sigmoid(beta * x)`.

    With `beta=1` this is SiLU and uses the backend's fused SiLU kernel.
    `beta` may also be a scalar tensor or variable (see `layers.Swish` with
    `trainable_beta=True`); the gradient then flows into it.

    Args:
        x: Input tensor.
        beta: Scalar slope of the sigmoid gate: a finite Python float, or a
            scalar tensor / variable.

    Returns:
        A tensor of the same shape and dtype as `x`.

    Example:

    >>> from keras import ops
    >>> from keras_components.activations import swish
    >>> print(ops.convert_to_numpy(swish([-1.0, 0.0, 2.0], beta=2.0)).round(4))
    [-0.1192  0.      1.964 ]

    Reference:
        Ramachandran et al., 2017, "Searching for Activation Functions",
        https://arxiv.org/abs/1710.05941
    """
    x = _as_float_tensor(x)
    if isinstance(beta, numbers.Real):
        if check_float("beta", beta) == 1.0:
            return ops.silu(x)
    elif beta is None or isinstance(beta, (str, bytes)):
        raise invalid_type("beta", "a float or a scalar tensor", beta)
    return x * _backend.sigmoid(ops.cast(beta, x.dtype) * x)


@ops.custom_gradient
def _mish_with_gradient(x):
    # tanh(softplus(x)) from one exponential, exactly: with e = exp(x),
    #   tanh(log(1 + e)) = ((1 + e)^2 - 1) / ((1 + e)^2 + 1) = z / (z + 2)
    #                    = 2 / (4 / z + 2),  z = (e + 2) * e.
    # Every step adds or multiplies positive numbers, so there is no
    # cancellation anywhere (value within ~3e-7 relative of float64 while
    # e is a normal float32, x > -87.33; 0 below, e flushed) and no
    # clamp: e or z overflowing to inf gives 4 / z = 0 and t = 1 exactly, and
    # t is exactly 1 already once 4 / z < 2^-23 (x > 8.7), where the true
    # 1 - t^2 is below float32 resolution. e underflowing to 0 gives t = 0.
    # In this form each step uses its operand once, so outside XLA each one
    # overwrites the buffer before it. Not z / (z + 2), which needs one more
    # buffer; not 1 / (2 / z + 1): TensorFlow's graph optimizer turns `1 / u`
    # into its approximate reciprocal (2 ulp); not x * tanh(softplus(x)):
    # softplus is a slow kernel, and in a TensorFlow graph oneDNN fuses that
    # pattern into a kernel that returns 0 below x = -17.
    e = ops.exp(x)
    t = 2.0 / (4.0 / ((e + 2.0) * e) + 2.0)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        # d/dx x * tanh(softplus(x)) = t + x * sigmoid(x) * (1 - t^2). In a
        # TensorFlow graph x * sigmoid(x) is one fused oneDNN kernel (not
        # `ops.silu`, whose `beta * x` adds one), the rest is tanh's own
        # gradient kernel (`TanhGrad`) and two steps in place: with the
        # forward, 11 kernels, as many as Keras's SiLU.
        return upstream * (t + _backend.tanh_grad(t, x * ops.sigmoid(x)))

    return x * t, grad


@export
def mish(x: Any):
    """Mish activation: `x * tanh(softplus(x))`.

    Computed from one exponential, `t = 2 / (4 / z + 2)` with
    `z = (e + 2) * e` and `e = exp(x)`, which equals `tanh(softplus(x))`
    exactly and involves no subtraction, with a hand-written gradient
    `mish'(x) = t + x * sigmoid(x) * (1 - t**2)` (the last factor by tanh's
    gradient kernel). Outside XLA each step overwrites the buffer of the one
    before. On PyTorch it is `torch.nn.functional.mish`, one fused kernel
    forward and one backward, as SiLU. Value and gradient are finite for
    every finite input (the value is exactly `x` for `x > 8.7`); against a
    float64 reference the value is within about 3e-7 relative and the
    gradient within about 1e-6 (PyTorch's kernels: 2.5e-7 and 1e-6)
    wherever `exp(x)` is a normal float32 (`x > -87.33`). Below that, where
    CPUs flush the subnormal `exp(x)` to zero, value and gradient are 0
    (the true ones are below 1.1e-36 in magnitude), as Keras's own `mish`.

    Args:
        x: Input tensor.

    Returns:
        A tensor of the same shape and dtype as `x`.

    Example:

    >>> from keras import ops
    >>> from keras_components.activations import mish
    >>> print(ops.convert_to_numpy(mish([-1.0, 0.0, 1.0])).round(4))
    [-0.3034  0.      0.8651]

    Reference:
        Misra, 2019, "Mish: A Self Regularized Non-Monotonic Activation
        Function", https://arxiv.org/abs/1908.08681
    """
    if isinstance(x, keras.KerasTensor):
        # Symbolic shape inference only; the value path is below.
        return x * ops.tanh(ops.softplus(x))
    return _in_float32(_mish_value, _as_float_tensor(x))


def _mish_value(x):
    # PyTorch's fused kernels (one each way, as SiLU's) where the backend has
    # them; elsewhere the one-exponential form above.
    fused = _backend.fused_mish(x)
    return _mish_with_gradient(x) if fused is None else fused


_SQRT_HALF = math.sqrt(0.5)
# 0.5 * (1 + tanh(z)) == sigmoid(2 z): the tanh form written with one sigmoid,
# which also avoids the cancellation of 1 + tanh(z) for negative z.
_GELU_TANH_LINEAR = 2.0 * math.sqrt(2.0 / math.pi)
_GELU_TANH_CUBIC = _GELU_TANH_LINEAR * 0.044715


# Phi(-a) = phi(a) * R(a) for a >= 0 (R is Mills' ratio), with t = 1 / (1 +
# a / (2 sqrt 2)) (Numerical Recipes' erfc variable): R(a) / sqrt(2 pi) = t *
# Q(t), Q a degree-10 polynomial fitted to float64 `scipy.special.erfcx` over
# all of t in [0, 1] (relative error 1.2e-8, 4e-8 with float32 coefficients;
# float32 evaluation adds about 1 ulp). Smooth on [0, 1], so no branches.
_GELU_TAIL = (
    1.410473976e-01,
    1.410468769e-01,
    1.234422874e-01,
    8.765798793e-02,
    4.673121709e-02,
    -2.960567855e-02,
    6.608852141e-02,
    -2.274869930e-01,
    2.468474649e-01,
    -1.173667959e-01,
    2.159771654e-02,
)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _gaussian_parts(x):
    """`(e, s, a)`: `exp(-x**2 / 2)`, `s = t * Q(t)`, so `Phi(-|x|) = s * e`.

    Only exp and arithmetic (LiteRT has no Erf/Erfc kernel). `exp(-a**2 / 2)`
    is `exp(-h**2 / 2) * exp(-d)` with `h` = `a` cut to 8 fraction bits
    (`h**2` exact) and `d = (a - h) (a + h) / 2` in [0, 1/16], `exp(-d)` by
    its degree-5 Taylor polynomial (error < 3e-10): rounding `a**2` itself
    would cost `a**2 * 6e-8` relative (5e-6 at a = 13).
    """
    # |x| (not `ops.abs`, whose derivative at 0 is 0 on some backends: the
    # second derivative at 0 needs the one-sided slope). exp(-128) is 0 in
    # float32: the clamp keeps `a * 256` finite.
    a = ops.minimum(ops.where(x < 0, -x, x), 16.0)
    h = ops.floor(a * 256.0) * (1.0 / 256.0)
    d = (a - h) * (a + h) * 0.5
    exp_minus_d = 1.0 + d * (-1.0 + d * (0.5 + d * (-1 / 6 + d * (1 / 24 - d / 120))))
    e = ops.exp(h * h * -0.5) * exp_minus_d
    t = 1.0 / (1.0 + a * (0.25 * math.sqrt(2.0)))
    q = _GELU_TAIL[-1]
    for c in _GELU_TAIL[-2::-1]:
        q = q * t + c
    return e, t * q


def _gelu_exact_value(x):
    # x * Phi(x) = x * Phi(-a) for x < 0, x - x * Phi(-a) for x >= 0; the
    # product is formed before the (possibly tiny) exponential so that it
    # stays a normal float wherever the result is.
    e, s = _gaussian_parts(x)
    tail = (x * s) * e
    return ops.where(x < 0, tail, x - tail)


def _gelu_exact_slope(x):
    # d/dx x * Phi(x) = Phi(x) + x * phi(x).
    e, s = _gaussian_parts(x)
    tail = s * e
    x_phi = x * (e * _INV_SQRT_2PI)
    # One rounding after the leading 1 (not (1 - tail) + x_phi).
    return ops.where(x < 0, tail + x_phi, 1.0 + (x_phi - tail))


# One XLA kernel each (nested in an outer TensorFlow graph as well): as
# separate ops the 30-odd steps would each read and write the whole tensor.
_gelu_exact_value_jit = _backend.fused_elementwise(_gelu_exact_value)
_gelu_exact_slope_jit = _backend.fused_elementwise(_gelu_exact_slope)


@ops.custom_gradient
def _gelu_exact_float32(x):
    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        # A function of `x` (not of saved forward values), so that it is
        # differentiable again (gradient penalties of GELU critics).
        return upstream * _gelu_exact_slope_jit(x)

    return _gelu_exact_value_jit(x), grad


def _gelu_exact(x):
    # float64 keeps erfc (a float32 approximation would lose accuracy there;
    # LiteRT has no float64), and so do the backends where erfc is one fast
    # kernel (XLA, PyTorch). erfc keeps the negative tail accurate where
    # 1 + erf(x / sqrt(2)) would cancel to zero.
    if (
        keras.backend.standardize_dtype(x.dtype) != "float32"
        or _backend.erfc_is_one_kernel()
    ):
        return (0.5 * x) * ops.erfc(x * -_SQRT_HALF)
    return _gelu_exact_float32(x)


def _gelu_tanh(x):
    return x * _backend.sigmoid(x * (_GELU_TANH_LINEAR + _GELU_TANH_CUBIC * (x * x)))


@export
def gelu(x: Any, *, approximate: bool = False):
    """Gaussian error linear unit.

    Exact form (default): `x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2))`.
    Tanh form (`approximate=True`):
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`, computed as
    the identical `x * sigmoid(2 * sqrt(2 / pi) * (x + 0.044715 * x**3))`.
    Both forms avoid `1 + erf` / `1 + tanh`, which cancel to zero for negative
    inputs, so the negative tail keeps its relative precision.

    The exact form computes `erfc` under XLA, on JAX and PyTorch and in
    float64. In float32 TensorFlow graphs and eager code outside XLA it uses
    an erfc-free form, `Phi(-|x|) = exp(-x**2 / 2) * t * Q(t)` with
    `t = 1 / (1 + |x| / (2 sqrt 2))` and `Q` a degree-10 polynomial (value
    within 4e-7 relative of float64 everywhere, tails included), compiled as
    one XLA kernel with its own gradient kernel: LiteRT has no Erf/Erfc op, so
    this is what lets models using it convert.

    Args:
        x: Input tensor.
        approximate: Whether to use the tanh approximation.

    Returns:
        A tensor of the same shape and dtype as `x`.

    Example:

    >>> from keras import ops
    >>> from keras_components.activations import gelu
    >>> print(ops.convert_to_numpy(gelu([-1.0, 0.0, 1.0])).round(4))
    [-0.1587  0.      0.8413]

    Reference:
        Hendrycks and Gimpel, 2016, "Gaussian Error Linear Units (GELUs)",
        https://arxiv.org/abs/1606.08415
    """
    approximate = check_bool("approximate", approximate)
    if isinstance(x, keras.KerasTensor):
        # Symbolic shape inference only; the value path is below.
        return x * ops.sigmoid(x)
    return _in_float32(_gelu_tanh if approximate else _gelu_exact, _as_float_tensor(x))
