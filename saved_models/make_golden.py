"""Writes the golden models of this release into `saved_models/v<version>/`.

Run from the repository root, once per release, after bumping
`keras_components.__version__`:

    python saved_models/make_golden.py

It builds one small compiled model per component family (together they use
every public loss, metric, activation and layer), saves each as
`<family>.keras` with `<family>.npz` (the inputs, targets and predictions) and
writes `golden.json` (each model's `evaluate` results, compile config and the
registered names it contains, plus the library versions that wrote it). It
refuses to write into a folder that exists: a committed version folder is
never regenerated (`tests/test_golden_models.py` loads every one, so a format
break fails a test instead of being papered over).

`--output-dir DIR` writes somewhere else (the export test uses it for a
throwaway folder); the refusal to overwrite holds there too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: use this checkout's package
    sys.path.insert(0, str(ROOT))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_components as kc  # noqa: E402
from keras_components import activations, losses, metrics  # noqa: E402

PACKAGE_PREFIX = "keras_components>"
MANIFEST = "golden.json"
BATCH_SIZE = 16
N = 32  # samples per model
N_IMAGES = 8  # images per region model (4x4 pixels)
IGNORE = 255


def _heads(hidden: Any, names: list[str], make: Any) -> dict[str, Any]:
    return {name: make(name)(hidden) for name in names}


def activations_model() -> tuple[keras.Model, Any, Any]:
    """Every activation function (in Dense layers) and every activation layer."""
    rng = np.random.default_rng(101)
    inputs = keras.Input((6,), name="x")
    h = keras.layers.Dense(8, activation=activations.gelu)(inputs)
    h = keras.layers.Dense(8, activation=activations.mish)(h)
    h = keras.layers.Dense(8, activation=activations.swish)(h)
    h = kc.GELU()(h)
    h = kc.GELU(approximate=True)(keras.layers.Dense(8)(h))
    h = kc.Mish()(keras.layers.Dense(8)(h))
    h = kc.Swish()(h)
    h = kc.Swish(beta=1.25, trainable_beta=True)(keras.layers.Dense(8)(h))
    outputs = keras.layers.Dense(2)(h)
    model = keras.Model(inputs, outputs, name="activations")
    model.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((N, 6)).astype(np.float32)
    y = rng.standard_normal((N, 2)).astype(np.float32)
    return model, x, y


def classification_losses_model() -> tuple[keras.Model, Any, Any]:
    """`FocalLoss` (multiclass, binary), `focal_loss` and `WeightedKappaLoss`."""
    rng = np.random.default_rng(102)
    inputs = keras.Input((6,), name="x")
    h = keras.layers.Dense(8, activation="relu")(inputs)
    outputs = {
        "focal": keras.layers.Dense(4, name="focal")(h),
        "focal_binary": keras.layers.Dense(1, name="focal_binary")(h),
        "focal_fn": keras.layers.Dense(4, activation="softmax", name="focal_fn")(h),
        "kappa": keras.layers.Dense(4, activation="softmax", name="kappa")(h),
    }
    model = keras.Model(inputs, outputs, name="classification_losses")
    model.compile(
        optimizer="sgd",
        loss={
            "focal": losses.FocalLoss(
                1.5, [0.4, 0.2, 0.2, 0.2], from_logits=True, ignore_index=IGNORE
            ),
            "focal_binary": losses.FocalLoss(2.0, 0.75, from_logits=True),
            "focal_fn": losses.focal_loss,
            "kappa": losses.WeightedKappaLoss(4, weightage="linear"),
        },
    )
    x = rng.standard_normal((N, 6)).astype(np.float32)
    labels = rng.integers(0, 4, N).astype(np.int32)
    ignored = labels.copy()
    ignored[::5] = IGNORE
    y = {
        "focal": ignored,
        "focal_binary": (labels % 2).astype(np.float32)[:, None],
        "focal_fn": labels,
        "kappa": np.eye(4, dtype=np.float32)[labels],
    }
    return model, x, y


def _images(rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal((N_IMAGES, 4, 4, 3)).astype(np.float32)


def region_losses_model() -> tuple[keras.Model, Any, Any]:
    """`DiceLoss`, `JaccardLoss`, `TverskyLoss`, `LovaszLoss` and their functions."""
    rng = np.random.default_rng(103)
    inputs = keras.Input((4, 4, 3), name="x")
    h = keras.layers.Conv2D(4, 1, activation="relu")(inputs)
    logits = _heads(
        h,
        ["dice", "jaccard", "tversky", "lovasz"],
        lambda n: keras.layers.Conv2D(3, 1, name=n),
    )
    probs = _heads(
        h,
        ["dice_fn", "jaccard_fn", "tversky_fn", "lovasz_fn"],
        lambda n: keras.layers.Conv2D(3, 1, activation="softmax", name=n),
    )
    model = keras.Model(inputs, {**logits, **probs}, name="region_losses")
    model.compile(
        optimizer="sgd",
        loss={
            "dice": losses.DiceLoss(from_logits=True, class_weights=[1.0, 2.0, 1.0]),
            "jaccard": losses.JaccardLoss(from_logits=True, ignore_index=IGNORE),
            "tversky": losses.TverskyLoss(0.3, 0.7, 1.3, from_logits=True),
            "dice_fn": losses.dice_loss,
            "jaccard_fn": losses.jaccard_loss,
            "tversky_fn": losses.tversky_loss,
            "lovasz": losses.LovaszLoss(
                from_logits=True, per_image=True, ignore_index=IGNORE
            ),
            "lovasz_fn": losses.lovasz_loss,
        },
    )
    x = _images(rng)
    masks = rng.integers(0, 3, (N_IMAGES, 4, 4)).astype(np.int32)
    ignored = masks.copy()
    ignored[:, 0, 0] = IGNORE
    y = dict.fromkeys(model.output_names, masks)
    y["jaccard"] = y["lovasz"] = ignored
    return model, x, y


def wasserstein_combined_model() -> tuple[keras.Model, Any, Any]:
    """`CombinedLoss` (of a class and a function), `WassersteinLoss`, its function."""
    rng = np.random.default_rng(104)
    inputs = keras.Input((4, 4, 3), name="x")
    h = keras.layers.Conv2D(4, 1, activation="relu")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D()(h)
    outputs = {
        "segmentation": keras.layers.Conv2D(3, 1, name="segmentation")(h),
        "critic": keras.layers.Dense(1, name="critic")(pooled),
        "critic_fn": keras.layers.Dense(1, name="critic_fn")(pooled),
    }
    model = keras.Model(inputs, outputs, name="wasserstein_combined")
    model.compile(
        optimizer="sgd",
        loss={
            "segmentation": losses.CombinedLoss(
                [losses.DiceLoss(from_logits=True), losses.FocalLoss(from_logits=True)],
                weights=[1.0, 0.5],
            ),
            "critic": losses.WassersteinLoss(),
            "critic_fn": losses.wasserstein_loss,
        },
    )
    x = _images(rng)
    signs = np.where(rng.random((N_IMAGES, 1)) < 0.5, -1.0, 1.0).astype(np.float32)
    y = {
        "segmentation": rng.integers(0, 3, (N_IMAGES, 4, 4)).astype(np.int32),
        "critic": signs,
        "critic_fn": -signs,
    }
    return model, x, y


def classification_metrics_model() -> tuple[keras.Model, Any, Any]:
    """Every classification (confusion-matrix) metric, multiclass."""
    rng = np.random.default_rng(105)
    inputs = keras.Input((6,), name="x")
    outputs = keras.layers.Dense(4, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs, name="classification_metrics")
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=[
            metrics.Accuracy(),
            metrics.BalancedAccuracy(),
            metrics.CohenKappa("quadratic"),
            metrics.ConfusionMatrix(normalize="true"),
            metrics.Dice(),
            metrics.F1(average="weighted"),
            metrics.FBeta(2.0),
            metrics.HammingLoss(),
            metrics.IoU(ignore_index=IGNORE),
            metrics.MCC(),
            metrics.Precision(average="micro"),
            metrics.Recall(),
            metrics.Specificity(),
        ],
    )
    x = rng.standard_normal((N, 6)).astype(np.float32)
    y = rng.integers(0, 4, N).astype(np.int32)
    return model, x, y


def ranking_metrics_model() -> tuple[keras.Model, Any, Any]:
    """`AUROC`, `AUPRC` and the operating points, multiclass and binary (logits)."""
    rng = np.random.default_rng(106)
    inputs = keras.Input((6,), name="x")
    outputs = {
        "multiclass": keras.layers.Dense(3, activation="softmax", name="multiclass")(
            inputs
        ),
        "binary": keras.layers.Dense(1, name="binary")(inputs),
    }
    model = keras.Model(inputs, outputs, name="ranking_metrics")
    model.compile(
        optimizer="sgd",
        loss={
            "multiclass": "categorical_crossentropy",
            "binary": keras.losses.BinaryCrossentropy(from_logits=True),
        },
        metrics={
            "multiclass": [
                metrics.AUROC(average="weighted"),
                metrics.AUPRC(),
                metrics.PrecisionAtRecall(0.5, average="micro"),
                metrics.SpecificityAtSensitivity(0.8),
            ],
            "binary": [
                metrics.AUROC(from_logits=True, num_thresholds=100_000),
                metrics.AUPRC(from_logits=True, num_thresholds=100_000),
                metrics.RecallAtPrecision(0.6, from_logits=True),
                metrics.SensitivityAtSpecificity(0.5, from_logits=True),
                metrics.BestThreshold("youden", from_logits=True),
            ],
        },
    )
    x = rng.standard_normal((N, 6)).astype(np.float32)
    labels = rng.integers(0, 3, N)
    y = {
        "multiclass": np.eye(3, dtype=np.float32)[labels],
        "binary": (labels == 0).astype(np.float32)[:, None],
    }
    return model, x, y


def regression_probabilistic_metrics_model() -> tuple[keras.Model, Any, Any]:
    """`R2`, `RMSE`, `MAE`, `MSLE`, `LogLoss`, `CalibrationError`."""
    rng = np.random.default_rng(107)
    inputs = keras.Input((6,), name="x")
    outputs = {
        "regression": keras.layers.Dense(2, activation="softplus", name="regression")(
            inputs
        ),
        "probabilistic": keras.layers.Dense(3, name="probabilistic")(inputs),
    }
    model = keras.Model(inputs, outputs, name="regression_probabilistic_metrics")
    model.compile(
        optimizer="sgd",
        loss={
            "regression": "mse",
            "probabilistic": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        metrics={
            "regression": [
                metrics.R2(num_regressors=1),
                metrics.R2(multioutput="variance_weighted", name="r2_weighted"),
                metrics.RMSE(multioutput=[0.25, 0.75]),
                metrics.MAE(multioutput="raw_values"),
                metrics.MSLE(),
            ],
            "probabilistic": [
                metrics.LogLoss(from_logits=True),
                metrics.CalibrationError(num_bins=10, from_logits=True),
            ],
        },
    )
    x = rng.standard_normal((N, 6)).astype(np.float32)
    y = {
        "regression": np.abs(rng.standard_normal((N, 2))).astype(np.float32),
        "probabilistic": np.eye(3, dtype=np.float32)[rng.integers(0, 3, N)],
    }
    return model, x, y


FAMILIES = {
    "activations": activations_model,
    "classification_losses": classification_losses_model,
    "region_losses": region_losses_model,
    "wasserstein_combined": wasserstein_combined_model,
    "classification_metrics": classification_metrics_model,
    "ranking_metrics": ranking_metrics_model,
    "regression_probabilistic_metrics": regression_probabilistic_metrics_model,
}


# --------------------------------------------------------------------------
# Arrays, results and configs as stored
# --------------------------------------------------------------------------
def flatten(prefix: str, value: Any) -> dict[str, np.ndarray]:
    """`{"prefix": array}` or `{"prefix/key": array}` for a dict of arrays."""
    if isinstance(value, dict):
        return {f"{prefix}/{k}": np.asarray(v) for k, v in value.items()}
    return {prefix: np.asarray(value)}


def unflatten(arrays: Any, prefix: str) -> Any:
    """Inverse of `flatten` over an npz file's arrays."""
    if prefix in arrays:
        return arrays[prefix]
    start = f"{prefix}/"
    return {k[len(start) :]: arrays[k] for k in arrays if k.startswith(start)}


def normalize(config: Any) -> Any:
    """JSON-normalizes a config (tuples become lists, keys sorted)."""
    return json.loads(json.dumps(config, default=repr, sort_keys=True))


def results(logs: dict[str, Any]) -> dict[str, Any]:
    """`evaluate(return_dict=True)` results as JSON (floats, nested lists)."""
    return {k: np.asarray(v, np.float64).tolist() for k, v in sorted(logs.items())}


def registered_names(path: Path) -> list[str]:
    """Every `keras_components>` name the saved file's config refers to."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.startswith(PACKAGE_PREFIX):
            found.add(node)

    walk(config)
    return sorted(found)


def write_folder(folder: Path) -> dict[str, Any]:
    """Builds every family's model and saves it with its data into `folder`."""
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(
            f"{folder} exists: a golden folder is written once and never "
            "regenerated. Bump keras_components.__version__ for a new one, or "
            "pass --output-dir to write somewhere else."
        )
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    folder.mkdir(parents=True)
    manifest: dict[str, Any] = {
        "keras_components": kc.__version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "backend": keras.backend.backend(),
        "batch_size": BATCH_SIZE,
        "models": {},
    }
    for name, build in FAMILIES.items():
        model, x, y = build()
        path = folder / f"{name}.keras"
        model.save(path)
        predictions = model.predict(x, batch_size=BATCH_SIZE, verbose=0)
        logs = model.evaluate(x, y, batch_size=BATCH_SIZE, verbose=0, return_dict=True)
        np.savez_compressed(
            folder / f"{name}.npz",
            **flatten("x", x),
            **flatten("y", y),
            **flatten("predictions", predictions),
        )
        manifest["models"][name] = {
            "file": path.name,
            "data": f"{name}.npz",
            "evaluate": results(logs),
            "compile_config": normalize(model.get_compile_config()),
            "registered_names": registered_names(path),
        }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


# --------------------------------------------------------------------------
# Checking a folder (tests/test_golden_models.py, tests/test_export.py)
# --------------------------------------------------------------------------
def _subset_mismatches(saved: Any, loaded: Any, where: str) -> list[str]:
    """Where `loaded` differs from `saved`, keys `saved` lacks not counted.

    A newer release may add a constructor argument (a new config key with a
    default); every key the old file stored must still come back equal.
    """
    if isinstance(saved, dict) and isinstance(loaded, dict):
        problems = []
        for key, value in saved.items():
            if key not in loaded:
                problems.append(f"{where}.{key}: missing after loading")
            else:
                problems += _subset_mismatches(value, loaded[key], f"{where}.{key}")
        return problems
    if isinstance(saved, list) and isinstance(loaded, list):
        if len(saved) != len(loaded):
            return [f"{where}: {len(saved)} items saved, {len(loaded)} loaded"]
        return [
            p
            for i, (a, b) in enumerate(zip(saved, loaded, strict=True))
            for p in _subset_mismatches(a, b, f"{where}[{i}]")
        ]
    return [] if saved == loaded else [f"{where}: saved {saved!r}, loaded {loaded!r}"]


def _close(have: Any, want: Any, atol: float, rtol: float) -> bool:
    have, want = np.asarray(have, np.float64), np.asarray(want, np.float64)
    if atol == rtol == 0.0:
        return have.shape == want.shape and np.array_equal(have, want)
    return have.shape == want.shape and np.allclose(have, want, atol=atol, rtol=rtol)


def check_folder(
    folder: Path, *, exact_config: bool = True, atol: float = 0.0, rtol: float = 0.0
) -> dict[str, Any]:
    """Loads every model in `folder` compiled and compares it with what was saved.

    Predictions must be bit-identical (float32, same batch size) and
    `evaluate` results equal, or within `atol` / `rtol` when given; the
    compile config (the loss and metric objects,
    re-serialized from the loaded objects) equal to the saved one, exactly
    with `exact_config`, else on every key the saved config holds. Returns
    `{model: {"model": loaded, "x": ..., "predictions": ..., "problems":
    [...]}}`; an empty `problems` list means the model reproduced.
    """
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    batch_size = manifest["batch_size"]
    report: dict[str, Any] = {}
    for name, entry in manifest["models"].items():
        problems: list[str] = []
        max_diff = 0.0
        loaded = keras.saving.load_model(folder / entry["file"])
        with np.load(folder / entry["data"]) as data:
            arrays = dict(data)
        x, y = unflatten(arrays, "x"), unflatten(arrays, "y")
        expected = unflatten(arrays, "predictions")
        if not loaded.compiled:
            problems.append("not compiled after loading")
        config = normalize(loaded.get_compile_config())
        if exact_config and config != entry["compile_config"]:
            problems.append(
                f"compile config differs: saved {entry['compile_config']}, "
                f"loaded {config}"
            )
        elif not exact_config:
            problems += _subset_mismatches(
                entry["compile_config"], config, "compile_config"
            )
        got = loaded.predict(x, batch_size=batch_size, verbose=0)
        for key, want in flatten("predictions", expected).items():
            have = flatten("predictions", got).get(key)
            if have is None or have.dtype != want.dtype or have.shape != want.shape:
                problems.append(f"{key}: {have!r} instead of {want.dtype}{want.shape}")
            else:
                diff = float(np.max(np.abs(have.astype(np.float64) - want)))
                max_diff = max(max_diff, diff)
                if not _close(have, want, atol, rtol):
                    problems.append(
                        f"{key}: max |diff| {diff:.3g} (allowed: atol={atol}, "
                        f"rtol={rtol}; 0 means bit-identical)"
                    )
        logs = results(
            loaded.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        )
        saved = entry["evaluate"]
        if set(logs) != set(saved) or not all(
            _close(logs[k], saved[k], atol, rtol) for k in saved
        ):
            problems.append(f"evaluate: saved {saved}, got {logs}")
        report[name] = {
            "model": loaded,
            "x": x,
            "predictions": got,
            "max_diff": max_diff,
            "problems": problems,
        }
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: writes the version folder (or `--output-dir`)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(__file__).resolve().parent / f"v{kc.__version__}",
        help="folder to create (default: saved_models/v<keras_components version>)",
    )
    args = parser.parse_args(argv)
    try:
        manifest = write_folder(args.output_dir)
    except FileExistsError as error:
        print(f"make_golden: {error}", file=sys.stderr)
        return 1
    sizes = {p.name: p.stat().st_size for p in sorted(args.output_dir.iterdir())}
    print(f"wrote {len(manifest['models'])} models to {args.output_dir}:")
    for file, size in sizes.items():
        print(f"  {file}: {size / 1024:.1f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
