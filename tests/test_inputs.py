"""The shared input normalisation."""

import keras
import numpy as np
import pytest

from keras_components import _inputs
from tests.helpers import compiled, to_numpy, traced


def t(x, dtype=None):
    return keras.ops.convert_to_tensor(np.asarray(x), dtype=dtype)


class TestTask:
    @pytest.mark.parametrize(
        ("shape", "task"),
        [
            ((8,), "binary"),
            ((8, 1), "binary"),
            ((8, 3), "multiclass"),
            ((2, 4, 4, 1), "binary"),
            ((2, 4, 4, 5), "multiclass"),
        ],
    )
    def test_auto(self, shape, task):
        assert _inputs.resolve_task("auto", np.zeros(shape)) == task

    def test_explicit_task_is_kept(self):
        assert _inputs.resolve_task("multilabel", np.zeros((4, 3))) == "multilabel"

    def test_class_count(self):
        assert _inputs.class_count(np.zeros((4, 1)), "binary") == 2
        assert _inputs.class_count(np.zeros((4, 3)), "multiclass") == 3
        with pytest.raises(ValueError, match=r"`num_classes`.*y_pred.shape\[-1\]=3"):
            _inputs.class_count(np.zeros((4, 3)), "multiclass", 4)
        with pytest.raises(ValueError, match="rank >= 2"):
            _inputs.class_count(np.zeros((4,)), "multilabel")


class TestSparse:
    @pytest.mark.parametrize(
        ("true_shape", "pred_shape", "sparse"),
        [
            ((8,), (8, 3), True),
            ((8, 1), (8, 3), True),
            ((8, 3), (8, 3), False),
            ((2, 5, 5), (2, 5, 5, 4), True),
            ((2, 5, 5, 1), (2, 5, 5, 4), True),
            ((2, 5, 5, 4), (2, 5, 5, 4), False),
            ((8, 1), (8, 1), False),
        ],
    )
    def test_layouts(self, true_shape, pred_shape, sparse):
        assert _inputs.is_sparse(np.zeros(true_shape), np.zeros(pred_shape)) is sparse

    @pytest.mark.parametrize(
        ("true_shape", "pred_shape"),
        [
            ((8, 2), (8, 3)),
            ((7,), (8, 3)),
            ((2, 5, 4), (2, 5, 5, 4)),
            ((8, 3, 1), (8, 3)),
        ],
    )
    def test_mismatch_names_both_shapes(self, true_shape, pred_shape):
        with pytest.raises(ValueError, match=r"y_true.shape=.*y_pred.shape="):
            _inputs.is_sparse(np.zeros(true_shape), np.zeros(pred_shape))

    def test_unknown_batch_dimension_is_compatible(self):
        spec_true = keras.KerasTensor((None, 4, 4))
        spec_pred = keras.KerasTensor((None, 4, 4, 3))
        assert _inputs.is_sparse(spec_true, spec_pred)


class TestLabels:
    def test_masks_with_ignore_index(self):
        labels = t([0, 2, 3, 255, -1, 1])
        keep, invalid = _inputs.label_masks(labels, 3, 255)
        np.testing.assert_array_equal(to_numpy(keep), [1, 1, 0, 0, 0, 1])
        np.testing.assert_array_equal(to_numpy(invalid), [0, 0, 1, 0, 1, 0])

    def test_float_labels_must_be_integral(self):
        labels = _inputs.sparse_labels(t([0.0, 1.5, 2.0, np.nan]), 1)
        keep, invalid = _inputs.label_masks(labels, 3, None)
        np.testing.assert_array_equal(to_numpy(keep), [1, 0, 1, 0])
        np.testing.assert_array_equal(to_numpy(invalid), [0, 1, 0, 1])
        with pytest.raises(ValueError, match=r"Received values: \[1.5\]"):
            _inputs.check_labels(t([0.0, 1.5, 2.0]), 3, None)

    def test_eager_check_names_values(self):
        with pytest.raises(
            ValueError,
            match=r"Invalid values in `y_true`. Expected integers in \[0, 3\) or "
            r"ignore_index=255. Received values: \[3, 7\]",
        ):
            _inputs.check_labels(t([0, 3, 7, 255, 3]), 3, 255)
        _inputs.check_labels(t([0, 2, 255]), 3, 255)  # fine

    def test_traced_check_is_silent(self):
        def check(x):
            _inputs.check_labels(x, 3, None)
            return x

        traced(check)(t([5, 9]))  # no exception while tracing; consumers report NaN

    def test_check_finite(self):
        with pytest.raises(ValueError, match=r"`y_pred`. Expected finite.*2 NaN"):
            _inputs.check_finite(t([0.1, np.nan, np.inf]), name="y_pred")
        _inputs.check_finite(t([0.1, 0.2]), name="y_pred")


class TestClassTargets:
    def test_binary_accepts_trailing_axes(self):
        for true_shape, pred_shape in [
            ((6,), (6,)),
            ((6, 1), (6,)),
            ((6,), (6, 1)),
            ((6, 1), (6, 1)),
        ]:
            out = _inputs.class_targets(
                np.ones(true_shape), np.zeros(pred_shape), task="binary", num_classes=2
            )
            assert tuple(out.labels.shape) == (6,)

    def test_binary_rejects_other_shapes(self):
        with pytest.raises(ValueError, match="binary task"):
            _inputs.class_targets(
                np.ones((6, 2)), np.zeros((6, 1)), task="binary", num_classes=2
            )

    def test_multiclass_one_hot_and_sparse_agree(self):
        labels = np.array([[0, 2], [1, 255]])
        one_hot = np.eye(3)[np.where(labels == 255, 0, labels)]
        y_pred = np.zeros((2, 2, 3))
        sparse = _inputs.class_targets(
            labels, y_pred, task="multiclass", num_classes=3, ignore_index=255
        )
        dense = _inputs.class_targets(one_hot, y_pred, task="multiclass", num_classes=3)
        np.testing.assert_array_equal(to_numpy(sparse.keep), [[1, 1], [1, 0]])
        kept = to_numpy(sparse.keep)
        np.testing.assert_array_equal(
            to_numpy(sparse.labels)[kept], to_numpy(dense.labels)[kept]
        )

    def test_multilabel_cells(self):
        y_true = np.array([[1, 0, 255], [0, 2, 1]])
        with pytest.raises(ValueError, match=r"Expected 0 or 1 or ignore_index=255"):
            _inputs.class_targets(
                y_true,
                np.zeros((2, 3)),
                task="multilabel",
                num_classes=3,
                ignore_index=255,
            )
        fine = np.array([[1, 0, 255], [0, 1, 1]])
        out = _inputs.class_targets(
            fine, np.zeros((2, 3)), task="multilabel", num_classes=3, ignore_index=255
        )
        np.testing.assert_array_equal(to_numpy(out.keep), [[1, 1, 0], [1, 1, 1]])

    def test_unknown_task(self):
        with pytest.raises(ValueError, match="argument `task`"):
            _inputs.class_targets(np.ones(3), np.ones(3), task="ranking", num_classes=2)


class TestDenseTargets:
    def test_sparse_becomes_masked_one_hot(self):
        out = _inputs.dense_targets(
            np.array([2, 255, 0]), np.zeros((3, 3)), ignore_index=255, dtype="float32"
        )
        np.testing.assert_array_equal(
            to_numpy(out.values), [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
        )
        np.testing.assert_array_equal(to_numpy(out.keep), [1, 0, 1])

    def test_dense_passes_through(self):
        soft = np.array([[0.2, 0.8], [0.5, 0.5]])
        out = _inputs.dense_targets(soft, np.zeros((2, 2)), dtype="float32")
        np.testing.assert_allclose(to_numpy(out.values), soft)
        assert to_numpy(out.keep).all()
        assert not to_numpy(out.invalid).any()


class TestWeights:
    @pytest.mark.parametrize(
        "weight_shape", [(), (2,), (2, 1), (2, 4, 4), (2, 4, 4, 1), (2, 1, 4)]
    )
    def test_broadcasts_to_positions(self, weight_shape):
        w = np.arange(1, 1 + int(np.prod(weight_shape))).reshape(weight_shape)
        out = to_numpy(_inputs.broadcast_weights(w, np.zeros((2, 4, 4)), "float64"))
        assert out.shape == (2, 4, 4)
        expected = np.broadcast_to(
            np.reshape(w, weight_shape[:3] + (1,) * (3 - len(weight_shape[:3]))),
            (2, 4, 4),
        )
        np.testing.assert_array_equal(out, expected)

    def test_none_is_ones(self):
        out = to_numpy(_inputs.broadcast_weights(None, np.zeros((3, 2)), "float64"))
        np.testing.assert_array_equal(out, np.ones((3, 2)))

    @pytest.mark.parametrize("weight_shape", [(3,), (2, 5), (2, 4, 4, 2)])
    def test_rejects_what_does_not_broadcast(self, weight_shape):
        with pytest.raises(ValueError, match=r"sample_weight.shape=.*positions.shape="):
            _inputs.broadcast_weights(
                np.ones(weight_shape), np.zeros((2, 4, 4)), "float64"
            )


@pytest.mark.parametrize(
    "shape", [(9, 1), (9, 3), (4, 5, 10), (9, 16), (9, 17), (6, 40)]
)
@pytest.mark.parametrize("jit", [False, True])
def test_argmax_last_is_the_first_maximum(shape, jit):
    # Few distinct values: many ties, which must resolve to the first index.
    x = np.random.default_rng(sum(shape)).integers(0, 3, shape)
    fn = compiled(_inputs.argmax_last) if jit else _inputs.argmax_last
    for values in (x.astype(np.float32), x.astype(np.int32), x.astype(bool)):
        got = to_numpy(fn(t(values)))
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, np.argmax(values, axis=-1))


@pytest.mark.parametrize("num_classes", [1, 10, 17])
@pytest.mark.parametrize("jit", [False, True])
def test_finite_rows(num_classes, jit):
    x = np.zeros((5, 3, num_classes), np.float32)
    x[0, 1, -1], x[2, 0, 0], x[4, 2, num_classes // 2] = np.nan, np.inf, -np.inf
    fn = compiled(_inputs.finite_rows) if jit else _inputs.finite_rows
    got = to_numpy(fn(t(x)))
    np.testing.assert_array_equal(got, np.all(np.isfinite(x), axis=-1))


def test_concrete_value_eager_and_traced():
    assert _inputs.concrete_value(t([1, 2])).tolist() == [1, 2]
    seen = []

    def look(x):
        seen.append(_inputs.concrete_value(x))
        return x

    traced(look)(t([1, 2]))
    assert seen == [None]
    assert _inputs.concrete_value(keras.KerasTensor((2,))) is None


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
        fn = traced(
            lambda y: (
                _inputs.binary_targets(
                    y, keras.ops.zeros((3, 1)), ignore_index=255, dtype="float32"
                ).invalid
            )
        )
        invalid = to_numpy(fn(t([2.0, 255.0, float("nan")])))
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
    check = traced(lambda y: _inputs.check_binary_targets(y) or t(0))
    check(t([5.0]))  # cannot raise while traced
