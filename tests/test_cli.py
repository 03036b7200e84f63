"""The `keras-components` command."""

import json

from keras_components import cli


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert "demo" in out
    assert "bench" in out


def test_demo_trains_saves_exports_and_verifies(tmp_path):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--out", str(out), "--epochs", "2", "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["reloaded_identical"] is True
    assert report["export_matches"] is True
    # The streamed validation metrics equal scikit-learn on the predictions.
    assert report["max_abs_gap_vs_sklearn"] <= 1e-6
    assert set(report["validation_metrics"]) == {"accuracy", "f1", "mcc", "cohen_kappa"}
    assert (out / "model.keras").is_file()
    assert (out / "saved_model" / "saved_model.pb").is_file()
    losses = report["history"]["loss"]
    assert len(losses) == 2
    assert losses[1] < losses[0]
    assert report["validation_metrics"]["accuracy"] > 0.5
