"""keras_components.compat.tfa against values written by real tensorflow-addons 0.23.

The fixtures (tests/fixtures/tfa/, made by tests/fixtures/make_tfa_fixtures.py in a
TF 2.15 / tfa 0.23 environment) are the ground truth: every compat class reproduces
tfa's value for each argument combination to 1e-5, and the fixture .h5 models load
compiled with predictions to 1e-6 and `evaluate` equal to tfa's.
"""

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest

import keras_components
from keras_components.compat import tfa

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tfa"
VALUES = json.loads((FIXTURES / "values.json").read_text())
INPUTS = np.load(FIXTURES / "inputs.npz")
ROOT = Path(__file__).parents[2]


def arr(key):
    return None if key is None else INPUTS[key]


def ids(records):
    return [r["id"] for r in records]


ACTIVATIONS = [r for r in VALUES["activations"] if "output" in r]
LOSSES = [r for r in VALUES["losses"] if "error" not in r]
METRICS = [r for r in VALUES["metrics"] if "error" not in r]
# tfa 0.23's binary CohenKappa fed one-hot (N, 2) rows pairs flattened elements
# into a matrix that is not a kappa; compat refuses that input (tested below).
REFUSED = {"metrics.CohenKappa.defaults,num_classes=2"}
# tfa raised where compat accepts: an int beta / threshold (tfa demanded a
# Python float), and `y_shape=` (listed by tfa's docs, refused by its 0.23 base
# class; compat honours it as the per-sample shape).
LOOSER = {
    "metrics.FBetaScore.defaults_or_invalid,num_classes=4,beta=1",
    "metrics.F1Score.defaults_or_invalid,num_classes=4,threshold=1",
    "metrics.RSquare.defaults_or_kwargs,y_shape=(3,)",
}
# tfa's WeightedKappaLoss failed on sparse labels and on any sample_weight; ours
# (the same loss) takes sparse labels and weighs rows (tests/losses/test_kappa.py).
EXTENDED = {
    r["id"]
    for r in VALUES["losses"]
    if "error" in r and "WeightedKappaLoss" in r["id"] and "invalid" not in r["id"]
}
ERRORS = [
    r
    for r in VALUES["losses"] + VALUES["metrics"]
    if "error" in r and r["id"] not in LOOSER | EXTENDED
]


def component(record):
    return getattr(tfa, record["component"].split(".")[-1])


@pytest.mark.parametrize("record", ACTIVATIONS, ids=ids(ACTIVATIONS))
def test_activation(record):
    x = INPUTS[record["x"]]
    name = record["component"]
    if name == "tfa.layers.GELU":
        layer = tfa.GELU(**record["args"])
        out = layer(x)
        config = layer.get_config()
        # A default layer name is made unique per process ("gelu", "gelu_3"
        # after three others), in Keras 3 as in tfa: compare its stem only.
        skip = {"dtype"} | ({"name"} if "name" not in record["args"] else set())
        expected = {k: v for k, v in record["config"].items() if k not in skip}

        def stem(layer_name):
            return re.sub(r"_\d+$", "", layer_name)

        assert stem(config["name"]) == stem(record["config"]["name"])
        assert {k: config[k] for k in expected} == expected
    elif name == "tfa.activations.gelu":
        out = tfa.gelu(x, **record["args"])
    else:
        out = tfa.mish(x)
    np.testing.assert_allclose(np.asarray(out), record["output"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("record", LOSSES, ids=ids(LOSSES))
def test_loss(record):
    y_true, y_pred = arr(record["y_true"]), arr(record["y_pred"])
    if record["component"] == "tfa.losses.sigmoid_focal_crossentropy":
        out = tfa.sigmoid_focal_crossentropy(y_true, y_pred, **record["args"])
    else:
        loss = component(record)(**record["args"])
        out = loss(y_true, y_pred, sample_weight=arr(record.get("sample_weight")))
        config = loss.get_config()
        for key, value in record["config"].items():
            if key == "reduction" and value == "auto":
                value = "sum_over_batch_size"
            assert config[key] == value, key
    np.testing.assert_allclose(np.asarray(out), record["output"], atol=1e-5, rtol=1e-5)


def run_metric(record):
    metric = component(record)(**record["args"])
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MultiLabelConfusionMatrix's weight note
        for batch in record["batches"]:
            metric.update_state(
                arr(batch["y_true"]),
                arr(batch["y_pred"]),
                arr(batch.get("sample_weight")),
            )
            results.append(np.asarray(metric.result()))
    return metric, results


@pytest.mark.parametrize(
    "record",
    [r for r in METRICS if r["id"] not in REFUSED],
    ids=ids([r for r in METRICS if r["id"] not in REFUSED]),
)
def test_metric(record):
    metric, results = run_metric(record)
    np.testing.assert_allclose(
        results[0], record["result_batch1"], atol=1e-5, rtol=1e-5
    )
    np.testing.assert_allclose(results[-1], record["result"], atol=1e-5, rtol=1e-5)
    config = metric.get_config()
    for key, value in record["config"].items():
        assert config[key] == value, key
    again = type(metric).from_config(config)
    assert again.get_config() == config


@pytest.mark.parametrize("record", ERRORS, ids=ids(ERRORS))
def test_tfa_errors_are_errors_here(record):
    # Where tfa raised, compat raises too (at construction or on the input).
    with pytest.raises((ValueError, TypeError)):  # noqa: PT012
        if "batches" in record:
            run_metric(record)
        else:
            loss = component(record)(**record["args"])
            loss(
                arr(record["y_true"]),
                arr(record["y_pred"]),
                sample_weight=arr(record.get("sample_weight")),
            )


@pytest.mark.parametrize("record", sorted(EXTENDED))
def test_kappa_loss_sparse_labels_equal_one_hot(record):
    record = next(r for r in VALUES["losses"] if r["id"] == record)
    if "sparse" not in record["id"]:
        pytest.skip("sample weights: tested in tests/losses/test_kappa.py")
    twin = next(
        r
        for r in LOSSES
        if r["id"]
        == record["id"].replace(record["id"].split("y_true=")[1], "onehot_float32")
    )
    got = tfa.WeightedKappaLoss(**record["args"])(
        arr(record["y_true"]), arr(record["y_pred"])
    )
    np.testing.assert_allclose(float(got), twin["output"], atol=1e-5, rtol=1e-5)


def test_binary_cohen_kappa_refuses_one_hot_rows():
    record = next(r for r in VALUES["metrics"] if r["id"] in REFUSED)
    with pytest.raises(ValueError, match=r"num_classes=2.*\(N, 1\)"):
        run_metric(record)


def test_registered_names_cover_tfas():
    for name, saved in VALUES["registered_names"].items():
        assert keras.saving.get_registered_object(saved) is not None, saved
        assert keras.saving.get_registered_object(f"Addons>{name}") is not None, name


MODELS = VALUES["models"]


def load(record):
    return keras.models.load_model(FIXTURES / record["file"])


@pytest.mark.parametrize("record", MODELS, ids=ids(MODELS))
def test_h5_model_loads_compiled_and_evaluates_as_tfa(record):
    model = load(record)
    x, y = INPUTS[record["x"]], INPUTS[record["y"]]
    batch = record["batch_size"]
    np.testing.assert_allclose(
        model.predict(x, batch_size=batch, verbose=0),
        record["predict_after_reload_in_tfa"],
        atol=1e-6,
        rtol=0,
    )
    got = model.evaluate(x, y, batch_size=batch, return_dict=True, verbose=0)
    expected = record["evaluate_after_reload_in_tfa"]
    assert set(got) == set(expected)
    for key, value in expected.items():
        np.testing.assert_allclose(np.asarray(got[key]), value, atol=1e-5, rtol=1e-5)


# What a re-saved loaded model stores: ours where equivalent, Addons> otherwise.
NATIVE = {"Addons>GELU", "Addons>WeightedKappaLoss", "Addons>mish"}


@pytest.mark.parametrize("record", MODELS, ids=ids(MODELS))
def test_resave_as_keras(record, tmp_path):
    model = load(record)
    path = tmp_path / "model.keras"
    model.save(path)
    import zipfile

    config = zipfile.ZipFile(path).read("config.json").decode()
    for name in NATIVE:
        assert f'"{name}"' not in config
    x = INPUTS[record["x"]]
    expected = model.predict(x, verbose=0)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)
    if "Addons>" not in config:
        # Loads in a fresh process with only keras_components imported.
        script = (
            "import sys, numpy as np, keras, keras_components\n"
            "import keras_components.compat\n"
            "assert 'keras_components.compat.tfa' not in sys.modules\n"
            f"m = keras.models.load_model({str(path)!r})\n"
            f"x = np.load({str(tmp_path / 'x.npy')!r})\n"
            f"np.save({str(tmp_path / 'p.npy')!r}, m.predict(x, verbose=0))\n"
        )
        np.save(tmp_path / "x.npy", x)
        subprocess.run(
            [sys.executable, "-c", script], check=True, cwd=ROOT, capture_output=True
        )
        np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


def test_loaded_gelu_and_kappa_loss_are_ours():
    gelu_model = load(next(r for r in MODELS if "gelu_focal" in r["file"]))
    assert any(
        type(layer) is keras_components.layers.GELU for layer in gelu_model.layers
    )
    kappa_model = load(next(r for r in MODELS if "kappa" in r["file"]))
    assert type(kappa_model.loss) is keras_components.losses.WeightedKappaLoss


def test_unsupported_tfa_name_points_to_the_migration_guide(tmp_path):
    source = FIXTURES / "models" / "multilabel_confusion.h5"
    path = tmp_path / "lamb.h5"
    path.write_bytes(source.read_bytes())
    with h5py.File(path, "r+") as f:
        text = f.attrs["model_config"]
        text = text.decode() if isinstance(text, bytes) else text
        f.attrs["model_config"] = text.replace(
            '"Addons>GELU"', '"Addons>GroupNormalization"'
        )
    with pytest.raises(
        ValueError, match=r"Addons>GroupNormalization.*docs/migration\.md"
    ):
        keras.models.load_model(path)


def test_unsupported_activation_function():
    fn = keras.saving.get_registered_object("Addons>lisht")
    with pytest.raises(ValueError, match=r"Addons>lisht.*docs/migration\.md"):
        fn(np.zeros(2))


def test_unknown_config_argument_is_refused_by_name():
    with pytest.raises(ValueError, match=r"'label_smoothing'.*docs/migration\.md"):
        keras.saving.deserialize_keras_object(
            {
                "class_name": "Addons>SigmoidFocalCrossEntropy",
                "config": {"alpha": 0.25, "label_smoothing": 0.1},
            }
        )
    with pytest.raises(ValueError, match=r"'average_mode'"):
        tfa.F1Score.from_config({"num_classes": 3, "average_mode": "macro"})


def test_keras2_loss_aliases_are_read_only_from_legacy_files():
    config = tfa._rewrite_training_config(
        {"loss": "mse", "metrics": [["mae", {"class_name": "X", "config": {}}]]}
    )
    assert config["loss"] == "mean_squared_error"
    assert config["metrics"] == [
        ["mean_absolute_error", {"class_name": "X", "config": {}}]
    ]
    # Nothing registered globally: a config string "mae" stays a string.
    assert "mae" not in keras.saving.get_custom_objects()


def test_rsquare_y_shape_is_honoured():
    metric = tfa.RSquare(y_shape=(3,))
    with pytest.raises(ValueError, match=r"y_shape=\(3,\)"):
        metric.update_state(np.zeros((4, 2)), np.zeros((4, 2)))


def test_tfa_defaults():
    assert tfa.GELU().approximate is True
    loss = tfa.SigmoidFocalCrossEntropy()
    assert (loss.alpha, loss.gamma, loss.reduction) == (0.25, 2.0, "none")
    assert tfa.WeightedKappaLoss(3).reduction == "none"


MERGEABLE = [r for r in METRICS if r["id"] not in REFUSED and len(r["batches"]) == 2]


def _updated(record, batches):
    metric = component(record)(**record["args"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MultiLabelConfusionMatrix's weight note
        for batch in batches:
            metric.update_state(
                arr(batch["y_true"]),
                arr(batch["y_pred"]),
                arr(batch.get("sample_weight")),
            )
    return metric


@pytest.mark.parametrize("record", MERGEABLE, ids=ids(MERGEABLE))
def test_merge_state_equals_the_unsplit_stream(record):
    first, second = record["batches"]
    whole = np.asarray(_updated(record, [first, second]).result())
    merged = _updated(record, [first])
    merged.merge_state([_updated(record, [second])])
    np.testing.assert_allclose(np.asarray(merged.result()), whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(
        np.asarray(merged.result()), record["result"], atol=1e-5, rtol=1e-5
    )
    # Into a fresh metric, and with a never-updated one: the same.
    fresh = component(record)(**record["args"])
    fresh.merge_state([_updated(record, [first]), component(record)(**record["args"])])
    fresh.merge_state([_updated(record, [second])])
    np.testing.assert_allclose(np.asarray(fresh.result()), whole, rtol=1e-6, atol=1e-7)


def test_merge_state_refuses_another_configuration():
    metric = tfa.F1Score(num_classes=3, threshold=0.5)
    with pytest.raises(ValueError, match=r"argument `metrics`.*F1Score"):
        metric.merge_state([tfa.F1Score(num_classes=3, threshold=0.4)])
    with pytest.raises(ValueError, match=r"argument `metrics`"):
        metric.merge_state([tfa.HammingLoss(mode="multilabel", threshold=0.5)])
    r2 = tfa.RSquare()
    r2.update_state(np.ones((4, 2)), np.ones((4, 2)))
    other = tfa.RSquare()
    other.update_state(np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"argument `metrics`.*per-sample shape"):
        r2.merge_state([other])


def test_every_metric_class_merges():
    classes = {
        name
        for name, obj in vars(tfa).items()
        if isinstance(obj, type)
        and issubclass(obj, keras.metrics.Metric)
        and not name.startswith("_")
    }
    covered = {r["component"].split(".")[-1] for r in MERGEABLE}
    assert classes <= covered, classes - covered
