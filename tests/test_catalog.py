"""`keras-components catalog`: complete, importable, derived from the code."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import sklearn.metrics

import keras_components_cli
from keras_components import _catalog, cli

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = _catalog.entries()
OURS = [e for e in ENTRIES if e.origin == "keras_components"]
CORE = [e for e in ENTRIES if e.origin == "keras"]


def ids(entries):
    return [e.name for e in entries]


def flat(doc):
    """A docstring with its backticks dropped and its whitespace collapsed."""
    return " ".join((doc or "").replace("`", "").split())


# --------------------------------------------------------------------------
# Complete: every public activation, loss and metric has an entry
# --------------------------------------------------------------------------
def test_every_registered_activation_loss_and_metric_is_listed():
    assert _catalog.missing_entries() == []
    listed = {p for e in OURS for p in e.paths}
    for name, obj in _catalog.registered().items():
        if _catalog.role_of(obj) is not None:
            assert any(p.endswith("." + obj.__name__) for p in listed), name
    # Every entry declared for our components is a registered component.
    assert set(ids(OURS)) == set(_catalog._OURS)
    assert len(ids(ENTRIES)) == len(set(ids(ENTRIES)))


def _fake_metric():
    class Brier(keras.metrics.Metric):
        """Brier score `mean((p - y)**2)`."""

    Brier.__module__ = "keras_components.metrics._probabilistic"
    return Brier


def _fake_activation(x):
    """Square activation `x * x`."""
    return x * x


_fake_activation.__module__ = "keras_components.activations"
_fake_activation.__name__ = "square"


@pytest.mark.parametrize(
    ("obj", "name"), [(_fake_metric(), "Brier"), (_fake_activation, "square")]
)
def test_a_new_public_component_without_an_entry_fails(monkeypatch, obj, name):
    registry = keras.saving.get_custom_objects()
    monkeypatch.setitem(registry, f"keras_components>{obj.__name__}", obj)
    assert _catalog.missing_entries() == [name]
    with pytest.raises(ValueError, match=f"No catalog entry for {name}: add it"):
        _catalog.entries()


def test_registered_objects_of_no_role_are_not_listed(monkeypatch):
    class Helper:
        """Not an activation, loss or metric."""

    Helper.__module__ = "keras_components.callbacks"
    registry = keras.saving.get_custom_objects()
    monkeypatch.setitem(registry, "keras_components>Helper", Helper)
    assert _catalog.missing_entries() == []
    assert "Helper" not in ids(_catalog.entries())


def test_the_keras_core_components_the_design_points_to_are_listed():
    paths = {p for e in CORE for p in e.paths}
    for path in (
        "keras.activations.relu",
        "keras.layers.LeakyReLU",
        "keras.layers.PReLU",
        "keras.activations.sigmoid",
        "keras.activations.softmax",
        "keras.losses.BinaryCrossentropy",
        "keras.losses.CategoricalCrossentropy",
        "keras.losses.SparseCategoricalCrossentropy",
        "keras.losses.MeanSquaredError",
        "keras.losses.MeanAbsoluteError",
        "keras.losses.Huber",
    ):
        assert path in paths, path


# --------------------------------------------------------------------------
# Correct: paths resolve, roles and directions come from the code
# --------------------------------------------------------------------------
@pytest.mark.parametrize("entry", ENTRIES, ids=ids(ENTRIES))
def test_every_path_resolves_to_a_component_of_its_role(entry):
    assert entry.paths
    assert entry.role in _catalog.ROLES
    for path in entry.paths:
        assert path.split(".")[0] == entry.origin
        obj = _catalog.resolve(path)
        if entry.origin == "keras_components":
            assert _catalog.registered()[keras.saving.get_registered_name(obj)] is obj
            assert _catalog.role_of(obj) == entry.role
        elif isinstance(obj, type):
            base = {
                "activation": keras.layers.Layer,
                "loss": keras.losses.Loss,
                "metric": keras.metrics.Metric,
            }[entry.role]
            assert issubclass(obj, base), path
        else:
            assert callable(obj), path
            assert obj.__module__.startswith("keras"), path


@pytest.mark.parametrize("entry", ENTRIES, ids=ids(ENTRIES))
def test_direction_and_sklearn_only_for_metrics(entry):
    if entry.role != "metric":
        assert entry.direction is None
        assert entry.sklearn == ()
        return
    (metric,) = [o for o in map(_catalog.resolve, entry.paths) if isinstance(o, type)]
    if _catalog._OURS[entry.name].ranked:
        assert entry.direction == metric.direction
    else:
        assert entry.direction is None
    # A metric names the scikit-learn function it equals; only one that
    # scikit-learn has no counterpart of names its reference instead.
    no_sklearn = _catalog._OURS[entry.name].no_sklearn
    assert bool(entry.sklearn) != bool(no_sklearn), entry.name


SKLEARN = sorted({s for e in ENTRIES for s in e.sklearn})


@pytest.mark.parametrize("named", SKLEARN)
def test_every_named_sklearn_function_exists(named):
    match = re.fullmatch(r"sklearn\.metrics\.(\w+)( \([^()]+\))?", named)
    assert match, named
    assert callable(getattr(sklearn.metrics, match.group(1)))


@pytest.mark.parametrize("entry", ENTRIES, ids=ids(ENTRIES))
def test_every_entry_has_a_formula_inputs_and_a_summary(entry):
    for field in (entry.formula, entry.inputs, entry.summary):
        assert field.strip()
        assert "\n" not in field


@pytest.mark.parametrize("entry", OURS, ids=ids(OURS))
def test_our_formulas_and_sklearn_names_come_from_the_docstrings(entry):
    spec = _catalog._OURS[entry.name]
    docs = [_catalog.resolve(p).__doc__ for p in entry.paths]
    extracted = [f for f in map(_catalog.formula_from_doc, docs) if f]
    if spec.formula is None:
        # Each piece of the formula line is text of one docstring.
        assert extracted
        assert entry.formula == extracted[0]
        assert any(
            all(piece in flat(doc) for piece in entry.formula.split("; "))
            for doc in docs
        ), entry.formula
    else:
        # An override only where no docstring states a formula: when one
        # does, the docstring is the source and the override must go.
        assert extracted == [], (entry.name, extracted)
    if entry.role == "metric":
        (doc,) = [d for d, p in zip(docs, entry.paths, strict=True) if "." in p]
        from_doc = _catalog.sklearn_from_doc(doc)
        if spec.sklearn:
            assert from_doc == (), (entry.name, from_doc)
        else:
            assert entry.sklearn == from_doc
            for name in from_doc:
                assert name in flat(doc) or name.rsplit(".", 1)[1] in flat(doc)


@pytest.mark.parametrize(
    ("doc", "formula"),
    [
        ("Swish: `x * sigmoid(x)`.\n\nArgs:\n    x: `a * b`", "x * sigmoid(x)"),
        ("Loss as a `keras.losses.Loss`.\n\nNo formula here.", None),
        (
            "R2.\n\nFormula: `R2 = 1 - A / B` with `A = sum(e)` and `B = sum(d)`;",
            "R2 = 1 - A / B with A = sum(e) and B = sum(d)",
        ),
        (
            "Dice.\n\nPer class:\n\n    D = 2 I / (T + P)\n    L = 1 - D\n",
            "D = 2 I / (T + P); L = 1 - D",
        ),
        (
            "Focal.\n\nBinary:\n\n    loss = -[a * b\n             + c]\n",
            "loss = -[a * b + c]",
        ),
        ("AP.\n\n```\nAP = sum_b r_b * p_b\n```\n", "AP = sum_b r_b * p_b"),
        ("Example only.\n\nExample:\n\n>>> f(`x = 1`)", None),
    ],
)
def test_formula_extraction(doc, formula):
    assert _catalog.formula_from_doc(doc) == formula


def test_an_entry_whose_docstrings_state_no_formula_and_no_override_is_refused(
    monkeypatch,
):
    monkeypatch.setitem(_catalog._OURS, "Accuracy", _catalog._Ours("inputs"))
    with pytest.raises(ValueError, match="No formula for Accuracy"):
        _catalog.entries()


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# Each Keras core entry's formula line in float64 NumPy: the inputs, the
# keyword arguments (for the function and the class alike) and the values.
_RNG = np.random.default_rng(11)
X = _RNG.normal(size=(6, 4)) * 3
P = _softmax(_RNG.normal(size=(6, 4)))
Y_SPARSE = _RNG.integers(0, 4, size=6)
Y_ONE_HOT = np.eye(4)[Y_SPARSE]
Y_BINARY = (_RNG.random((6, 4)) > 0.5).astype("float64")
P_BINARY = _RNG.uniform(0.05, 0.95, size=(6, 4))
Y_REAL, Y_HAT = _RNG.normal(size=(6, 4)), _RNG.normal(size=(6, 4)) * 2
E = Y_REAL - Y_HAT
CORE_REFERENCES = {
    "ReLU": ((X,), {}, np.maximum(X, 0)),
    "LeakyReLU": ((X,), {"negative_slope": 0.1}, np.where(X > 0, X, 0.1 * X)),
    "PReLU": (
        (X,),
        {"alpha_initializer": keras.initializers.Constant(0.25)},
        np.where(X > 0, X, 0.25 * X),
    ),
    "sigmoid": ((X,), {}, 1 / (1 + np.exp(-X))),
    "Softmax": ((X,), {}, np.exp(X) / np.exp(X).sum(-1, keepdims=True)),
    "BinaryCrossentropy": (
        (Y_BINARY, P_BINARY),
        {},
        -np.mean(
            Y_BINARY * np.log(P_BINARY) + (1 - Y_BINARY) * np.log(1 - P_BINARY), -1
        ),
    ),
    "CategoricalCrossentropy": (
        (Y_ONE_HOT, P),
        {},
        -np.sum(Y_ONE_HOT * np.log(P), -1),
    ),
    "SparseCategoricalCrossentropy": (
        (Y_SPARSE, P),
        {},
        -np.log(P[np.arange(6), Y_SPARSE]),
    ),
    "MeanSquaredError": ((Y_REAL, Y_HAT), {}, np.mean(E**2, -1)),
    "MeanAbsoluteError": ((Y_REAL, Y_HAT), {}, np.mean(np.abs(E), -1)),
    "Huber": (
        (Y_REAL, Y_HAT),
        {"delta": 1.5},
        np.mean(
            np.where(np.abs(E) <= 1.5, 0.5 * E**2, 1.5 * (np.abs(E) - 0.5 * 1.5)), -1
        ),
    ),
}


def test_every_keras_core_entry_has_a_numeric_reference():
    assert set(CORE_REFERENCES) == set(ids(CORE))


@pytest.mark.parametrize("entry", CORE, ids=ids(CORE))
def test_keras_core_formula_lines_are_what_keras_computes(entry):
    inputs, kwargs, expected = CORE_REFERENCES[entry.name]
    for path in entry.paths:
        obj = _catalog.resolve(path)
        if not isinstance(obj, type):
            got = obj(*inputs, **kwargs)
        elif issubclass(obj, keras.losses.Loss):
            got = obj(reduction=None, **kwargs)(*inputs)
        else:
            got = obj(**kwargs)(*inputs)
        got = keras.ops.convert_to_numpy(got)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=path)


# --------------------------------------------------------------------------
# Formats
# --------------------------------------------------------------------------
def test_text_is_a_reference_card_grouped_by_role():
    text = _catalog.render("text")
    lines = text.splitlines()
    # The three roles, one explanation each, at the top.
    top = "\n".join(lines[:10])
    for role in _catalog.ROLES:
        assert re.search(rf"^{role} +used|^{role} +drives|^{role} +judges", top, re.M)
    assert "differentiable" in top
    assert "non-differentiable" in top
    headings = [i for i, s in enumerate(lines) if re.fullmatch(r"[A-Z]+", s)]
    assert [lines[i].split()[0] for i in headings] == [
        "ACTIVATIONS",
        "LOSSES",
        "METRICS",
    ]
    for entry in ENTRIES:
        assert f"  {entry.name} (" in text
        assert f"    formula  {entry.formula}\n" in text
    assert "F1 (ours, higher is better)" in text
    assert "HammingLoss (ours, lower is better)" in text
    assert "ReLU (Keras core)" in text
    assert "sklearn  sklearn.metrics.f1_score" in text
    # Formula lines are kept whole; everything else wraps at 100 columns.
    assert all(len(s) <= 100 for s in lines if not s.startswith("    formula "))


@pytest.mark.parametrize("role", _catalog.ROLES)
def test_role_selects_one_group_in_every_format(role):
    chosen = _catalog.entries(role)
    assert chosen
    assert {e.role for e in chosen} == {role}
    assert ids(chosen) == [e.name for e in ENTRIES if e.role == role]
    data = json.loads(_catalog.render("json", role))
    assert [d["name"] for d in data] == ids(chosen)
    text = _catalog.render("text", role)
    assert sum(bool(re.fullmatch(r"[A-Z]+", s)) for s in text.splitlines()) == 1
    markdown = _catalog.render("markdown", role)
    assert markdown.count("\n## ") == 1


def test_json_is_a_list_of_every_entry_with_every_field():
    data = json.loads(_catalog.render("json"))
    assert isinstance(data, list)
    assert [d["name"] for d in data] == ids(ENTRIES)
    fields = {
        "name", "role", "origin", "paths", "inputs", "formula", "summary",
        "direction", "sklearn",
    }  # fmt: skip
    for item, entry in zip(data, ENTRIES, strict=True):
        assert set(item) == fields
        assert item == entry.to_dict()
        assert item["direction"] in (None, "up", "down")


def test_markdown_is_one_table_per_role():
    markdown = _catalog.render("markdown")
    assert [s for s in markdown.splitlines() if s.startswith("## ")] == [
        "## Activations",
        "## Losses",
        "## Metrics",
    ]
    assert "| name | where | formula | inputs | better | scikit-learn |" in markdown
    assert markdown.count("| name | where | formula | inputs |") == 3
    rows = [s for s in markdown.splitlines() if s.startswith("| ") and "---" not in s]
    assert len(rows) == len(ENTRIES) + 3
    for row in rows:
        # Pipes inside cells are escaped, so every row has its table's columns.
        cells = re.split(r"(?<!\\)\|", row)[1:-1]
        assert len(cells) in (4, 6), row
    assert "`sum(w * \\|y - y_hat\\|) / sum(w)`" in markdown


def test_bad_format_or_role_in_the_library_is_a_value_error():
    with pytest.raises(ValueError, match=r"argument `format`.*Received: format='yaml'"):
        _catalog.render("yaml")
    with pytest.raises(ValueError, match=r"argument `role`.*Received: role='layer'"):
        _catalog.entries("layer")


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------
def test_the_command_line_choices_are_the_catalogs():
    assert keras_components_cli.CATALOG_ROLES == _catalog.ROLES
    assert keras_components_cli.CATALOG_FORMATS == _catalog.FORMATS


@pytest.mark.parametrize("fmt", _catalog.FORMATS)
def test_command_prints_the_catalog(capsys, fmt):
    assert cli.main(["catalog", "--format", fmt, "--role", "loss"]) == 0
    assert capsys.readouterr().out == _catalog.render(fmt, "loss")


def test_command_defaults_to_the_whole_text_card(capsys):
    assert cli.main(["catalog"]) == 0
    assert capsys.readouterr().out == _catalog.render()


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["catalog", "--role", "layer"], "'activation', 'loss', 'metric'"),
        (["catalog", "--format", "yaml"], "'text', 'markdown', 'json'"),
        (["catalog", "--role"], "expected one argument"),
    ],
)
def test_bad_options_are_usage_errors_naming_the_choices(capsys, argv, allowed):
    with pytest.raises(SystemExit) as exit_info:
        keras_components_cli.parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: keras-components catalog" in err
    assert allowed in err


def test_help_describes_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        keras_components_cli.parse_args(["catalog", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--format {text,markdown,json}" in out
    assert "--role {activation,loss,metric}" in out
    assert "reference card" in out


# What the installed `keras-components` script runs (pyproject's entry point).
CONSOLE_SCRIPT = "import sys\nfrom keras_components_cli import main\nsys.exit(main())"


def test_console_command_in_a_subprocess():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    argv = ["catalog", "--format", "json"]
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert [d["name"] for d in json.loads(done.stdout)] == ids(ENTRIES)
    assert done.stderr == ""  # TensorFlow's log lines are quieted


# --------------------------------------------------------------------------
# README
# --------------------------------------------------------------------------
def test_readme_excerpt_is_the_commands_output():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n### Catalog\n", 1)[1]
    command, block = re.search(r"```text\n\$ (.*?)\n(.*?)```", section, re.S).groups()
    assert command == "keras-components catalog --role metric"
    card = _catalog.render("text", "metric")
    lines = [s for s in block.splitlines() if s.strip() != "..."]
    assert lines
    for line in lines:
        assert line in card.splitlines(), line
