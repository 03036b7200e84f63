"""`load_model`: `keras.saving.load_model` with a clear error for a damaged file.

Keras 3.15 never returned a partial model from a damaged `.keras` file in our
sweeps (every byte position flipped, truncation at many offsets): a flipped
byte inside a member fails its CRC-32 when Keras reads it, a structural error
fails in the zip reader. Its errors are not always clear, though: a truncated
file reports ``File not found`` although the file is there, and a CRC error
(`zipfile.BadZipFile`) names neither the file nor what to do. `load_model`
checks the archive first and raises a `ValueError` that says which file is
damaged and how; an intact file is loaded by `keras.saving.load_model`
unchanged.
"""

from __future__ import annotations

import json
import os
import zipfile
from typing import Any

import keras

__all__ = ["check_archive", "load_model"]

# Members Keras writes into every `.keras` archive and reads back on loading
# (`metadata.json`, also written, is informational).
_REQUIRED = ("config.json",)


def _damaged(filepath: str, what: str) -> ValueError:
    return ValueError(
        "Invalid value for argument `filepath`. Expected a complete `.keras` "
        f"archive. Received: filepath={filepath!r}, which {what}. The file is "
        "truncated or corrupted (an interrupted copy or download?): save or "
        "copy the model again."
    )


def check_archive(filepath: str | os.PathLike) -> None:
    """Raises a `ValueError` naming the damage if `filepath` is not an intact `.keras`.

    Checks that the file is a zip archive (a truncated file lacks the zip's
    closing directory), that every member passes its CRC-32 check, and that
    `config.json` is present and is JSON. It does not check the model's
    contents beyond that (Keras does when loading).

    Args:
        filepath: Path to a `.keras` file.

    Raises:
        FileNotFoundError: `filepath` does not exist.
        ValueError: The archive is truncated or corrupted.
    """
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: filepath={path!r}")
    size = os.path.getsize(path)
    if not zipfile.is_zipfile(path):
        raise _damaged(
            path,
            f"is not a zip archive ({size} bytes, no zip end-of-central-"
            "directory record)",
        )
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every member, checks its CRC-32
            if bad is not None:
                raise _damaged(path, f"has a member {bad!r} that fails its CRC-32")
            names = set(archive.namelist())
            for member in _REQUIRED:
                if member not in names:
                    raise _damaged(path, f"has no {member!r}")
            json.loads(archive.read("config.json"))
    except ValueError as error:  # json.JSONDecodeError too
        if str(error).startswith("Invalid value for argument `filepath`"):
            raise
        raise _damaged(path, f"has an unreadable 'config.json' ({error})") from error
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _damaged(path, f"cannot be read as a zip archive ({error})") from error


def load_model(filepath: str | os.PathLike, **kwargs: Any) -> Any:
    """`keras.saving.load_model(filepath, **kwargs)`, refusing a damaged `.keras`.

    A `.keras` file is first checked with `check_archive` (zip structure,
    every member's CRC-32, `config.json` present and valid JSON), so a
    truncated or corrupted file raises a `ValueError` naming the file and the
    damage instead of Keras's ``File not found`` (truncation) or a bare
    `zipfile.BadZipFile`. Other paths (`.h5`, a SavedModel folder) go to Keras
    unchanged. Import `keras_components` first (this module does), so the
    package's registered names resolve.

    Args:
        filepath: Path to the saved model.
        **kwargs: Passed to `keras.saving.load_model` (`compile`,
            `custom_objects`, `safe_mode`).

    Returns:
        The loaded model.

    Raises:
        FileNotFoundError: `filepath` does not exist.
        ValueError: A `.keras` file is truncated or corrupted.

    Example:

    >>> import os, tempfile, keras
    >>> import keras_components
    >>> from keras_components.saving import load_model
    >>> inputs = keras.Input((2,))
    >>> model = keras.Model(inputs, keras_components.Mish()(inputs))
    >>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
    >>> model.save(path)
    >>> type(load_model(path).layers[-1]).__name__
    'Mish'
    >>> with open(path, "r+b") as f:
    ...     _ = f.truncate(os.path.getsize(path) // 2)
    >>> load_model(path)
    Traceback (most recent call last):
    ...
    ValueError: Invalid value for argument `filepath`. Expected a complete ...
    """
    if os.fspath(filepath).endswith(".keras"):
        check_archive(filepath)
    return keras.saving.load_model(filepath, **kwargs)
