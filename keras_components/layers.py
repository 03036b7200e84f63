"""Activation layers: `Swish`, `Mish`, `GELU`.

Thin `keras.layers.Layer` wrappers over `keras_components.activations`; they
validate their arguments at construction, pass masks through, and serialize
with exactly their `__init__` arguments.
"""

from __future__ import annotations

from typing import Any

import keras
from typing_extensions import override

from keras_components import activations
from keras_components._export import export
from keras_components._validation import check_bool, check_float

__all__ = ["GELU", "Mish", "Swish"]


class _Activation(keras.layers.Layer):
    """Elementwise activation: same output shape, masks pass through."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


@export
class Swish(_Activation):
    """Swish activation layer: `x * sigmoid(beta * x)`.

    Args:
        beta: Initial slope of the sigmoid gate (a finite float).
        trainable_beta: If True, `beta` is a trainable scalar weight,
            initialised to `beta` (the config keeps the initial value; the
            learned value is saved with the weights).
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Example:

    >>> import numpy as np
    >>> from keras_components.layers import Swish
    >>> print(np.asarray(Swish(beta=2.0)(np.array([-1.0, 2.0]))).round(4))
    [-0.1192  1.964 ]

    Reference:
        Ramachandran et al., 2017, https://arxiv.org/abs/1710.05941
    """

    def __init__(
        self, beta: float = 1.0, trainable_beta: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.beta = check_float("beta", beta)
        self.trainable_beta = check_bool("trainable_beta", trainable_beta)
        self.beta_weight = None

    @override
    def build(self, input_shape):
        if self.trainable_beta:
            self.beta_weight = self.add_weight(
                name="beta",
                shape=(),
                initializer=keras.initializers.Constant(self.beta),
                trainable=True,
            )

    @override
    def call(self, inputs):
        beta = self.beta_weight if self.trainable_beta else self.beta
        return activations.swish(inputs, beta=beta)

    @override
    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta, "trainable_beta": self.trainable_beta})
        return config


@export
class Mish(_Activation):
    """Mish activation layer: `x * tanh(softplus(x))`.

    See `keras_components.activations.mish` for the stable one-exponential
    formulation and its custom gradient.

    Example:

    >>> import numpy as np
    >>> from keras_components.layers import Mish
    >>> print(np.asarray(Mish()(np.array([-1.0, 1.0]))).round(4))
    [-0.3034  0.8651]

    Reference:
        Misra, 2019, https://arxiv.org/abs/1908.08681
    """

    @override
    def call(self, inputs):
        return activations.mish(inputs)


@export
class GELU(_Activation):
    """Gaussian error linear unit layer.

    Args:
        approximate: Use the tanh approximation instead of the exact erf form.
        **kwargs: Base layer arguments (`name`, `dtype`, ...).

    Example:

    >>> import numpy as np
    >>> from keras_components.layers import GELU
    >>> print(np.asarray(GELU()(np.array([-1.0, 1.0]))).round(4))
    [-0.1587  0.8413]

    Reference:
        Hendrycks and Gimpel, 2016, https://arxiv.org/abs/1606.08415
    """

    def __init__(self, approximate: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.approximate = check_bool("approximate", approximate)

    @override
    def call(self, inputs):
        return activations.gelu(inputs, approximate=self.approximate)

    @override
    def get_config(self):
        config = super().get_config()
        config["approximate"] = self.approximate
        return config
