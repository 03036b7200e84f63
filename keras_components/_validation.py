"""Argument validation with Keras's error template.

Every constructor checks its arguments here, up front, so a bad value fails at
construction with a message that names the argument, what is allowed and what
was received, e.g.::

    Invalid value for argument `gamma`. Expected a float >= 0. Received: gamma=-1
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from keras_components._inputs import TASKS


def invalid_value(name: str, expected: str, value: Any) -> ValueError:
    return ValueError(
        f"Invalid value for argument `{name}`. Expected {expected}. "
        f"Received: {name}={value!r}"
    )


def _type_name(value: Any) -> str:
    """The name of `value`'s type, qualified outside the builtins.

    So a NumPy scalar never reads as the Python type it mimics: `np.True_`
    is a `numpy.bool`, not a `bool`.
    """
    kind = type(value)
    module = kind.__module__.split(".")[0]
    return kind.__name__ if module == "builtins" else f"{module}.{kind.__name__}"


def invalid_type(name: str, expected: str, value: Any) -> TypeError:
    return TypeError(
        f"Invalid type for argument `{name}`. Expected {expected}. "
        f"Received: {name}={value!r} of type {_type_name(value)}"
    )


def _bound_text(
    low: float | None, high: float | None, low_inclusive: bool, high_inclusive: bool
) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {low}")
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {high}")
    return " and ".join(parts)


def check_float(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Returns `value` as a Python float after checking type, finiteness, range."""
    bounds = _bound_text(low, high, low_inclusive, high_inclusive)
    expected = "a finite float" + (f" {bounds}" if bounds else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise invalid_type(name, expected, value)
    value = float(value)
    if not math.isfinite(value):
        raise invalid_value(name, expected, value)
    if low is not None and (value < low or (value == low and not low_inclusive)):
        raise invalid_value(name, expected, value)
    if high is not None and (value > high or (value == high and not high_inclusive)):
        raise invalid_value(name, expected, value)
    return value


def check_int(
    name: str, value: Any, *, low: int | None = None, high: int | None = None
) -> int:
    """Returns `value` as a Python int after checking type and range."""
    bounds = _bound_text(low, high, True, True)
    expected = "an integer" + (f" {bounds}" if bounds else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise invalid_type(name, expected, value)
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid_value(name, expected, value)
    return value


def check_optional_int(name: str, value: Any, *, low: int | None = None) -> int | None:
    if value is None:
        return None
    return check_int(name, value, low=low)


def check_bool(name: str, value: Any) -> bool:
    """Returns `value` as a Python bool; NumPy's bool scalar is accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise invalid_type(name, "a bool", value)
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """Checks `value` is one of `choices` (compared with `==`, None allowed)."""
    choices = tuple(choices)
    if not any(value == c and type(value) is type(c) for c in choices):
        shown = ", ".join(repr(c) for c in choices)
        raise invalid_value(name, f"one of {{{shown}}}", value)
    return value


CLASS_INDICES_EXPECTED = "a non-empty list of distinct class indices >= 0"


def check_class_indices(name: str, value: Any) -> tuple[int, ...] | None:
    """`value` as a tuple of distinct class indices >= 0, or None.

    A list, tuple, range or 1-D integer array (segmentation_models'
    `class_indexes`); whether each index is below the number of classes is
    checked where that number is known (the first call).
    """
    if value is None:
        return None
    expected = CLASS_INDICES_EXPECTED
    items = value
    if isinstance(value, np.ndarray) and value.ndim == 1:
        items = value.tolist()
    if isinstance(items, (str, bytes)) or not isinstance(items, (list, tuple, range)):
        raise invalid_type(name, expected, value)
    if not items:
        raise invalid_value(name, expected, value)
    for c in items:
        if isinstance(c, (bool, np.bool_)) or not isinstance(c, numbers.Integral):
            raise invalid_type(name, expected, value)
        if c < 0:
            raise invalid_value(name, expected, value)
    values = tuple(int(c) for c in items)
    if len(set(values)) != len(values):
        duplicates = sorted({c for c in values if values.count(c) > 1})
        raise invalid_value(name, f"{expected} (duplicated: {duplicates})", value)
    return values


def check_float_sequence(
    name: str,
    value: Any,
    *,
    length: int | None = None,
    low: float | None = None,
    low_inclusive: bool = True,
) -> tuple[float, ...]:
    """Checks a non-empty sequence of finite floats (optionally of a fixed length)."""
    bounds = _bound_text(low, None, low_inclusive, True)
    what = "a sequence of finite floats" + (f" {bounds}" if bounds else "")
    if length is not None:
        what += f" of length {length}"
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        # Accept 1-D array-likes (NumPy arrays, tuples, lists).
        if hasattr(value, "tolist") and getattr(value, "ndim", None) == 1:
            value = value.tolist()
        else:
            raise invalid_type(name, what, value)
    items = list(value)
    if not items or (length is not None and len(items) != length):
        raise invalid_value(name, what, value)
    out = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise invalid_type(name, what, value)
        item = float(item)
        if not math.isfinite(item) or (
            low is not None and (item < low or (item == low and not low_inclusive))
        ):
            raise invalid_value(name, what, value)
        out.append(item)
    return tuple(out)


# --------------------------------------------------------------------------
# Arguments shared by the metrics
# --------------------------------------------------------------------------
def check_task(value: Any, supported: Sequence[str] = TASKS, *, owner: str = "") -> str:
    """`task`: `"auto"` or one of `supported` (a subset of `TASKS`)."""
    allowed = ("auto", *supported)
    if value not in allowed:
        why = (
            f" ({owner} is not defined for the {value} task)"
            if owner and value in TASKS
            else ""
        )
        raise ValueError(
            f"Invalid value for argument `task`. Expected one of {allowed}"
            f"{why}. Received: task={value!r}"
        )
    return value


def check_num_classes(
    value: Any, task: str, *, multiclass_hint: str = ""
) -> int | None:
    """`num_classes`: None or an integer >= 1 that fits an explicit `task`.

    The binary task has 1 or 2 classes (one score, or both columns); the
    multiclass task at least 2 (`multiclass_hint` is appended to that
    expectation).
    """
    num_classes = check_optional_int("num_classes", value, low=1)
    if task == "binary" and num_classes not in (None, 1, 2):
        raise invalid_value("num_classes", "None, 1 or 2 for the binary task", value)
    if task == "multiclass" and num_classes is not None and num_classes < 2:
        raise invalid_value(
            "num_classes",
            f"an integer >= 2 for the multiclass task{multiclass_hint}",
            value,
        )
    return num_classes


def check_zero_division(value: Any) -> float:
    """`zero_division`: 0.0, 1.0 or NaN (scikit-learn's argument)."""
    expected = "0.0, 1.0 or float('nan')"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid_type("zero_division", expected, value)
    value = float(value)
    if not (math.isnan(value) or value in (0.0, 1.0)):
        raise invalid_value("zero_division", expected, value)
    return value


def check_multioutput(value: Any, choices: tuple[str, ...]) -> Any:
    """`multioutput`.

    one of `choices`, or non-negative output weights with a positive sum (returned as a
    list).
    """
    if isinstance(value, str):
        if value not in choices:
            shown = ", ".join(repr(c) for c in choices)
            raise invalid_value(
                "multioutput",
                f"one of {{{shown}}} or a sequence of output weights",
                value,
            )
        return value
    if value is None or isinstance(value, (bytes, bool)):
        raise invalid_type(
            "multioutput", f"one of {choices} or a sequence of floats", value
        )
    weights = check_float_sequence("multioutput", value, low=0.0)
    if sum(weights) <= 0:
        raise invalid_value("multioutput", "output weights with a positive sum", value)
    return list(weights)
