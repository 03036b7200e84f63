"""Registration: the exported names are exactly the registered ones, once each."""

import importlib
import pkgutil

import keras
import numpy as np
import pytest

import keras_components
from keras_components import _export
from keras_components._export import PACKAGE, export

PREFIX = f"{PACKAGE}>"
# The public namespaces whose `__all__` is the package's surface.
NAMESPACES = (
    "keras_components",
    "keras_components.activations",
    "keras_components.callbacks",
    "keras_components.layers",
    "keras_components.losses",
    "keras_components.metrics",
)
# Exported but not serializable components (nothing a config names):
# `gradient_penalty` is a training-step helper, never part of a saved model.
NOT_REGISTERED = {"gradient_penalty"}


def _exported() -> dict[str, object]:
    """Every public component by exported name (modules and __version__ left out)."""
    found: dict[str, object] = {}
    for namespace in NAMESPACES:
        module = importlib.import_module(namespace)
        for name in module.__all__:
            obj = getattr(module, name)
            if name == "__version__" or isinstance(obj, type(keras_components)):
                continue
            assert found.get(name, obj) is obj, (
                f"{namespace}.{name} is not the object exported under that name "
                "elsewhere"
            )
            found[name] = obj
    return found


def _registered() -> dict[str, object]:
    """Everything registered under the package, after importing every module."""
    for info in pkgutil.walk_packages(keras_components.__path__, "keras_components."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    return {
        key: obj
        for key, obj in keras.saving.get_custom_objects().items()
        if key.startswith(PREFIX)
    }


def test_exported_set_equals_registered_set():
    exported = _exported()
    registered = _registered()
    expected = {PREFIX + name for name in exported if name not in NOT_REGISTERED}
    assert set(registered) == expected, (
        f"registered, not exported: {sorted(set(registered) - expected)}; "
        f"exported, not registered: {sorted(expected - set(registered))}"
    )
    for name, obj in exported.items():
        if name in NOT_REGISTERED:
            assert keras.saving.get_registered_name(obj) == obj.__name__, name
            continue
        # The exported name is the registered one, and the registry resolves
        # it to this very object (not to another one that replaced it).
        assert obj.__name__ == name
        assert keras.saving.get_registered_name(obj) == PREFIX + name
        assert keras.saving.get_registered_object(PREFIX + name) is obj


def test_no_duplicate_registered_names():
    # One object per registered name and one registered name per object (a
    # name registered twice would have replaced the first object; `export`
    # refuses that), and every object's own name is the name it is under.
    registered = _registered()
    assert len({id(obj) for obj in registered.values()}) == len(registered)
    for key, obj in registered.items():
        assert keras.saving.get_registered_name(obj) == key
        assert key == _export.registered_name(obj)


def test_duplicate_name_is_refused_and_the_registered_object_kept():
    original = keras_components.Mish

    class Mish(keras.layers.Layer):  # same name, different definition
        pass

    with pytest.raises(ValueError, match=r"already registered") as info:
        export(Mish)
    message = str(info.value)
    assert "'keras_components>Mish'" in message
    assert "keras_components.layers.Mish" in message  # the registered one
    assert "test_export" in message  # the refused one
    assert "frozen" in message
    assert keras.saving.get_registered_object(f"{PREFIX}Mish") is original
    assert keras.saving.get_registered_name(Mish) == "Mish"  # not registered


def test_duplicate_function_name_is_refused():
    def mish(x):
        return x

    with pytest.raises(ValueError, match=r"'keras_components>mish'"):
        export(mish)
    assert keras.saving.get_registered_object(f"{PREFIX}mish") is (
        keras_components.activations.mish
    )


def test_same_definition_may_register_again(monkeypatch):
    # The same object, and the same module and qualified name (a reloaded
    # module's new class object), register again without an error.
    registry = keras.saving.get_custom_objects()
    monkeypatch.setitem(registry, f"{PREFIX}Mish", registry[f"{PREFIX}Mish"])
    original = keras_components.Mish
    assert export(original) is original
    reloaded = type(
        "Mish",
        (keras.layers.Layer,),
        {"__module__": original.__module__, "__qualname__": original.__qualname__},
    )
    assert export(reloaded) is reloaded
    assert keras.saving.get_registered_object(f"{PREFIX}Mish") is reloaded


def test_registered_name_is_the_package_and_the_object_name():
    assert _export.registered_name(keras_components.AUROC) == f"{PREFIX}AUROC"


def test_compat_tfa_names_are_registered_under_addons_only():
    # keras_components.compat.tfa is not part of the package surface: its
    # names are TensorFlow Addons' saved names, registered under `Addons>`
    # (never `keras_components>`), each resolving to the object exported
    # under that name or, where a saved tfa object loads as our own
    # component, to that component's compat class or our function.
    from keras_components.compat import tfa

    registered = _registered()
    for name in tfa.__all__:
        obj = getattr(tfa, name)
        assert keras.saving.get_registered_object(f"Addons>{name}") is not None
        if name == "mish":  # loads as ours, keeps its own registered name
            assert keras.saving.get_registered_object("Addons>mish") is obj
            assert keras.saving.get_registered_name(obj) == PREFIX + "mish"
            continue
        assert keras.saving.get_registered_name(obj) == f"Addons>{name}"
        assert keras.saving.get_registered_object(f"Addons>{name}") is obj
        assert obj not in registered.values()


# --------------------------------------------------------------------------
# Every public component in a saved model: `.keras` reloaded in a fresh
# process, SavedModel serving, LiteRT
# --------------------------------------------------------------------------
# Public components a saved model cannot hold (no model config names them).
# (`weighted_kappa_loss` needs `num_classes`, so only its class is a compile loss.)
NOT_IN_MODELS = NOT_REGISTERED | {
    "TrainingCurves",
    "ValidationMetrics",
    "weighted_kappa_loss",
}
# SavedModel serving runs the same graph as `predict` through TensorFlow's
# SavedModel runtime (its own graph optimizations); measured max |diff|
# 0 on CPU for the golden families, asserted within 1e-6.
SAVEDMODEL_ATOL = 1e-6
LITERT_ATOL = 1e-5

_FRESH_PROCESS = r"""
import json, sys
import numpy as np
import keras_components  # registers the names; no custom_objects below
import tensorflow as tf
from tests.golden import make_golden

folder, out = sys.argv[1], sys.argv[2]
name_of = lambda obj: getattr(obj, "__name__", type(obj).__name__)
report = make_golden().check_folder(folder, exact_config=True)
result = {}
for name, entry in report.items():
    model, x = entry["model"], entry["x"]
    path = f"{folder}/{name}_savedmodel"
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)  # keep a reference while serving
    served = reloaded.serve(x)
    expected = entry["predictions"]
    if not isinstance(expected, dict):
        expected, served = {"output": expected}, {"output": served}
    result[name] = {
        "problems": entry["problems"],
        "loss": name_of(model.loss) if not isinstance(model.loss, dict)
        else {k: name_of(v) for k, v in model.loss.items()},
        "savedmodel_max_diff": max(
            float(np.max(np.abs(np.asarray(served[k]) - v)))
            for k, v in expected.items()
        ),
    }
with open(out, "w") as f:
    json.dump(result, f)
"""


@pytest.fixture(scope="module")
def fresh_process_report(tmp_path_factory):
    """Saves one model per family here; reloads them all in one fresh process."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.golden import make_golden

    folder = tmp_path_factory.mktemp("export") / "v-test"
    manifest = make_golden().write_folder(folder)
    out = folder.parent / "report.json"
    root = Path(__file__).resolve().parents[1]
    # The worktree first, then what PYTHONPATH already holds (.ci/run puts
    # the oldest supported Keras there).
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _FRESH_PROCESS, str(folder), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return manifest, json.loads(out.read_text())


def test_every_public_component_is_in_a_saved_model(fresh_process_report):
    manifest, _ = fresh_process_report
    saved = {n for m in manifest["models"].values() for n in m["registered_names"]}
    expected = {PREFIX + name for name in _exported() if name not in NOT_IN_MODELS}
    assert saved == expected, (
        f"not in any golden/export model (add it to saved_models/make_golden.py): "
        f"{sorted(expected - saved)}; unexpected: {sorted(saved - expected)}"
    )


def test_keras_roundtrip_in_a_fresh_process(fresh_process_report):
    # Loaded compiled after `import keras_components` only: predictions
    # bit-identical, compile config (re-serialized from the loaded loss and
    # metric objects) equal, `evaluate` equal.
    _, report = fresh_process_report
    problems = {name: r["problems"] for name, r in report.items() if r["problems"]}
    assert not problems, problems
    assert report["classification_losses"]["loss"] == {
        "focal": "FocalLoss",
        "focal_binary": "FocalLoss",
        "focal_fn": "focal_loss",  # the registered function itself
        "kappa": "WeightedKappaLoss",
    }
    assert report["wasserstein_combined"]["loss"]["segmentation"] == "CombinedLoss"


def test_savedmodel_serving_equals_predict(fresh_process_report):
    _, report = fresh_process_report
    diffs = {name: r["savedmodel_max_diff"] for name, r in report.items()}
    print("SavedModel serve vs predict, max |diff|:", diffs)
    assert all(d <= SAVEDMODEL_ATOL for d in diffs.values()), diffs


def _litert_interpreter():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        pytest.skip(
            "LiteRT interpreter missing: pip install 'keras-components[litert]' "
            "(ai-edge-litert)"
        )
    return Interpreter


def _litert_outputs(model, x):
    import tensorflow as tf

    interpreter_cls = _litert_interpreter()
    flatbuffer = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    interpreter = interpreter_cls(model_content=flatbuffer)
    (inp,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(inp["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], x)
    interpreter.invoke()
    (out,) = interpreter.get_output_details()
    return interpreter.get_tensor(out["index"])


def _activation_model(*blocks):
    inputs = keras.Input((6,))
    h = inputs
    for block in blocks:
        h = block(h)
    return keras.Model(inputs, keras.layers.Dense(2)(h))


def test_litert_activation_layers_and_functions():
    from keras_components import activations
    from keras_components.layers import GELU, Mish, Swish

    _litert_interpreter()
    keras.utils.set_random_seed(7)
    model = _activation_model(
        keras.layers.Dense(8, activation=activations.mish),
        keras.layers.Dense(8, activation=activations.swish),
        Mish(),
        Swish(beta=1.5),
        keras.layers.Dense(8),
        Swish(beta=0.8, trainable_beta=True),
        GELU(approximate=True),
    )
    x = np.random.default_rng(8).standard_normal((16, 6)).astype(np.float32) * 3
    got = _litert_outputs(model, x)
    expected = model.predict(x, verbose=0)
    print("LiteRT vs predict, max |diff|:", np.max(np.abs(got - expected)))
    np.testing.assert_allclose(got, expected, rtol=0, atol=LITERT_ATOL)


@pytest.mark.parametrize("form", ["layer", "function"])
def test_litert_exact_gelu(form):
    from scipy.special import erfc

    from keras_components import activations
    from keras_components.layers import GELU

    _litert_interpreter()
    block = (
        GELU()
        if form == "layer"
        else keras.layers.Dense(8, activation=activations.gelu)
    )
    model = _activation_model(block)
    # Wide inputs: the negative tail (x < -4) and the bulk both reach GELU.
    x = np.random.default_rng(9).standard_normal((64, 6)).astype(np.float32) * 6
    got = _litert_outputs(model, x)
    np.testing.assert_allclose(
        got, model.predict(x, verbose=0), rtol=0, atol=LITERT_ATOL
    )
    # The exact GELU, not the tanh one: against a float64 reference of the
    # whole model (the Dense weights applied in float64).
    h = x.astype(np.float64)
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
            h = h @ kernel + bias
        if isinstance(layer, GELU) or getattr(layer, "activation", None) is (
            activations.gelu
        ):
            h = h * 0.5 * erfc(-h / np.sqrt(2.0))
    np.testing.assert_allclose(got, h, rtol=0, atol=LITERT_ATOL)


@pytest.mark.tensorflow_only
def test_litert_exact_gelu_graph_has_no_erfc():
    # Outside XLA the TensorFlow graph of the exact GELU holds no Erfc op
    # (the op LiteRT lacks); under XLA it keeps erfc (fused there).
    import tensorflow as tf

    from keras_components import activations

    spec = tf.TensorSpec([None], tf.float32)
    plain = tf.function(activations.gelu).get_concrete_function(spec)
    assert "Erfc" not in {op.type for op in plain.graph.get_operations()}
    xla = tf.function(activations.gelu, jit_compile=True)
    x = tf.constant(np.linspace(-12, 12, 2001, dtype=np.float32))
    np.testing.assert_allclose(xla(x).numpy(), plain(x).numpy(), rtol=2e-5, atol=1e-37)
