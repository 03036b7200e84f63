"""Argument validation: accepted forms and the messages for the rest."""

import numpy as np
import pytest

import keras_components as kc
from keras_components import _validation


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_check_bool_accepts_python_and_numpy_bools(value):
    got = _validation.check_bool("flag", value)
    assert type(got) is bool
    assert got == bool(value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1, "int"),
        ("True", "str"),
        (None, "NoneType"),
        (np.array(True), "numpy.ndarray"),
    ],
)
def test_check_bool_refuses_other_types_naming_them(value, shown):
    with pytest.raises(TypeError, match=rf"argument `flag`.*of type {shown}$"):
        _validation.check_bool("flag", value)


def test_numpy_scalars_read_with_their_numpy_type():
    """A NumPy float refused where an int is expected says `numpy.float64`."""
    with pytest.raises(TypeError, match=r"of type numpy\.float64$"):
        _validation.check_int("num_classes", np.float64(3.0))


def test_numpy_bool_flags_store_python_bools_in_the_config():
    metric = kc.F1(from_logits=np.True_)
    assert metric.get_config()["from_logits"] is True
    loss = kc.FocalLoss(from_logits=np.False_)
    assert loss.get_config()["from_logits"] is False


@pytest.mark.parametrize(
    "value", [[1, 2], (1, 2), range(1, 3), np.array([1, 2]), np.array([1, 2], "int8")]
)
def test_class_indices_take_sequences_and_integer_arrays(value):
    assert _validation.check_class_indices("classes", value) == (1, 2)


@pytest.mark.parametrize(
    ("value", "error", "match"),
    [
        ([], ValueError, r"Expected a non-empty list"),
        ([1, 1], ValueError, r"duplicated: \[1\]"),
        ([-1], ValueError, r"class indices >= 0"),
        ([1.0], TypeError, r"Received: classes=\[1.0\]"),
        ([True], TypeError, r"of type list"),
        (np.array([1.5]), TypeError, r"of type numpy.ndarray"),
        (np.array([[1]]), TypeError, r"of type numpy.ndarray"),
        ("12", TypeError, r"of type str"),
    ],
)
def test_class_indices_refused(value, error, match):
    with pytest.raises(error, match=match):
        _validation.check_class_indices("classes", value)


def test_metrics_and_losses_take_an_array_of_classes():
    assert kc.IoU(classes=np.array([1, 2])).get_config()["classes"] == [1, 2]
    assert kc.DiceLoss(classes=np.array([0, 2])).get_config()["classes"] == [0, 2]
