"""Registration: the exported names are exactly the registered ones, once each."""

import importlib
import pkgutil

import keras
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
