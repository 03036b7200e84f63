# ruff: noqa: E501 (test ids and their causes read best one per line)
"""Tests known to fail on a backend other than TensorFlow, each with its cause.

tests/conftest.py marks each listed test id `xfail(strict=True)` on that
backend only, so the list cannot go stale: a listed test that starts passing
fails the run (XPASS) and must be removed from here. The list is the open part
of issue 13 ("Every backend in CI"); each cause is what the failure shows.
Regenerate the ids from a run's `FAILED` lines, never by hand-picking passes.
"""

# Tests that expect the traced NaN where `fit`/`evaluate` run eagerly: the
# README's segmentation example and the soft-target warning test (not yet
# rewritten). Tests that know the
# backend's mode use tests.helpers.runs_eagerly_in_model and expect the
# eager ValueError instead.
EAGER_FIT = "fit/evaluate run eagerly here (PyTorch; JAX with jit_compile=False): the eager ValueError is raised where the test expects the traced NaN"
# `model.export` on PyTorch goes through torch.export, which rejects Keras's
# input structure (dynamic_shapes mismatch); these tests export a SavedModel.
TORCH_EXPORT = "model.export on PyTorch (torch.export) rejects the model's input structure; the test exports a SavedModel"
# JAX without `jax_enable_x64` turns float64 inputs into float32 and
# complex128 into complex64 (its own dtype rule, with a warning); these tests
# assert that a float64 / complex128 input reaches our code as it is.
X64_INPUTS = "JAX without x64 casts float64/complex128 inputs to float32/complex64 before our code sees them"
# The state is exact on JAX without x64 (two float32 words), but results are
# read in float32: these tests assert more than float32 resolves (1e-9, 1e-12,
# log loss's float64 clipping bound, R2 at 1e4-1e5 offsets over 100 batches).
FLOAT32_RESULTS = "JAX without x64 reads results in float32; the test asserts beyond float32 (results not yet computed in two-word arithmetic)"
# Our code still asks for a float64 array somewhere on JAX without x64, and
# JAX warns ("Explicitly requested dtype float64 ... truncated"); these tests
# assert that no warning appears.
FLOAT64_REQUEST = "a float64 array is still requested on JAX without x64 (JAX warns); the test asserts no warning"
# The two-word state adds `*__lo` variables; these tests list the state
# variables' shapes and do not expect them.
LOW_WORDS = "the two-word state on JAX without x64 adds low-word variables the test does not expect"
# Test-side: the rewritten test converts a traced value to NumPy, or runs the
# eager case through `jax.vjp` (which traces, so the eager error never comes).
TEST_TRACES = "test-side: the test traces what it meant to run eagerly on JAX"
# Keras's torch Variable `__array__` lacks NumPy 2's `copy` keyword, so NumPy
# emits a DeprecationWarning; these tests assert that no warning appears.
TORCH_ARRAY_WARNING = "Keras's torch Variable.__array__ has no `copy` keyword (NumPy 2 DeprecationWarning); the test asserts no warning"
UNCLASSIFIED = "not yet diagnosed (issue 13)"
# PyTorch with jit_compile=True: torch.compile traces the metric (NaN, as the
# test expects) when run alone, but after many compilations in one process
# dynamo falls back to eager execution (its recompile limit), where the eager
# check raises. Pass or fail depends on the tests before it, so these alone
# are not strict.
DYNAMO_FALLBACK = "torch.compile falls back to eager after its recompile limit (order-dependent: traced NaN alone, eager ValueError in the full run)"
NOT_STRICT = {DYNAMO_FALLBACK}
# PyTorch: a model that builds the metric through Keras's symbolic pass
# (`compute_output_spec`, meta tensors) meets the contract's compiled update,
# whose increments are on the meta device and the state on the CPU (AUPRC in
# the same model fails alike: `_backend.accumulator`, not the metric).
TORCH_META_UPDATE = "PyTorch: the compiled update adds meta-device increments to CPU state when Keras builds the metric symbolically (AUPRC fails alike)"

KNOWN_FAILURES: dict[str, dict[str, str]] = {}
KNOWN_FAILURES["jax"] = {
    "tests/test_inputs_scores.py::TestRegressionTargets::test_output_major_float64": X64_INPUTS,
    "tests/test_inputs_scores.py::TestRegressionTargets::test_higher_rank_positions_are_samples": X64_INPUTS,
    "tests/losses/test_adversarial.py::test_interpolates_each_sample_between_real_and_fake": TEST_TRACES,
    "tests/losses/test_base.py::test_half_precision_predictions_reach_the_function_as_they_are": X64_INPUTS,
    "tests/losses/test_combined.py::test_readme_segmentation_example_with_void_255_trains[False]": EAGER_FIT,
    "tests/losses/test_focal_gradient.py::test_nan_logits_give_nan_value_and_gradient_rows[eager]": TEST_TRACES,
    "tests/losses/test_loss_inputs.py::test_real_tensor": X64_INPUTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[binary-None]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[binary-true]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[binary-pred]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[binary-all]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[multiclass-None]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[multiclass-true]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[multiclass-pred]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_confusion_matrix[multiclass-all]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_multilabel_confusion_matrix[None]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_multilabel_confusion_matrix[true]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_multilabel_confusion_matrix[pred]": FLOAT32_RESULTS,
    "tests/metrics/test_classification.py::test_multilabel_confusion_matrix[all]": FLOAT32_RESULTS,
    "tests/metrics/test_invalid_inputs.py::test_valid_inputs_do_not_warn": FLOAT64_REQUEST,
    "tests/metrics/test_invalid_inputs.py::test_reset_accepts_another_number_of_classes": LOW_WORDS,
    "tests/metrics/test_probabilistic.py::test_clipping_matches_sklearn_for_certain_mistakes": FLOAT32_RESULTS,
    "tests/metrics/test_ranking.py::test_state_is_fixed_size_and_built_when_known": LOW_WORDS,
    "tests/metrics/test_ranking.py::test_error_bound_holds_on_random_small_data[AUROC]": FLOAT32_RESULTS,
    "tests/metrics/test_ranking.py::test_error_bound_holds_on_random_small_data[AUPRC]": FLOAT32_RESULTS,
    "tests/metrics/test_ranking.py::test_error_bound_holds_for_every_average[None]": FLOAT32_RESULTS,
    "tests/metrics/test_ranking.py::test_near_ties_warn_once_with_the_bound[AUROC]": FLOAT64_REQUEST,
    "tests/metrics/test_ranking.py::test_near_ties_warn_once_with_the_bound[AUPRC]": FLOAT64_REQUEST,
    "tests/metrics/test_ranking.py::test_traced_result_never_computes_the_warning": FLOAT64_REQUEST,
    "tests/metrics/test_ranking.py::test_ap_square_excess_state": FLOAT32_RESULTS,
    "tests/metrics/test_regression.py::test_r2_at_offsets_over_100_batches[10000.0]": FLOAT32_RESULTS,
    "tests/metrics/test_regression.py::test_r2_at_offsets_over_100_batches[100000.0]": FLOAT32_RESULTS,
}
KNOWN_FAILURES["torch"] = {
    "tests/metrics/test_invalid_inputs.py::test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced[all-zero-mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_invalid_inputs.py::test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced[multi-hot-mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_invalid_inputs.py::test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced[soft-mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_invalid_inputs.py::test_logits_without_from_logits_give_nan_when_traced[mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/test_layers.py::test_model_keras_roundtrip_and_export": TORCH_EXPORT,
    "tests/losses/test_adversarial.py::test_serialization": TORCH_EXPORT,
    "tests/losses/test_classification.py::test_reductions_with_ignore_index_mask": UNCLASSIFIED,
    "tests/losses/test_classification.py::test_model_roundtrips": TORCH_EXPORT,
    "tests/losses/test_combined.py::test_model_compiled_with_dice_plus_focal_roundtrips": TORCH_EXPORT,
    "tests/losses/test_combined.py::test_readme_segmentation_example_with_void_255_trains[False]": EAGER_FIT,
    "tests/losses/test_segmentation.py::test_model_roundtrips": TORCH_EXPORT,
    "tests/metrics/test_invalid_inputs.py::test_soft_targets_in_fit_warn_with_the_fix": EAGER_FIT,
    "tests/metrics/test_invalid_inputs.py::test_valid_inputs_do_not_warn": TORCH_ARRAY_WARNING,
    "tests/metrics/test_invalid_inputs.py::test_callbacks_monitor_every_metric_with_mode_auto": UNCLASSIFIED,
    "tests/metrics/test_ranking.py::test_error_bound_holds_on_random_small_data[AUROC]": UNCLASSIFIED,
    "tests/metrics/test_ranking.py::test_error_bound_holds_on_random_small_data[AUPRC]": UNCLASSIFIED,
    "tests/metrics/test_regression.py::test_saved_model_with_metrics_roundtrips": TORCH_EXPORT,
    "tests/metrics/test_regression.py::test_in_model_equals_sklearn[mode=evaluate]": UNCLASSIFIED,
    "tests/metrics/test_regression.py::test_in_model_equals_sklearn[mode=fit]": UNCLASSIFIED,
    "tests/metrics/test_regression.py::test_in_model_equals_sklearn[mode=evaluate-jit_compile=True]": UNCLASSIFIED,
    "tests/metrics/test_regression.py::test_in_model_equals_sklearn[mode=fit-run_eagerly=True]": UNCLASSIFIED,
    "tests/metrics/test_regression.py::test_mixed_precision[mixed_float16]": UNCLASSIFIED,
    "tests/metrics/test_operating_points.py::test_saved_model_with_metrics_roundtrips": TORCH_META_UPDATE,
    "tests/metrics/test_operating_points.py::test_early_stopping_mode_auto_maximises": TORCH_META_UPDATE,
    "tests/metrics/test_operating_points.py::test_threshold_read_inside_a_compiled_step": TORCH_META_UPDATE,
    "tests/metrics/test_operating_points.py::test_bad_inputs_raise_eagerly_and_give_nan_traced": TORCH_META_UPDATE,
}
