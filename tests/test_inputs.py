"""The shared input normalisation: binary / multilabel targets."""

import numpy as np
import pytest
import tensorflow as tf

from keras_components import _inputs
from tests.helpers import to_numpy


class TestBinaryTargets:
    def test_same_shape_soft_targets_pass_through(self):
        y_true = np.array([[0.0, 0.25], [1.0, 0.5]], np.float32)
        got = _inputs.binary_targets(y_true, np.zeros((2, 2)), dtype="float32")
        np.testing.assert_array_equal(to_numpy(got.values), y_true)
        assert to_numpy(got.keep).all()
        assert not to_numpy(got.invalid).any()

    def test_missing_class_axis_of_one_is_added(self):
        got = _inputs.binary_targets(
            np.array([1, 0, 1]), np.zeros((3, 1)), dtype="float32"
        )
        assert tuple(got.values.shape) == (3, 1)
        np.testing.assert_array_equal(to_numpy(got.values)[:, 0], [1, 0, 1])

    def test_ignore_index_cells_are_dropped(self):
        y_true = np.array([[1, 255], [0, 1]])
        got = _inputs.binary_targets(
            y_true, np.zeros((2, 2)), ignore_index=255, dtype="float32"
        )
        np.testing.assert_array_equal(to_numpy(got.values), [[1, 0], [0, 1]])
        np.testing.assert_array_equal(to_numpy(got.keep), [[True, False], [True, True]])
        assert not to_numpy(got.invalid).any()

    def test_out_of_range_raises_eagerly_naming_values(self):
        with pytest.raises(ValueError, match=r"\[0, 1\].*\[-1\.0, 2\.0\]"):
            _inputs.binary_targets(
                np.array([[0.5, 2.0], [-1.0, 1.0]]), np.zeros((2, 2)), dtype="float32"
            )

    def test_out_of_range_is_flagged_while_traced(self):
        fn = tf.function(
            lambda y: (
                _inputs.binary_targets(
                    y, tf.zeros((3, 1)), ignore_index=255, dtype="float32"
                ).invalid
            )
        )
        invalid = to_numpy(fn(tf.constant([2.0, 255.0, float("nan")])))
        np.testing.assert_array_equal(invalid[:, 0], [True, False, True])

    @pytest.mark.parametrize(
        ("y_true_shape", "y_pred_shape"),
        [((4, 3), (4, 2)), ((4,), (4, 2)), ((4, 2, 1), (4, 2))],
    )
    def test_incompatible_shapes_name_both(self, y_true_shape, y_pred_shape):
        with pytest.raises(ValueError, match=r"y_true\.shape=.*y_pred\.shape="):
            _inputs.binary_targets(
                np.zeros(y_true_shape), np.zeros(y_pred_shape), dtype="float32"
            )


def test_check_binary_targets_accepts_ignore_index_and_skips_when_traced():
    _inputs.check_binary_targets(np.array([0.0, 0.3, 1.0, -1.0]), ignore_index=-1)
    with pytest.raises(ValueError, match="ignore_index=-1"):
        _inputs.check_binary_targets(np.array([1.5]), ignore_index=-1)
    traced = tf.function(lambda y: _inputs.check_binary_targets(y) or tf.constant(0))
    traced(tf.constant([5.0]))  # cannot raise while traced
