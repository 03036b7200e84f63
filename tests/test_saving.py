"""`keras_components.saving.load_model`: a damaged `.keras` file gets a clear error.

Keras itself (3.15) refuses the damage too, but says ``File not found`` for a
truncated file and raises a bare `zipfile.BadZipFile` for a flipped byte;
neither returns a partial model (checked below, so a Keras change that starts
returning one fails here).
"""

import zipfile

import keras
import numpy as np
import pytest

import keras_components
from keras_components.saving import check_archive, load_model
from tests.golden import version_folders

SOURCE = version_folders()[-1] / "classification_losses.keras"
DAMAGED = r"Invalid value for argument `filepath`\. Expected a complete `\.keras`"


@pytest.fixture(scope="module")
def original():
    return SOURCE.read_bytes()


def _member_offsets(data, tmp_path):
    path = tmp_path / "intact.keras"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        return {i.filename: i.header_offset for i in archive.infolist()}


def test_intact_file_loads_as_keras_loads_it():
    model = load_model(SOURCE)
    assert model.compiled
    assert isinstance(model.loss["focal"], keras_components.FocalLoss)
    x = np.load(SOURCE.with_suffix(".npz"))["x"]
    np.testing.assert_array_equal(
        model.predict(x, verbose=0)["focal"],
        keras.saving.load_model(SOURCE).predict(x, verbose=0)["focal"],
    )


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.3, 0.5, 0.9, 0.999])
def test_truncated_file_is_refused_clearly(original, tmp_path, fraction):
    path = tmp_path / "truncated.keras"
    path.write_bytes(original[: int(len(original) * fraction)])
    with pytest.raises(ValueError, match=DAMAGED) as info:
        load_model(path)
    assert str(path) in str(info.value)
    assert "truncated or corrupted" in str(info.value)
    # Keras refuses it too (no partial model), with a misleading message.
    with pytest.raises(ValueError, match="File not found"):
        keras.saving.load_model(path)


@pytest.mark.parametrize("member", ["config.json", "model.weights.h5"])
def test_flipped_byte_is_refused_naming_the_member(original, tmp_path, member):
    offset = _member_offsets(original, tmp_path)[member] + 200  # inside its data
    data = bytearray(original)
    data[offset] ^= 0xFF
    path = tmp_path / "flipped.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=DAMAGED) as info:
        load_model(path)
    assert f"'{member}'" in str(info.value)
    assert "CRC-32" in str(info.value)
    with pytest.raises(zipfile.BadZipFile):  # Keras: refused, tersely
        keras.saving.load_model(path)


def test_flipped_byte_in_the_central_directory_is_refused(original, tmp_path):
    data = bytearray(original)
    data[-30] ^= 0xFF  # inside the end-of-central-directory record
    path = tmp_path / "directory.keras"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=DAMAGED):
        load_model(path)


def test_archive_without_config_or_with_bad_json_is_refused(tmp_path):
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("metadata.json", "{}")
    with pytest.raises(ValueError, match=r"has no 'config\.json'"):
        check_archive(empty)
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(ValueError, match=r"unreadable 'config\.json'"):
        check_archive(bad)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.keras"):
        load_model(tmp_path / "nothing.keras")


def test_is_reachable_from_the_package():
    assert keras_components.saving.load_model is load_model
