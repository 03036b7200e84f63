"""`keras-components demo` and `evaluate`, end to end, as a user runs them."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as skm

import keras_components_cli
from keras_components import _demo, _evaluate, _report, cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PICTURES = (
    "curves.png",
    "roc.png",
    "pr.png",
    "confusion_matrix.png",
    "reliability.png",
)


ROOT = Path(__file__).resolve().parents[1]
# What the installed `keras-components` console script runs.
CONSOLE_SCRIPT = "import sys, keras_components_cli as c; sys.exit(c.main())"


def _command(*args: str, cwd) -> subprocess.CompletedProcess:
    """`keras-components ARGS` in `cwd`, on this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user has it
    return subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _assert_png(path):
    from matplotlib import image

    assert path.read_bytes()[:8] == PNG_SIGNATURE, path
    pixels = image.imread(path)
    assert pixels.shape[0] > 100
    assert pixels.shape[1] > 100
    assert pixels.std() > 0.01, f"{path} is blank"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """The demo as a user runs it: a subprocess, in an empty folder."""
    folder = tmp_path_factory.mktemp("demo")
    result = _command("demo", "--epochs", "3", cwd=folder)
    return folder, result


def test_demo_passes_and_prints_its_report(demo_run):
    _folder, result = demo_run
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "breast cancer" in out
    assert "455 training / 114 validation rows" in out
    assert "val_f1" in out  # the callback's per-epoch line
    assert "scikit-learn" in out
    assert "roc_auc_score" in out
    assert out.rstrip().endswith("all checks passed")
    assert "Output folder: saved_models/demo" in out


def test_every_demo_artifact_loads_back(demo_run):
    import keras
    import tensorflow as tf

    folder, _ = demo_run
    out = folder / "saved_models" / "demo"
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] is True
    assert report["failures"] == []
    assert report["max_abs_diff_reloaded_keras"] == 0.0
    assert report["max_abs_diff_saved_model"] <= _demo.EXPORT_TOLERANCE
    for name in PICTURES:
        _assert_png(out / name)
    with (out / "history.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    assert {"loss", "f1", "val_loss", "val_f1", "val_auroc", "val_mcc"} <= set(rows[0])
    # The CSV logged what the report says the callback reported.
    assert float(rows[-1]["val_mcc"]) == pytest.approx(report["history"]["val_mcc"][-1])

    model = keras.saving.load_model(out / "model.keras")
    split = _demo.load("breast_cancer")
    outputs = model.predict(split.x_val, verbose=0)
    exported = tf.saved_model.load(str(out / "saved_model"))  # alive while serving
    served = np.asarray(exported.serve(split.x_val))
    np.testing.assert_allclose(served, outputs, atol=_demo.EXPORT_TOLERANCE)
    # The reported values equal scikit-learn recomputed here, independently.
    probability = 1 / (1 + np.exp(-outputs[:, 0].astype("float64")))
    expected = {
        "f1": skm.f1_score(split.y_val, probability > 0.5),
        "mcc": skm.matthews_corrcoef(split.y_val, probability > 0.5),
        "auroc": skm.roc_auc_score(split.y_val, probability),
        "log_loss": skm.log_loss(split.y_val, probability),
    }
    rows = {row["metric"]: row for row in report["validation"]}
    for name, value in expected.items():
        assert rows[name]["ours"] == pytest.approx(value, abs=1e-4), name
        assert report["history"][f"val_{name}"][-1] == pytest.approx(rows[name]["ours"])
    # The expected calibration error (15 bins, torchmetrics' definition:
    # bins [j/15, (j+1)/15), confidence 1 alone), recomputed here.
    index = np.searchsorted(
        (np.arange(16) / 15).astype("float32"),
        probability.astype("float32"),
        side="right",
    )
    ece = 0.0
    for b in np.unique(index):
        inside = index == b
        gap = split.y_val[inside].mean() - probability[inside].mean()
        ece += inside.mean() * abs(gap)
    calibration = report["calibration"]
    assert calibration["passed"] is True
    assert calibration["ours"] == pytest.approx(ece, abs=1e-5)
    assert report["history"]["val_calibration_error"][-1] == pytest.approx(
        calibration["ours"]
    )


def test_evaluate_the_demo_model_from_the_command_line(demo_run, tmp_path):
    folder, _ = demo_run
    split = _demo.load("breast_cancer")
    data = tmp_path / "validation.npz"
    np.savez(data, features=split.x_val, labels=split.y_val)
    model = folder / "saved_models" / "demo" / "model.keras"
    result = _command(
        "evaluate",
        str(model),
        "--data",
        str(data),
        "--x",
        "features",
        "--y",
        "labels",
        "--class-names",
        "benign,malignant",
        "--out",
        str(tmp_path / "report"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "114 rows, binary, 2 classes, outputs read as logits" in result.stdout
    assert result.stdout.rstrip().endswith("all checks passed")
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    demo = json.loads((model.parent / "report.json").read_text())
    # The same model on the same rows: the same numbers as the demo's report.
    ours = {r["metric"]: r["ours"] for r in report["validation"]}
    for row in demo["validation"]:
        assert ours[row["metric"]] == pytest.approx(row["ours"], abs=1e-6)
    for name in PICTURES[1:]:
        _assert_png(tmp_path / "report" / name)


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    """A plain Keras softmax model on digits, saved, with its data as npz and csv."""
    import keras

    folder = tmp_path_factory.mktemp("digits")
    split = _demo.load("digits")
    keras.utils.set_random_seed(1)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(split.x_train, split.y_train, epochs=3, verbose=0)
    model.save(folder / "digits.keras")
    np.savez(folder / "digits.npz", x=split.x_val, y=split.y_val)
    with (folder / "digits.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*(f"p{i}" for i in range(64)), "digit"])
        writer.writerows(
            [*x, y] for x, y in zip(split.x_val.tolist(), split.y_val, strict=True)
        )
    return folder, split, model


def test_evaluate_a_plain_keras_softmax_model(digits_model, tmp_path, capsys):
    folder, split, model = digits_model
    report = _evaluate.run(
        folder / "digits.keras", folder / "digits.npz", out_dir=tmp_path
    )
    assert report["passed"], report["failures"]
    assert (report["task"], report["outputs"]) == ("multiclass", "probabilities")
    probabilities = model.predict(split.x_val, verbose=0).astype("float64")
    rows = {r["metric"]: r["ours"] for r in report["validation"]}
    assert rows["f1"] == pytest.approx(
        skm.f1_score(split.y_val, probabilities.argmax(1), average="macro"), abs=1e-6
    )
    assert rows["auroc"] == pytest.approx(
        skm.roc_auc_score(split.y_val, probabilities, multi_class="ovr"), abs=1e-4
    )
    np.testing.assert_array_equal(
        report["confusion_matrix"],
        skm.confusion_matrix(split.y_val, probabilities.argmax(1)),
    )
    assert "10 classes, outputs read as probabilities" in capsys.readouterr().out


def test_evaluate_a_float16_softmax_model_against_its_own_outputs(tmp_path):
    # Half-precision softmax rows sum to 1 only within ~1e-3 and saturate to
    # exact 0s: the references are scikit-learn on the outputs as given (no
    # renormalising) with probabilities clipped at float32's eps, as our
    # LogLoss documents. Before, the report renormalised and clipped at
    # float64's eps, and failed a correct model.
    import keras

    rng = np.random.default_rng(5)
    x = rng.normal(size=(150, 4)).astype("float32")
    y = rng.integers(0, 3, 150)
    kernel = np.zeros((4, 3))
    kernel[0] = [20.0, -20.0, 0.0]  # confident, often wrong: p == 0 in float16
    kernel[1:] = rng.normal(size=(3, 3))
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(3, dtype="float16",
                           kernel_initializer=keras.initializers.Constant(kernel)),
        keras.layers.Softmax(dtype="float16"),
    ])  # fmt: skip
    model.save(tmp_path / "half.keras")
    np.savez(tmp_path / "half.npz", x=x, y=y)
    report = _evaluate.run(tmp_path / "half.keras", tmp_path / "half.npz", verbose=0)
    assert report["passed"], report["failures"]
    p = model.predict(x, verbose=0).astype("float64")
    assert np.any(p == 0)
    assert np.abs(p.sum(1) - 1).max() > 1e-4
    eps = np.finfo(np.float32).eps
    picked = np.clip(p[np.arange(len(y)), y], eps, 1 - eps)
    rows = {r["metric"]: r for r in report["validation"]}
    assert rows["log_loss"]["ours"] == pytest.approx(-np.log(picked).mean(), rel=1e-5)
    ovr = np.mean([skm.roc_auc_score(y == c, p[:, c]) for c in range(3)])
    assert rows["auroc"]["ours"] == pytest.approx(ovr, abs=rows["auroc"]["allowed"])


def test_evaluate_refuses_a_multilabel_model_as_such(tmp_path):
    import keras

    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")]
    )
    model.save(tmp_path / "tags.keras")
    rng = np.random.default_rng(6)
    np.savez(
        tmp_path / "tags.npz",
        x=rng.normal(size=(20, 4)).astype("float32"),
        y=(rng.random((20, 3)) < 0.5).astype("int32"),
    )
    with pytest.raises(ValueError, match=r"`model`.*3 sigmoid units.*multilabel"):
        _evaluate.run(tmp_path / "tags.keras", tmp_path / "tags.npz", verbose=0)


def test_evaluate_reads_csv_like_npz(digits_model, tmp_path):
    folder, _, _ = digits_model
    from_npz = _evaluate.run(
        folder / "digits.keras",
        folder / "digits.npz",
        out_dir=tmp_path / "a",
        verbose=0,
    )
    from_csv = _evaluate.run(
        folder / "digits.keras",
        folder / "digits.csv",
        y_key="digit",
        out_dir=tmp_path / "b",
        verbose=0,
    )
    assert from_csv["validation"] == from_npz["validation"]


def test_evaluate_default_output_folder_is_next_to_the_model(digits_model, capsys):
    folder, _, _ = digits_model
    code = cli.main(
        [
            "evaluate",
            str(folder / "digits.keras"),
            "--data",
            str(folder / "digits.npz"),
            "--quiet",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"Output folder: {folder / 'digits_evaluation'}",
        "all checks passed",
    ]
    assert (folder / "digits_evaluation" / "report.json").is_file()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": "missing.npz"}, "argument `data`.*missing.npz' \\(not found\\)"),
        (
            {"data": "notes.txt"},
            "argument `data`. Expected a file ending in .npz or .csv",
        ),
        ({"x_key": "pixels"}, "argument `x`.*arrays found: x, y. Received: x='pixels'"),
        ({"y_key": "label"}, "argument `y`.*arrays found: x, y. Received: y='label'"),
        (
            {"data": "digits.csv"},
            "argument `y`.*columns found: p0, p1.*Received: y='y'",
        ),
        (
            {"data": "digits.csv", "y_key": "digit", "x_key": "p0,q9"},
            "Received: x='q9'",
        ),
        ({"data": "short.npz"}, "different lengths: 5 rows of inputs, 4 of labels"),
        (
            {"model": "missing.keras"},
            "argument `model`.*missing.keras' \\(not found\\)",
        ),
        (
            {"model": "garbage.keras"},
            "argument `model`. Expected a model file Keras can",
        ),
        ({"task": "multilabel"}, "multilabel models are not supported by evaluate yet"),
        ({"task": "binary"}, "Expected 'multiclass' for a model with 10 outputs"),
        ({"outputs": "scores"}, "argument `outputs`.*Received: outputs='scores'"),
        ({"class_names": ["a", "b"]}, "Expected 10 names, one per class"),
    ],
)
def test_evaluate_bad_input_names_the_argument(digits_model, kwargs, message):
    folder, _, _ = digits_model
    (folder / "notes.txt").write_text("x")
    (folder / "garbage.keras").write_bytes(b"not a zip file")
    np.savez(folder / "short.npz", x=np.zeros((5, 64)), y=np.zeros(4))
    arguments = {"model": "digits.keras", "data": "digits.npz"} | kwargs
    model, data = (folder / arguments.pop(k) for k in ("model", "data"))
    with pytest.raises(ValueError, match=message):
        _evaluate.run(model, data, verbose=0, **arguments)


def test_evaluate_errors_are_one_line_on_the_command_line(capsys, tmp_path):
    code = cli.main(["evaluate", str(tmp_path / "m.keras"), "--data", "d.npz"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "keras-components evaluate: error: Invalid value for argument"
    )


def test_outputs_form_is_read_from_the_last_layer_never_guessed():
    import keras

    def model(*layers):
        return keras.Sequential([keras.Input((4,)), *layers])

    dense = keras.layers.Dense
    assert _evaluate.outputs_are_logits(model(dense(3)))
    assert not _evaluate.outputs_are_logits(model(dense(1, activation="sigmoid")))
    assert not _evaluate.outputs_are_logits(model(dense(3), keras.layers.Softmax()))
    assert not _evaluate.outputs_are_logits(
        model(dense(3), keras.layers.Activation("softmax"))
    )
    with pytest.raises(ValueError, match=r"activation 'tanh'\. Pass outputs='logits'"):
        _evaluate.outputs_are_logits(model(dense(3, activation="tanh")))
    assert not _evaluate.outputs_are_logits(
        model(dense(3, activation="tanh")), "probabilities"
    )


def test_demo_digits_in_process(tmp_path, capsys):
    report = _demo.run(tmp_path, dataset="digits", epochs=1, verbose=0)
    assert report["passed"], report["failures"]
    assert report["validation_rows"] == 360
    assert len(report["confusion_matrix"]) == 10
    assert capsys.readouterr().out == ""  # verbose=0 prints nothing itself


def test_demo_datasets_agree_with_the_parser():
    assert keras_components_cli.DEMO_DATASETS == _demo.DATASETS
    with pytest.raises(ValueError, match="Received: dataset='iris'"):
        _demo.load("iris")


def test_report_refuses_a_wrong_number_of_class_names():
    with pytest.raises(ValueError, match="argument `class_names`"):
        _report.Task.make("binary", 2, from_logits=True, class_names=["only"])
