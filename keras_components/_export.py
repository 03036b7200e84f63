"""The one place where public components are registered for serialization."""

from __future__ import annotations

from typing import TypeVar

import keras

PACKAGE = "keras_components"

T = TypeVar("T")


def export(obj: T) -> T:
    """Registers `obj` as `"keras_components>{obj.__name__}"`.

    Every public class and function goes through this decorator, so a saved
    config names it `keras_components>Name` and loads back without
    `custom_objects` once `keras_components` is imported. A registered name is
    part of the on-disk format: never rename one after a release.
    """
    return keras.saving.register_keras_serializable(package=PACKAGE)(obj)
