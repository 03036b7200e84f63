"""Integrity of the committed TensorFlow Addons fixtures (``tests/fixtures/tfa/``).

The fixtures were written by the real tensorflow-addons 0.23 on TensorFlow 2.15
(``tests/fixtures/make_tfa_fixtures.py``, run in a separate environment). Here,
in the normal environment, only their integrity is checked: tensorflow-addons
is never imported. The numeric comparison against ``keras_components.compat.tfa``
lives with that module's tests.
"""

import json
import math
from pathlib import Path

import h5py
import numpy as np
import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tfa"
SECTIONS = ("activations", "losses", "metrics", "models")
# Every component issue 12 names, by the tfa path the records use.
COMPONENTS = {
    "tfa.activations.gelu",
    "tfa.activations.mish",
    "tfa.layers.GELU",
    "tfa.losses.SigmoidFocalCrossEntropy",
    "tfa.losses.WeightedKappaLoss",
    "tfa.metrics.F1Score",
    "tfa.metrics.FBetaScore",
    "tfa.metrics.CohenKappa",
    "tfa.metrics.MatthewsCorrelationCoefficient",
    "tfa.metrics.RSquare",
    "tfa.metrics.HammingLoss",
    "tfa.metrics.MultiLabelConfusionMatrix",
}


@pytest.fixture(scope="module")
def values():
    with open(FIXTURES / "values.json") as f:
        return json.load(f)


@pytest.fixture(scope="module")
def inputs():
    with np.load(FIXTURES / "inputs.npz") as data:
        return {key: data[key] for key in data.files}


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, bool):
        return
    elif isinstance(value, (int, float)):
        yield value


def _input_keys(record):
    for name in ("x", "y", "y_true", "y_pred", "sample_weight"):
        if record.get(name) is not None:
            yield record[name]
    for batch in record.get("batches", []):
        for key in batch.values():
            if key is not None:
                yield key


def test_files_present_and_small():
    for name in ("values.json", "inputs.npz", "README.md"):
        assert (FIXTURES / name).is_file(), name
    assert sorted(FIXTURES.glob("models/*.h5")), "no .h5 models"
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 2 * 1024 * 1024, f"fixtures are {total} bytes"


def test_made_by_tensorflow_addons_0_23(values):
    assert values["versions"]["tensorflow-addons"] == "0.23.0"
    assert values["versions"]["tensorflow"].startswith("2.15.")
    assert values["versions"]["keras"].startswith("2.15.")


def test_records_unique_and_cover_every_component(values):
    ids = [r["id"] for section in SECTIONS for r in values[section]]
    assert len(ids) == len(set(ids))
    covered = {
        r["component"]
        for section in ("activations", "losses", "metrics")
        for r in values[section]
        if "output" in r or "result" in r
    }
    assert covered >= COMPONENTS, COMPONENTS - covered


def test_inputs_referenced_exist_and_are_finite(values, inputs):
    for section in SECTIONS:
        for record in values[section]:
            for key in _input_keys(record):
                assert key in inputs, (record["id"], key)
    for key, array in inputs.items():
        assert array.size, key
        assert np.all(np.isfinite(array)), key


def test_recorded_values_are_finite(values):
    names = (
        "output",
        "result",
        "result_batch1",
        "predict_after_reload_in_tfa",
        "predict_before_save",
        "evaluate_after_reload_in_tfa",
        "evaluate_before_save",
    )
    count = 0
    for section in SECTIONS:
        for record in values[section]:
            for name in names:
                for number in _numbers(record.get(name)):
                    assert math.isfinite(number), (record["id"], name)
                    count += 1
    assert count > 1000


def test_metric_records_stream_two_batches_with_a_config(values):
    for record in values["metrics"]:
        if "result" not in record:
            assert record.get("error"), record["id"]
            continue
        assert len(record["batches"]) in (1, 2), record["id"]
        assert "name" in record["config"], record["id"]


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("models/*.h5")), ids=lambda p: p.name
)
def test_h5_opens_with_a_model_and_training_config(path, values):
    record = {m["file"]: m for m in values["models"]}[f"models/{path.name}"]
    with h5py.File(path, "r") as f:
        attrs = {}
        for name in ("model_config", "training_config"):
            raw = f.attrs[name]
            attrs[name] = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        assert "model_weights" in f
    model_config = json.loads(attrs["model_config"])
    training_config = json.loads(attrs["training_config"])
    assert model_config["class_name"] in ("Functional", "Sequential")
    assert "loss" in training_config
    assert "metrics" in training_config
    # values.json holds the very same strings.
    assert record["h5_attrs"]["model_config"] == attrs["model_config"]
    assert record["h5_attrs"]["training_config"] == attrs["training_config"]


def test_every_model_record_has_its_file(values):
    files = {p.name for p in FIXTURES.glob("models/*.h5")}
    assert {Path(m["file"]).name for m in values["models"]} == files
