"""The one place where public components are registered for serialization."""

from __future__ import annotations

from typing import Any, TypeVar

import keras

PACKAGE = "keras_components"

T = TypeVar("T")


def registered_name(obj: Any) -> str:
    """The name `export` registers `obj` under: `"keras_components>{__name__}"`."""
    return f"{PACKAGE}>{obj.__name__}"


def _definition(obj: Any) -> tuple[str, str]:
    return getattr(obj, "__module__", "?"), getattr(obj, "__qualname__", "?")


def export(obj: T) -> T:
    """Registers `obj` as `"keras_components>{obj.__name__}"`.

    Every public class and function goes through this decorator, so a saved
    config names it `keras_components>Name` and loads back without
    `custom_objects` once `keras_components` is imported. A registered name is
    part of the on-disk format: never rename or remove one after a release
    (CHANGELOG.md).

    Keras's own `register_keras_serializable` silently replaces an object
    already registered under the same name, so a second component with the
    same `__name__` would make every saved model naming the first one load
    the second. This decorator refuses that with a `ValueError` before
    registering anything. Registering the same definition again (the same
    object, or the same module and qualified name, as when a module is
    reloaded) is allowed.
    """
    name = registered_name(obj)
    existing = keras.saving.get_custom_objects().get(name)
    if existing is not None and _definition(existing) != _definition(obj):
        module, qualname = _definition(existing)
        new_module, new_qualname = _definition(obj)
        raise ValueError(
            f"Cannot register {new_module}.{new_qualname} as {name!r}: that "
            f"name is already registered for {module}.{qualname}. Registered "
            "names are frozen once released (saved models refer to them), so "
            "give the new component a name of its own."
        )
    return keras.saving.register_keras_serializable(package=PACKAGE)(obj)
