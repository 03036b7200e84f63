"""Private Keras APIs are used through `keras_components._keras_compat` only."""

import ast
from pathlib import Path

import keras

from keras_components import _keras_compat

PACKAGE = Path(__file__).resolve().parents[1] / "keras_components"


def _private_keras_names(tree: ast.AST) -> list[str]:
    """`keras.src` in imports and in string literals that are not docstrings."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(
            node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
        )
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "keras.src"
        ):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.startswith("keras.src")
            ]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and "keras.src" in node.value
            and id(node) not in docstrings
        ):
            found.append(f"line {node.lineno}: {node.value!r}")
    return found


def test_only_keras_compat_uses_private_keras_modules():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_keras_compat.py":
            continue
        names = _private_keras_names(ast.parse(path.read_text(), str(path)))
        if names:
            offenders[str(path.relative_to(PACKAGE.parent))] = names
    assert not offenders, offenders


def test_the_scan_sees_private_imports_and_strings():
    code = (
        '"""Docs may name keras.src.backend."""\n'
        "from keras.src.backend import get_keras_mask\n"
        "import keras.src.ops\n"
        "x = 'keras.src.metrics'\n"
    )
    assert len(_private_keras_names(ast.parse(code))) == 3


def test_every_private_name_resolves_on_the_installed_keras():
    for name in _keras_compat.__all__:
        assert callable(getattr(_keras_compat, name)), name


def test_keras_metric_functions_are_recognised_and_losses_are_not():
    assert _keras_compat.is_keras_metric_function(keras.metrics.binary_accuracy)
    assert _keras_compat.is_keras_metric_function(keras.metrics.categorical_accuracy)
    assert not _keras_compat.is_keras_metric_function(keras.losses.binary_crossentropy)
    assert not _keras_compat.is_keras_metric_function(lambda t, p: t - p)


def test_mask_side_channel_round_trips():
    x = keras.ops.ones((2, 3))
    mask = keras.ops.convert_to_tensor([[True, False, True], [True, True, False]])
    _keras_compat.set_keras_mask(x, mask)
    assert keras.ops.all(_keras_compat.get_keras_mask(x) == mask)
    _keras_compat.set_keras_mask(x, None)
    assert _keras_compat.get_keras_mask(x) is None
