"""The README's examples run as written."""

import re
from pathlib import Path

import keras
import numpy as np
from sklearn.metrics import f1_score, jaccard_score

README = Path(__file__).resolve().parents[1] / "README.md"
VOID = 255


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


def test_segmentation_example_ignores_void_pixels_and_equals_sklearn():
    """The first example, verbatim: fit on masks with void pixels.

    Every component must drop label 255: before, only IoU did, and the loss
    and F1 were NaN. The metrics from `evaluate` equal scikit-learn's on the
    model's predictions with the void pixels dropped.
    """
    (block,) = [b for b in python_blocks() if "ignore_index=255" in b]
    keras.utils.set_random_seed(0)
    namespace = {}
    exec(block, namespace)
    model = namespace["model"]

    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 64, 3)).astype("float32")
    # Masks that follow the image a little (so training has a signal), with
    # about 10% void pixels, and one sample that is mostly void.
    y = np.argmax(x[..., :3], axis=-1) + (x[..., 0] > 1.0)
    y[rng.random(y.shape) < 0.1] = VOID
    y[0, :48] = VOID

    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert set(history.history) == {"loss", "iou", "f1"}
    for key, values in history.history.items():
        assert np.isfinite(values).all(), (key, values)

    results = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    assert np.isfinite(results["loss"])
    predicted = np.argmax(model.predict(x, batch_size=4, verbose=0), axis=-1)
    keep = y != VOID
    truth, pred = y[keep], predicted[keep]
    labels = list(range(4))
    expected = {
        "iou": jaccard_score(truth, pred, labels=labels, average="macro"),
        "f1": f1_score(truth, pred, labels=labels, average="macro"),
    }
    for name, value in expected.items():
        assert abs(results[name] - value) <= 1e-6, (name, results[name], value)
