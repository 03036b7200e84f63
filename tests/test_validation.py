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
