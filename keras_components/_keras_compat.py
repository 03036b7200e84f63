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
