"""The score and regression forms of the input normalisation (`_inputs`)."""

import keras
import numpy as np
import pytest

from keras_components import _inputs
from tests.helpers import to_numpy
from tests.helpers import traced as traced_fn


def traced(fn, *args):
    """Runs `fn(*args)` traced (no eager value checks; skipped on PyTorch)."""
    return traced_fn(fn)(*args)


# --------------------------------------------------------------------------
# score_targets
# --------------------------------------------------------------------------
class TestScoreTargets:
    def test_binary_with_trailing_axes_and_weights(self):
        y_true = np.array([[0], [1], [1]], np.float32)
        y_pred = np.array([0.2, 0.3, 0.9], np.float32)
        found = _inputs.score_targets(
            y_true, y_pred, [1.0, 2.0, 3.0], task="binary", num_classes=2
        )
        np.testing.assert_array_equal(to_numpy(found.scores), y_pred[:, None])
        np.testing.assert_array_equal(to_numpy(found.targets), [[0], [1], [1]])
        np.testing.assert_array_equal(to_numpy(found.weights), [[1.0], [2.0], [3.0]])
        assert not to_numpy(found.invalid).any()

    def test_bool_and_integer_labels(self):
        for y_true in (np.array([False, True]), np.array([0, 1], np.int64)):
            found = _inputs.score_targets(
                y_true, [0.2, 0.7], task="binary", num_classes=2
            )
            np.testing.assert_array_equal(to_numpy(found.targets), [[0], [1]])
            assert not to_numpy(found.invalid).any()

    def test_unweighted_gives_none(self):
        found = _inputs.score_targets(
            [0, 1], [[0.2], [0.7]], task="binary", num_classes=2
        )
        assert found.weights is None

    def test_multiclass_sparse_and_one_hot_agree(self):
        labels = np.array([[0, 2], [1, 1]])  # (N, H) positions, any rank
        scores = np.random.default_rng(0).random((2, 2, 3)).astype(np.float32)
        sparse = _inputs.score_targets(labels, scores, task="multiclass", num_classes=3)
        dense = _inputs.score_targets(
            np.eye(3)[labels], scores, task="multiclass", num_classes=3
        )
        expected = np.eye(3, dtype=int)[labels.ravel()]
        for found in (sparse, dense):
            np.testing.assert_array_equal(to_numpy(found.targets), expected)
            np.testing.assert_array_equal(to_numpy(found.scores), scores.reshape(-1, 3))
            assert to_numpy(found.invalid).shape == (4, 3)

    def test_multilabel_weights_per_position(self):
        y_true = np.array([[1, 0, 1], [0, 0, 1]])
        found = _inputs.score_targets(
            y_true, np.full((2, 3), 0.5), [2.0, 3.0], task="multilabel", num_classes=3
        )
        np.testing.assert_array_equal(to_numpy(found.targets), y_true)
        np.testing.assert_array_equal(to_numpy(found.weights), [[2.0], [3.0]])

    @pytest.mark.parametrize(
        ("task", "y_true", "y_pred", "match"),
        [
            ("binary", [0.0, 0.5], [0.1, 0.2], r"1 soft target.*label smoothing"),
            ("binary", [0, 2], [0.1, 0.2], r"Expected 0 or 1.*\[2\]"),
            ("multilabel", [[0, 3]], [[0.1, 0.2]], r"Expected 0 or 1.*\[3\]"),
            ("multiclass", [0.5, 1.0], [[0.5, 0.5]] * 2, r"integers in \[0, 2\)"),
            ("multiclass", [0, 2], [[0.5, 0.5]] * 2, r"integers in \[0, 2\)"),
            ("multiclass", [[0.3, 0.7]], [[0.5, 0.5]], r"soft target"),
            ("multiclass", [[1.0, 1.0]], [[0.5, 0.5]], "one-hot"),
            ("multiclass", [[0.0, 0.0]], [[0.5, 0.5]], "one-hot"),
        ],
    )
    def test_eager_invalid_targets_raise(self, task, y_true, y_pred, match):
        with pytest.raises(ValueError, match=match):
            _inputs.score_targets(
                np.asarray(y_true, np.float32),
                np.asarray(y_pred, np.float32),
                task=task,
                num_classes=2,
            )

    @pytest.mark.parametrize(
        ("task", "y_true", "y_pred", "bad_rows"),
        [
            ("binary", [0.0, 0.5, 1.0, np.nan], [0.1, 0.2, 0.3, 0.4], [1, 3]),
            ("multiclass", [0.0, 1.5, 1.0, 7.0], [[0.5, 0.5]] * 4, [1, 3]),
            ("multiclass", [[0, 1], [0.3, 0.7], [1, 1]], [[0.5, 0.5]] * 3, [1, 2]),
            ("multilabel", [[0, 1], [0.5, 1]], [[0.5, 0.5]] * 2, [1]),
        ],
    )
    def test_traced_invalid_targets_are_marked(self, task, y_true, y_pred, bad_rows):
        y_true = keras.ops.convert_to_tensor(np.asarray(y_true, np.float32))
        y_pred = keras.ops.convert_to_tensor(np.asarray(y_pred, np.float32))
        invalid = traced(
            lambda t, p: _inputs.score_targets(t, p, task=task, num_classes=2).invalid,
            y_true,
            y_pred,
        )
        rows = np.flatnonzero(to_numpy(invalid).any(axis=-1))
        np.testing.assert_array_equal(rows, bad_rows)

    def test_shape_errors_name_shapes(self):
        with pytest.raises(ValueError, match=r"y_true.shape=\(3,\).*y_pred.shape"):
            _inputs.score_targets(
                np.zeros(3), np.zeros((4, 1)), task="binary", num_classes=2
            )
        with pytest.raises(ValueError, match="multilabel"):
            _inputs.score_targets(
                np.zeros((2, 3)), np.zeros((2, 4)), task="multilabel", num_classes=4
            )
        with pytest.raises(ValueError, match="sample_weight"):
            _inputs.score_targets(
                [0, 1], [0.2, 0.3], [1.0, 2.0, 3.0], task="binary", num_classes=2
            )


# --------------------------------------------------------------------------
# regression_targets, output_count, check_bounds
# --------------------------------------------------------------------------
class TestRegressionTargets:
    def test_output_major_float64(self):
        y = np.arange(6, dtype=np.float32).reshape(3, 2)
        found = _inputs.regression_targets(y, y + 1, [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(to_numpy(found.y_true), y.T)
        np.testing.assert_array_equal(to_numpy(found.y_pred), y.T + 1)
        np.testing.assert_array_equal(
            to_numpy(found.weights), [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
        )
        assert to_numpy(found.y_true).dtype == np.float64

    def test_trailing_axis_of_one_and_unweighted(self):
        found = _inputs.regression_targets(np.zeros((4, 1)), np.ones(4))
        assert to_numpy(found.y_true).shape == (1, 4)
        assert to_numpy(found.y_pred).shape == (1, 4)
        assert found.weights is None

    def test_higher_rank_positions_are_samples(self):
        y = np.random.default_rng(0).random((2, 3, 4))
        found = _inputs.regression_targets(y, y, np.ones((2, 3)))
        np.testing.assert_array_equal(to_numpy(found.y_true), y.reshape(6, 4).T)
        assert to_numpy(found.weights).shape == (4, 6)

    @pytest.mark.parametrize(
        ("shape_true", "shape_pred", "expected"),
        [((5,), (5,), 1), ((5, 1), (5,), 1), ((5,), (5, 1), 1), ((5, 3), (5, 3), 3)],
    )
    def test_output_count(self, shape_true, shape_pred, expected):
        assert (
            _inputs.output_count(np.zeros(shape_true), np.zeros(shape_pred)) == expected
        )

    @pytest.mark.parametrize(
        ("shape_true", "shape_pred"), [((5,), (4,)), ((5, 2), (5, 3)), ((5, 2), (5,))]
    )
    def test_incompatible_shapes(self, shape_true, shape_pred):
        with pytest.raises(ValueError, match="Incompatible shapes"):
            _inputs.output_count(np.zeros(shape_true), np.zeros(shape_pred))


def test_check_bounds_names_argument_and_values():
    _inputs.check_bounds(np.array([0.0, 1.0]), name="y_pred", low=0.0, high=1.0)
    with pytest.raises(ValueError, match=r"`y_pred`.*>= 0 and <= 1.*\[-0\.5, 2\.0\]"):
        _inputs.check_bounds(
            np.array([-0.5, 0.5, 2.0]), name="y_pred", low=0.0, high=1.0
        )
    # Traced: no check (consumers count invalid entries instead).
    traced(
        lambda x: _inputs.check_bounds(x, name="y", low=0.0) or x,
        keras.ops.convert_to_tensor([-1.0]),
    )
