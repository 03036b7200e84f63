"""The `keras-components` command."""

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import keras_components
import keras_components_cli
from keras_components import bench, cli

ROOT = Path(__file__).resolve().parents[1]


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert "demo" in out
    assert "bench" in out


# --------------------------------------------------------------------------
# Parsing: --version, bench options in any order, help text everywhere
# --------------------------------------------------------------------------
def test_version_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.strip() == f"keras-components {keras_components.__version__}"


def test_version_is_read_from_the_source_without_importing(monkeypatch):
    monkeypatch.delitem(sys.modules, "keras_components")
    assert keras_components_cli.package_version() == keras_components.__version__


@pytest.mark.parametrize(
    ("argv", "suites", "rounds", "quick"),
    [
        (["bench"], [], 25, False),
        (["bench", "--quick"], [], 25, True),
        (["bench", "--rounds", "3"], [], 3, False),
        (["bench", "--rounds", "3", "losses"], ["losses"], 3, False),
        (["bench", "losses", "--rounds=3"], ["losses"], 3, False),
        (
            ["bench", "losses", "--quick", "ranking", "--rounds", "2"],
            ["losses", "ranking"],
            2,
            True,
        ),
        (["bench", "claims", "--quick"], ["claims"], 25, True),
    ],
)
def test_bench_options_in_any_order(argv, suites, rounds, quick):
    args = keras_components_cli.parse_args(argv)
    assert (args.command, args.suites, args.rounds, args.quick) == (
        "bench",
        suites,
        rounds,
        quick,
    )


def test_bench_allocator_options():
    parse = keras_components_cli.parse_args
    assert parse(["bench"]).bfc_allocator is False
    assert parse(["bench", "losses", "--bfc-allocator"]).bfc_allocator is True
    # The old option still parses (a deprecated no-op).
    assert parse(["bench", "--system-allocator"]).bfc_allocator is False


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["bench", "--bfc-allocator", "--system-allocator"],
            "not allowed with argument",
        ),
        (["bench", "nope"], "unknown suite"),
        (["bench", "losses", "--bogus"], "unrecognized arguments: --bogus"),
        (["bench", "--rounds", "0"], "integer >= 1"),
        (["bench", "--rounds", "x"], "integer >= 1"),
        (["bench", "--warmup", "-1"], "integer >= 0"),
        (["demo", "extra"], "unrecognized arguments: extra"),
        (["demo", "--dataset", "iris"], "invalid choice: 'iris'"),
        (["demo", "--epochs", "0"], "integer >= 1"),
        (["evaluate", "m.keras"], "the following arguments are required: --data"),
        (
            ["evaluate", "m.keras", "--data", "d.npz", "--task", "multilabel"],
            "invalid choice",
        ),
    ],
)
def test_bad_command_lines_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        keras_components_cli.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["--help"], ["bench", "--help"], ["demo", "-h"], ["evaluate", "-h"]]
)
def test_help(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 0
    assert "usage: keras-components" in capsys.readouterr().out


def test_every_option_has_help_text():
    parser, _ = keras_components_cli.build_parser()
    parsers = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            parsers += action.choices.values()
            assert {a.dest for a in action._choices_actions} == set(action.choices)
            assert all(a.help for a in action._choices_actions)
    commands = {p.prog.split()[-1] for p in parsers[1:]}
    assert commands == {"demo", "evaluate", "catalog", "bench"}
    for p in parsers:
        for action in p._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help, (p.prog, action.dest)


def test_bench_suite_names_match_the_package():
    assert tuple(bench.SUITES) == keras_components_cli.BENCH_SUITES


def test_console_entry_point_is_the_light_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    scripts = config["project"]["scripts"]
    assert scripts["keras-components"] == "keras_components_cli:main"
    assert "keras_components_cli" in config["tool"]["setuptools"]["py-modules"]


# --------------------------------------------------------------------------
# TensorFlow's log lines: quieted by the command, untouched by the library
# --------------------------------------------------------------------------
LOG_LINE = re.compile(
    r"^[IWE]\d{4} [\d:.]+\s+\d+ \S+:\d+\]|absl::InitializeLog|cuInit|cuda",
    re.MULTILINE | re.IGNORECASE,
)


def run_python(code, *args, env_extra=None, timeout=300):
    """`python -c code args` from the repository root, as a user would run it.

    The user's environment has no `TF_CPP_MIN_LOG_LEVEL` (the test session
    sets one; it is removed here).
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# What the installed `keras-components` script does, plus a check that
# TensorFlow (or the package) was never imported.
CONSOLE_SCRIPT = """
import sys
from keras_components_cli import main
try:
    code = main()
except SystemExit as exit:
    code = exit.code
assert "tensorflow" not in sys.modules, "tensorflow imported"
assert "keras_components" not in sys.modules, "keras_components imported"
sys.exit(code)
"""


@pytest.mark.parametrize("argv", [["--version"], ["bench", "--help"], ["--help"]])
def test_version_and_help_import_no_tensorflow_and_log_nothing(argv):
    done = run_python(CONSOLE_SCRIPT, *argv)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "keras-components" in done.stdout


def test_a_command_that_imports_tensorflow_prints_no_tensorflow_log_line():
    # `bench claims --quick`: imports TensorFlow, runs ops (where the CUDA
    # error line of CPU machines used to come from) and prints every claim.
    done = run_python(
        "import sys\nfrom keras_components_cli import main\nsys.exit(main())",
        "bench",
        "claims",
        "--quick",
    )
    assert done.returncode == 0, done.stderr
    assert not LOG_LINE.search(done.stderr), done.stderr
    for name in ("R2Score", "CategoricalFocalCrossentropy", "Dice", "Tversky"):
        assert name in done.stdout
    for name in ("F1Score", "AUC(num_thresholds=200, curve='ROC')", "curve='PR'"):
        assert name in done.stdout


def test_the_users_log_level_is_respected():
    code = (
        "import os\nfrom keras_components_cli import quiet_tensorflow_import\n"
        "quiet_tensorflow_import()\nprint(os.environ['TF_CPP_MIN_LOG_LEVEL'])"
    )
    done = run_python(code, env_extra={"TF_CPP_MIN_LOG_LEVEL": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"


LIBRARY_IMPORT = """
import importlib, os, pkgutil
import keras  # TensorFlow 2.21 itself sets TF_CPP_MIN_LOG_LEVEL=1 when loaded
before = dict(os.environ)
import keras_components
assert dict(os.environ) == before, "the environment changed"
assert os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3"

def registered():
    names = keras.saving.get_custom_objects()
    return {k for k in names if k.startswith("keras_components>")}

after_import = registered()
for info in pkgutil.walk_packages(keras_components.__path__, "keras_components."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
assert after_import == registered(), registered() - after_import
for name in keras_components.__all__:
    obj = getattr(keras_components, name)
    if isinstance(obj, type):
        assert keras.saving.get_registered_name(obj) == "keras_components>" + name
for name in ("mish", "gelu", "swish"):
    assert "keras_components>" + name in after_import, name
"""


def test_library_import_leaves_the_environment_and_registers_every_name():
    # A plain `import keras_components` registers everything a saved model
    # can name (importing every other module adds nothing) and sets no
    # environment variable: only the command line quiets TensorFlow.
    done = run_python(LIBRARY_IMPORT)
    assert done.returncode == 0, done.stderr


def test_log_filter_drops_log_lines_and_keeps_the_rest(capfd):
    with keras_components_cli._drop_tensorflow_log_lines():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is ")
        os.write(2, b"called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1796116924.448207    9338 port.cc:153] oneDNN\n")
        os.write(2, b"E1203 14:05:09.123456    9338 cuda_platform.cc:52] cuInit\n")
        os.write(2, b"F0000 00:00:1.5 9 x.cc:1] fatal stays\n")
        os.write(2, b"UserWarning: a Python warning stays\n")
    err = capfd.readouterr().err
    assert err == "F0000 00:00:1.5 9 x.cc:1] fatal stays\n" + (
        "UserWarning: a Python warning stays\n"
    )


def test_log_filter_replays_everything_when_the_import_fails(capfd):
    line = "I0000 00:00:1.5    9 port.cc:153] context for the failure\n"

    def failing_import():
        with keras_components_cli._drop_tensorflow_log_lines():
            os.write(2, line.encode())
            raise ImportError("boom")

    with pytest.raises(ImportError, match="boom"):
        failing_import()
    assert capfd.readouterr().err == line


# --------------------------------------------------------------------------
# `bench`: the CPU allocator and the comparison column
# --------------------------------------------------------------------------
QUICK_ROW = ["activations", "--quick", "--rounds", "1", "--warmup", "0"]


@pytest.fixture
def allocator_at_import(monkeypatch):
    """The value of TF_CPU_ALLOCATOR_USE_BFC when the command imports TensorFlow."""
    # (setenv first so that teardown restores the variable however it was)
    monkeypatch.setenv("TF_CPU_ALLOCATOR_USE_BFC", "unset by the test")
    monkeypatch.delenv("TF_CPU_ALLOCATOR_USE_BFC")
    seen = []
    original = keras_components_cli.quiet_tensorflow_import

    def recording_import():
        seen.append(os.environ.get("TF_CPU_ALLOCATOR_USE_BFC"))
        original()

    monkeypatch.setattr(
        keras_components_cli, "quiet_tensorflow_import", recording_import
    )
    return seen


def test_bench_uses_the_default_allocator_unless_asked(allocator_at_import, capsys):
    assert bench.main(QUICK_ROW) == 0
    assert allocator_at_import == [None]
    out = capsys.readouterr().out
    assert "default CPU allocator" in out
    assert "BFC" not in out


def test_bfc_allocator_is_set_before_tensorflow_is_imported(
    allocator_at_import, capsys
):
    assert bench.main([*QUICK_ROW, "--bfc-allocator"]) == 0
    assert allocator_at_import == ["true"]
    assert "BFC CPU allocator" in capsys.readouterr().out


def test_system_allocator_is_a_deprecated_no_op(allocator_at_import, capsys):
    assert bench.main([*QUICK_ROW, "--system-allocator"]) == 0
    assert allocator_at_import == [None]
    captured = capsys.readouterr()
    assert "--system-allocator is deprecated and has no effect" in captured.err
    assert "default CPU allocator" in captured.out


def test_compare_adds_the_earlier_runs_ratios(tmp_path, allocator_at_import, capsys):
    earlier = tmp_path / "earlier.json"
    assert bench.main([*QUICK_ROW, "--json", str(earlier)]) == 0
    rows = json.loads(earlier.read_text())
    assert rows["allocator"] == "default"
    capsys.readouterr()
    assert bench.main([*QUICK_ROW, "--compare", str(earlier)]) == 0
    table = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith("|")
    ]
    assert "| ratio, default allocator |" in table[0]
    assert table[1].count("|") == table[0].count("|")
    by_name = {(r["name"], r["baseline"]): r["ratio"] for r in rows["rows"]}
    for line in table[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert float(cells[5]) == pytest.approx(by_name[cells[0], cells[2]], abs=0.005)


def test_compare_rejects_a_file_that_is_not_a_bench_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="argument `--compare`"):
        bench.main([*QUICK_ROW, "--compare", str(bad)])
