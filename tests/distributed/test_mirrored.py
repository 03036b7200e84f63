"""`tf.distribute.MirroredStrategy` over the two logical CPUs of the root conftest.

The same tiny model, data and initial weights as one device (see
`scenario.py`): `fit` (loss, compiled metrics, `ValidationMetrics`'s
`val_*` keys) and `evaluate` equal the single-device run, and the metrics
equal scikit-learn on the model's predictions.

Run alone: `python -m pytest -q tests/distributed/test_mirrored.py`.
"""

import pytest

from tests.distributed import scenario

pytestmark = [
    pytest.mark.tensorflow_only,
    pytest.mark.filterwarnings("ignore:AUROC:UserWarning"),  # its bin warning
]


def test_single_device_run_matches_sklearn(single_device_run):
    scenario.assert_matches_sklearn(single_device_run, "one device")


def test_fit_and_evaluate_equal_one_device_and_sklearn(
    mirrored_strategy, single_device_run
):
    assert mirrored_strategy.num_replicas_in_sync == 2
    result = scenario.run(strategy=mirrored_strategy)
    scenario.assert_matches_sklearn(result, "MirroredStrategy")
    scenario.assert_same_run(result, single_device_run, "MirroredStrategy")
