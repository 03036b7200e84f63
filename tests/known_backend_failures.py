# ruff: noqa: E501 (test ids and their causes read best one per line)
"""Tests known to fail on a backend other than TensorFlow, each with its cause.

tests/conftest.py marks each listed test id `xfail(strict=True)` on that
backend only, so the list cannot go stale: a listed test that starts passing
fails the run (XPASS) and must be removed from here. The list is the open part
of issue 13 ("Every backend in CI"); each cause is what the failure shows.
Regenerate the ids from a run's `FAILED` lines, never by hand-picking passes.
"""

# Keras 3.15's SavedModel export on PyTorch (keras/src/backend/torch/export.py,
# `TorchExportArchive`) calls torch.export with `dynamic_shapes` as a tuple of
# one dict per input, which torch 2.13 matches against the `*args` tuple of
# Keras's `forward(*args, **kwargs)` and rejects; a plain Keras model (Dense
# layers only) fails the same way, with or without `input_signature`. Past that
# it needs `torch_xla`, which has no build for torch 2.13. Our components
# export on PyTorch with `format="torch"` (tested: the `[torch]` cases).
TORCH_EXPORT = "Keras 3.15's SavedModel export on PyTorch fails for any model (a plain Dense model too): torch.export rejects the dynamic_shapes structure Keras passes, and it needs torch_xla (none for torch 2.13)"
# JAX without `jax_enable_x64` turns float64 inputs into float32 and
# complex128 into complex64 (its own dtype rule, with a warning); these tests
# assert that a float64 / complex128 input reaches our code as it is.
X64_INPUTS = "JAX without x64 casts float64/complex128 inputs to float32/complex64 before our code sees them"
# PyTorch 2.13's own `Tensor.__array__(self, dtype=None)` has no `copy`
# keyword, so NumPy 2 emits a DeprecationWarning on every `np.array(tensor)`;
# Keras's torch `convert_to_numpy` is `np.array(x)` and runs in `predict` and
# on every metric log, so the warning comes from Keras's own paths (not only
# ours); this test turns every warning into an error.
TORCH_ARRAY_WARNING = "PyTorch 2.13's Tensor.__array__ has no `copy` keyword (NumPy 2 DeprecationWarning), hit by Keras's own torch convert_to_numpy (predict, logs); the test asserts no warning"
UNCLASSIFIED = "not yet diagnosed (issue 13)"
# PyTorch with jit_compile=True: torch.compile traces the metric (NaN, as the
# test expects) when run alone, but after many compilations in one process
# dynamo falls back to eager execution (its recompile limit), where the eager
# check raises. Pass or fail depends on the tests before it, so these alone
# are not strict.
DYNAMO_FALLBACK = "torch.compile falls back to eager after its recompile limit (order-dependent: traced NaN alone, eager ValueError in the full run)"
NOT_STRICT = {DYNAMO_FALLBACK}

KNOWN_FAILURES: dict[str, dict[str, str]] = {}
KNOWN_FAILURES["jax"] = {
    "tests/test_inputs_scores.py::TestRegressionTargets::test_output_major_float64": X64_INPUTS,
    "tests/test_inputs_scores.py::TestRegressionTargets::test_higher_rank_positions_are_samples": X64_INPUTS,
    "tests/losses/test_base.py::test_half_precision_predictions_reach_the_function_as_they_are": X64_INPUTS,
    "tests/losses/test_loss_inputs.py::test_real_tensor": X64_INPUTS,
}
KNOWN_FAILURES["torch"] = {
    "tests/metrics/test_invalid_inputs.py::test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced[all-zero-mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_invalid_inputs.py::test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced[multi-hot-mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_invalid_inputs.py::test_dense_multiclass_rows_that_are_not_one_hot_give_nan_when_traced[soft-mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_invalid_inputs.py::test_logits_without_from_logits_give_nan_when_traced[mode=evaluate-jit_compile=True]": DYNAMO_FALLBACK,
    "tests/metrics/test_calibration.py::test_bad_input_in_model[True]": DYNAMO_FALLBACK,
    "tests/metrics/test_operating_points.py::test_bad_inputs_raise_eagerly_and_give_nan_traced": DYNAMO_FALLBACK,
    "tests/test_layers.py::test_model_exports[tf_saved_model]": TORCH_EXPORT,
    "tests/losses/test_adversarial.py::test_critic_exports[tf_saved_model]": TORCH_EXPORT,
    "tests/losses/test_classification.py::test_model_exports[tf_saved_model]": TORCH_EXPORT,
    "tests/losses/test_combined.py::test_model_compiled_with_dice_plus_focal_exports[tf_saved_model]": TORCH_EXPORT,
    "tests/losses/test_segmentation.py::test_model_exports[tf_saved_model]": TORCH_EXPORT,
    "tests/metrics/test_invalid_inputs.py::test_valid_inputs_do_not_warn": TORCH_ARRAY_WARNING,
}
