r"""Measure TensorFlow Addons / segmentation_models against keras-components.

The numbers quoted in docs/migration.md come from this script. Run it from the
repository root in the legacy environment (TensorFlow 2.15, tensorflow-addons
0.23.0, segmentation-models 1.0.1; see tests/fixtures/tfa/README.md):

    SM_FRAMEWORK=tf.keras TF_CPP_MIN_LOG_LEVEL=3 CUDA_VISIBLE_DEVICES= \
        /work/venvs/tfa/bin/python docs/migration_measurements.py

It computes the legacy side in that interpreter, writes the inputs to a
temporary .npz and runs itself again with ``--ours`` under ``KC_PYTHON``
(default ``python3``: TensorFlow 2.21 / Keras 3 with keras-components
importable from ``KC_PATH``, default the repository root) for our side. It
prints one line per measurement: id, legacy value, ours, and what ours is.
Inputs are seeded (np.random.default_rng), so two runs print the same numbers.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def softmax(z):
    """Float32 softmax over the last axis."""
    e = np.exp(z - z.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def make_inputs():
    """The seeded inputs of every measurement, by name."""
    rng = np.random.default_rng(20261201)
    d = {"act/x": np.linspace(-6, 6, 2401, dtype=np.float32)}
    # Multilabel (8, 4), with predictions exactly at 0.5.
    d["ml/y"] = (rng.random((8, 4)) < 0.4).astype(np.float32)
    p = rng.random((8, 4)).astype(np.float32)
    p[0, 0], p[1, 2], p[3, 1] = 0.5, 0.5, 0.5
    d["ml/p"] = p
    # Multiclass (12, 3) one-hot, softmax with a tie row and low-max rows.
    labels = rng.integers(0, 3, 12)
    d["mc/y"] = np.eye(3, dtype=np.float32)[labels]
    p = softmax(rng.normal(size=(12, 3)).astype(np.float32))
    p[0] = [0.4, 0.4, 0.2]
    p[0, labels[0]], p[0, (labels[0] + 2) % 3] = 0.4, 0.2
    p[0, (labels[0] + 1) % 3] = 0.4  # a tie containing the true class
    d["mc/p"] = p
    # Ordinal 5 classes (16, 5): labels, softmax predictions, regression outputs.
    ordinal = rng.integers(0, 5, 16)
    d["ord/labels"] = ordinal.astype(np.int32)
    d["ord/y"] = np.eye(5, dtype=np.float32)[ordinal]
    d["ord/p"] = softmax(
        (2.0 * np.eye(5)[np.clip(ordinal + rng.integers(-1, 2, 16), 0, 4)])
        + rng.normal(size=(16, 5))
    )
    d["ord/reg"] = np.clip(ordinal + rng.normal(0, 0.7, 16), 0, 4.4).astype(np.float32)[
        :, None
    ]
    # Binary, one sigmoid column.
    d["bin/y"] = (rng.random((16, 1)) < 0.5).astype(np.float32)
    d["bin/p"] = np.clip(0.6 * d["bin/y"] + 0.5 * rng.random((16, 1)), 0, 1).astype(
        np.float32
    )
    # Regression (20, 3).
    d["reg/y"] = rng.normal(size=(20, 3)).astype(np.float32)
    d["reg/p"] = (d["reg/y"] + 0.5 * rng.normal(size=(20, 3))).astype(np.float32)
    # Segmentation: 4 images 8x8, 3 classes; class 2 absent from image 0.
    masks = rng.integers(0, 3, (4, 8, 8))
    masks[0][masks[0] == 2] = 1
    d["seg/y"] = np.eye(3, dtype=np.float32)[masks]
    d["seg/p"] = softmax(2.0 * d["seg/y"] + rng.normal(size=(4, 8, 8, 3)))
    # Segmentation where class 2 is absent from every image and never > 0.5.
    masks2 = rng.integers(0, 2, (4, 8, 8))
    d["abs/y"] = np.eye(3, dtype=np.float32)[masks2]
    logits = 2.0 * d["abs/y"] + rng.normal(size=(4, 8, 8, 3))
    logits[..., 2] -= 3.0
    d["abs/p"] = softmax(logits)
    # Binary masks (4, 8, 8, 1).
    d["bm/y"] = (rng.random((4, 8, 8, 1)) < 0.3).astype(np.float32)
    d["bm/p"] = np.clip(
        0.5 * d["bm/y"] + 0.6 * rng.random((4, 8, 8, 1)), 0.001, 0.999
    ).astype(np.float32)
    return d


def f(x):
    """A tensor or array as a JSON-able float or list of rounded floats."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        return round(float(a), 7)
    return np.round(a, 7).tolist()


# ---------------------------------------------------------------- legacy side


def legacy(d):
    """tensorflow-addons / segmentation_models values on the inputs `d`."""
    import segmentation_models as sm
    import tensorflow as tf
    import tensorflow_addons as tfa

    out = {}
    x = d["act/x"]
    out["gelu default vs exact: max |diff|"] = f(
        np.abs(tfa.activations.gelu(x).numpy() - tfa.activations.gelu(x, False)).max()
    )
    out["gelu/tfa"] = tfa.activations.gelu(x).numpy().tolist()
    out["GELU layer config"] = tfa.layers.GELU().get_config()["approximate"]
    out["mish/tfa"] = tfa.activations.mish(x).numpy().tolist()

    y, p = d["ml/y"], d["ml/p"]
    out["focal per-sample"] = f(tfa.losses.SigmoidFocalCrossEntropy()(y, p))
    out["focal alpha=0.0 per-sample"] = f(
        tfa.losses.SigmoidFocalCrossEntropy(alpha=0.0)(y, p)
    )
    out["F1 multilabel thr 0.5 macro"] = f(
        _result(tfa.metrics.F1Score(4, "macro", threshold=0.5), y, p)
    )
    out["FBeta(2) multilabel thr 0.5 micro"] = f(
        _result(tfa.metrics.FBetaScore(4, "micro", beta=2.0, threshold=0.5), y, p)
    )
    out["Hamming multilabel thr 0.5"] = f(
        _result(tfa.metrics.HammingLoss("multilabel", threshold=0.5), y, p)
    )
    hard = (p > 0.5).astype(np.int32)
    out["MLCM hard predictions"] = f(
        _result(tfa.metrics.MultiLabelConfusionMatrix(4), y.astype(np.int32), hard)
    )
    out["MLCM probabilities"] = f(
        _result(tfa.metrics.MultiLabelConfusionMatrix(4), y.astype(np.int32), p)
    )

    y, p = d["mc/y"], d["mc/p"]
    out["F1 one-hot softmax thr 0.5 macro"] = f(
        _result(tfa.metrics.F1Score(3, "macro", threshold=0.5), y, p)
    )
    out["F1 threshold None macro (tie row)"] = f(
        _result(tfa.metrics.F1Score(3, "macro"), y, p)
    )
    out["F1 default average"] = f(_result(tfa.metrics.F1Score(3), y, p))
    out["Hamming multiclass thr None"] = f(
        _result(tfa.metrics.HammingLoss("multiclass"), y, p)
    )
    out["Hamming multiclass thr 0.5"] = f(
        _result(tfa.metrics.HammingLoss("multiclass", threshold=0.5), y, p)
    )
    out["MCC 3 classes"] = f(
        _result(tfa.metrics.MatthewsCorrelationCoefficient(3), y, p)
    )

    y, p = d["ord/y"], d["ord/p"]
    out["WeightedKappaLoss(5) quadratic"] = f(tfa.losses.WeightedKappaLoss(5)(y, p))
    out["WeightedKappaLoss(5) linear"] = f(
        tfa.losses.WeightedKappaLoss(5, weightage="linear")(y, p)
    )
    out["CohenKappa(5) quadratic"] = f(
        _result(tfa.metrics.CohenKappa(5, weightage="quadratic"), y, p)
    )
    out["CohenKappa(5) unweighted sparse"] = f(
        _result(tfa.metrics.CohenKappa(5, sparse_labels=True), d["ord/labels"], p)
    )
    out["CohenKappa(5) regression quadratic"] = f(
        _result(
            tfa.metrics.CohenKappa(
                5, sparse_labels=True, regression=True, weightage="quadratic"
            ),
            d["ord/labels"],
            d["ord/reg"],
        )
    )
    out["MCC(2) single sigmoid column"] = f(
        _result(tfa.metrics.MatthewsCorrelationCoefficient(2), d["bin/y"], d["bin/p"])
    )

    y, p = d["reg/y"], d["reg/p"]
    out["RSquare (20,3)"] = f(_result(tfa.metrics.RSquare(), y, p))
    out["RSquare raw_values"] = f(
        _result(tfa.metrics.RSquare(multioutput="raw_values"), y, p)
    )
    out["RSquare num_regressors=2 (20,3)"] = f(
        _result(tfa.metrics.RSquare(num_regressors=2), y, p)
    )
    out["RSquare num_regressors=2 (20,1)"] = f(
        _result(tfa.metrics.RSquare(num_regressors=2), y[:, :1], p[:, :1])
    )
    config = tfa.metrics.RSquare(num_regressors=2).get_config()
    out["RSquare config keeps num_regressors"] = "num_regressors" in config
    out["RSquare from_config (20,1)"] = f(
        _result(tfa.metrics.RSquare.from_config(config), y[:, :1], p[:, :1])
    )

    # segmentation_models losses: one scalar per call.
    y, p = tf.constant(d["seg/y"]), tf.constant(d["seg/p"])
    L, M = sm.losses, sm.metrics
    out["sm DiceLoss()"] = f(L.DiceLoss()(y, p))
    out["sm DiceLoss(per_image=True)"] = f(L.DiceLoss(per_image=True)(y, p))
    out["sm DiceLoss output shape"] = list(L.DiceLoss()(y, p).shape)
    out["sm JaccardLoss()"] = f(L.JaccardLoss()(y, p))
    out["sm JaccardLoss(per_image=True)"] = f(L.JaccardLoss(per_image=True)(y, p))
    out["sm DiceLoss(per_image, class_weights=[1,2,1])"] = f(
        L.DiceLoss(per_image=True, class_weights=np.array([1.0, 2.0, 1.0]))(y, p)
    )
    out["sm DiceLoss(beta=2, per_image=True)"] = f(
        L.DiceLoss(beta=2, per_image=True)(y, p)
    )
    out["sm DiceLoss(per_image=True, class_indexes=[1, 2])"] = f(
        L.DiceLoss(per_image=True, class_indexes=[1, 2])(y, p)
    )
    out["sm CategoricalFocalLoss()"] = f(L.CategoricalFocalLoss()(y, p))
    by, bp = tf.constant(d["bm/y"]), tf.constant(d["bm/p"])
    out["sm BinaryFocalLoss()"] = f(L.BinaryFocalLoss()(by, bp))
    out["sm bce_jaccard_loss"] = f(L.bce_jaccard_loss(by, bp))
    out["sm BinaryCELoss()+JaccardLoss(per_image=True)"] = f(
        (L.BinaryCELoss() + L.JaccardLoss(per_image=True))(by, bp)
    )
    out["sm DiceLoss(per_image=True)+2*BinaryFocalLoss()"] = f(
        (L.DiceLoss(per_image=True) + 2 * L.BinaryFocalLoss())(by, bp)
    )
    # segmentation_models metrics, as Keras 2 streams them in evaluate.
    for name, metric in [
        ("IOUScore()", M.IOUScore()),
        ("IOUScore(threshold=0.5)", M.IOUScore(threshold=0.5)),
        (
            "IOUScore(threshold=0.5, per_image=True)",
            M.IOUScore(threshold=0.5, per_image=True),
        ),
        ("FScore(threshold=0.5)", M.FScore(threshold=0.5)),
    ]:
        for batch in (4, 1):
            out[f"sm {name} evaluate batch {batch}"] = _sm_evaluate(
                metric, d["seg/y"], d["seg/p"], batch
            )
    for name, metric in [
        ("IOUScore(threshold=0.5)", M.IOUScore(threshold=0.5)),
        ("FScore(threshold=0.5)", M.FScore(threshold=0.5)),
    ]:
        out[f"sm {name} absent class"] = f(
            metric(tf.constant(d["abs/y"]), tf.constant(d["abs/p"]))
        )
    out["sm IOUScore(threshold=0.5) absent class, class_indexes=[2]"] = f(
        M.IOUScore(threshold=0.5, class_indexes=[2])(
            tf.constant(d["abs/y"]), tf.constant(d["abs/p"])
        )
    )
    return out


def _result(metric, y_true, y_pred):
    metric.update_state(y_true, y_pred)
    return metric.result().numpy()


def _sm_evaluate(metric, y, p, batch):
    import tensorflow as tf

    inputs = tf.keras.Input(p.shape[1:])
    model = tf.keras.Model(inputs, tf.keras.layers.Activation("linear")(inputs))
    model.compile(loss="mse", metrics=[metric])
    result = model.evaluate(p, y, batch_size=batch, verbose=0, return_dict=True)
    return f(result[metric.__name__])


# ---------------------------------------------------------------- our side


def ours(d):
    """keras-components values on the inputs `d`."""
    import keras
    from keras import ops
    from sklearn.metrics import hamming_loss

    import keras_components as kc

    out = {"versions": f"keras {keras.__version__}, backend {keras.backend.backend()}"}
    x = d["act/x"]
    out["gelu default"] = np.asarray(kc.activations.gelu(x)).tolist()
    out["gelu approximate=True"] = np.asarray(
        kc.activations.gelu(x, approximate=True)
    ).tolist()
    out["mish"] = np.asarray(kc.activations.mish(x)).tolist()

    y, p = d["ml/y"], d["ml/p"]
    focal = kc.FocalLoss(alpha=0.25, mode="binary", reduction=None)
    out["focal per-sample"] = f(focal(y, p))
    out["focal alpha=None per-sample"] = f(
        kc.FocalLoss(mode="binary", reduction=None)(y, p)
    )
    out["F1 multilabel thr 0.5 macro"] = f(
        _result(kc.F1(task="multilabel", threshold=0.5), y, p)
    )
    out["F1 multilabel p >= 0.5 macro"] = f(
        _result(kc.F1(task="multilabel"), y, (p >= 0.5).astype(np.int32))
    )
    out["FBeta(2) multilabel thr 0.5 micro"] = f(
        _result(kc.FBeta(2.0, task="multilabel", average="micro", threshold=0.5), y, p)
    )
    out["Hamming multilabel thr 0.5"] = f(
        _result(kc.HammingLoss(task="multilabel", threshold=0.5), y, p)
    )
    out["ConfusionMatrix multilabel"] = f(
        _result(kc.ConfusionMatrix(task="multilabel"), y, p)
    )

    y, p = d["mc/y"], d["mc/p"]
    out["F1 one-hot softmax, multiclass argmax macro"] = f(_result(kc.F1(), y, p))
    out["F1 one-hot softmax, multilabel thr 0.5 macro"] = f(
        _result(kc.F1(task="multilabel", threshold=0.5), y, p)
    )
    out["F1 average=None"] = f(_result(kc.F1(average=None), y, p))
    out["Hamming multiclass"] = f(_result(kc.HammingLoss(), y, p))
    labels, predicted = y.argmax(-1), p.argmax(-1)
    out["sklearn hamming_loss(labels, argmax)"] = f(hamming_loss(labels, predicted))
    out["sklearn hamming_loss(one-hot, one-hot argmax)"] = f(
        hamming_loss(y.astype(int), np.eye(3, dtype=int)[predicted])
    )
    out["1 - Recall(task=multilabel, threshold=0.5, average=micro)"] = f(
        1.0
        - _result(kc.Recall(task="multilabel", threshold=0.5, average="micro"), y, p)
    )
    out["MCC multiclass"] = f(_result(kc.MCC(), y, p))

    y, p = d["ord/y"], d["ord/p"]
    if hasattr(kc.losses, "WeightedKappaLoss"):
        wkl = kc.losses.WeightedKappaLoss
        out["WeightedKappaLoss(5) quadratic"] = f(wkl(5)(y, p))
        out["WeightedKappaLoss(5) linear"] = f(wkl(5, weightage="linear")(y, p))
    else:
        out["WeightedKappaLoss"] = "not in this tree yet"
    out["CohenKappa quadratic"] = f(_result(kc.CohenKappa("quadratic"), y, p))
    out["CohenKappa unweighted sparse"] = f(
        _result(kc.CohenKappa(), d["ord/labels"], p)
    )
    rounded = ops.one_hot(
        ops.cast(ops.clip(ops.round(ops.abs(d["ord/reg"][:, 0])), 0, 4), "int32"), 5
    )
    out["CohenKappa quadratic on one_hot(round(|reg|))"] = f(
        _result(kc.CohenKappa("quadratic", num_classes=5), d["ord/labels"], rounded)
    )
    out["MCC binary single column"] = f(_result(kc.MCC(), d["bin/y"], d["bin/p"]))

    y, p = d["reg/y"], d["reg/p"]
    out["R2 (20,3)"] = f(_result(kc.R2(), y, p))
    out["R2 raw_values"] = f(_result(kc.R2(multioutput="raw_values"), y, p))
    out["R2 num_regressors=2 (20,3)"] = f(_result(kc.R2(num_regressors=2), y, p))
    out["R2 num_regressors=2 (20,1)"] = f(
        _result(kc.R2(num_regressors=2), y[:, :1], p[:, :1])
    )
    out["R2 config keeps num_regressors"] = (
        "num_regressors" in kc.R2(num_regressors=2).get_config()
    )

    y, p = d["seg/y"], d["seg/p"]
    out["DiceLoss"] = f(kc.DiceLoss()(y, p))
    out["DiceLoss per-sample"] = f(kc.DiceLoss(reduction=None)(y, p))
    out["JaccardLoss"] = f(kc.JaccardLoss()(y, p))
    out["DiceLoss(class_weights=[1,2,1])"] = f(
        kc.DiceLoss(class_weights=[1, 2, 1])(y, p)
    )
    out["TverskyLoss(alpha=1/5, beta=4/5, smooth=1e-5/5)"] = f(
        kc.TverskyLoss(alpha=0.2, beta=0.8, smooth=2e-6)(y, p)
    )
    out["DiceLoss(class_weights=[0, 1, 1])"] = f(
        kc.DiceLoss(class_weights=[0, 1, 1])(y, p)
    )
    out["DiceLoss(batch=True)"] = f(kc.DiceLoss(batch=True)(y, p))
    out["JaccardLoss(batch=True)"] = f(kc.JaccardLoss(batch=True)(y, p))
    out["DiceLoss(classes=[1, 2])"] = f(kc.DiceLoss(classes=[1, 2])(y, p))
    out["FocalLoss(alpha=[0.25]*3) categorical"] = f(
        kc.FocalLoss(alpha=[0.25] * 3, mode="categorical")(y, p)
    )
    by, bp = d["bm/y"], d["bm/p"]
    out["FocalLoss(alpha=0.25) binary"] = f(kc.FocalLoss(alpha=0.25)(by, bp))
    out["CombinedLoss([BinaryCrossentropy(), JaccardLoss()])"] = f(
        kc.CombinedLoss([keras.losses.BinaryCrossentropy(), kc.JaccardLoss()])(by, bp)
    )
    out["CombinedLoss([DiceLoss(), FocalLoss(alpha=0.25)], [1, 2])"] = f(
        kc.CombinedLoss([kc.DiceLoss(), kc.FocalLoss(alpha=0.25)], weights=[1, 2])(
            by, bp
        )
    )
    for name, metric in [
        ("IoU(task=multiclass) argmax", lambda: kc.IoU(task="multiclass")),
        (
            "IoU(task=multilabel, threshold=0.5)",
            lambda: kc.IoU(task="multilabel", threshold=0.5),
        ),
        (
            "F1(task=multilabel, threshold=0.5)",
            lambda: kc.F1(task="multilabel", threshold=0.5),
        ),
    ]:
        for batch in (4, 1):
            out[f"{name} evaluate batch {batch}"] = _ours_evaluate(
                metric(), d["seg/y"], d["seg/p"], batch
            )
    ay, ap = d["abs/y"], d["abs/p"]
    for name, metric in [
        (
            "IoU(task=multilabel, threshold=0.5)",
            kc.IoU(task="multilabel", threshold=0.5),
        ),
        (
            "IoU(task=multilabel, threshold=0.5, average=None)",
            kc.IoU(task="multilabel", threshold=0.5, average=None),
        ),
        (
            "IoU(task=multilabel, threshold=0.5, zero_division=1.0)",
            kc.IoU(task="multilabel", threshold=0.5, zero_division=1.0),
        ),
        ("F1(task=multilabel, threshold=0.5)", kc.F1(task="multilabel", threshold=0.5)),
    ]:
        out[f"{name} absent class"] = f(_result(metric, ay, ap))
    return out


def _ours_evaluate(metric, y, p, batch):
    import keras

    inputs = keras.Input(p.shape[1:])
    model = keras.Model(inputs, keras.layers.Activation("linear")(inputs))
    model.compile(loss="mse", metrics=[metric])
    result = model.evaluate(p, y, batch_size=batch, verbose=0, return_dict=True)
    return f(result[metric.name])


# ---------------------------------------------------------------- driver


def main():
    """Run both sides and print them."""
    if len(sys.argv) == 3 and sys.argv[1] == "--ours":
        d = dict(np.load(sys.argv[2]))
        print(json.dumps(ours(d)))
        return
    d = make_inputs()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "inputs.npz")
        np.savez(path, **d)
        env = dict(os.environ, PYTHONPATH=os.environ.get("KC_PATH", ROOT))
        env.pop("SM_FRAMEWORK", None)
        done = subprocess.run(
            [os.environ.get("KC_PYTHON", "python3"), __file__, "--ours", path],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            sys.exit(f"our side failed:\n{done.stderr[-3000:]}")
        mine = json.loads(done.stdout.strip().splitlines()[-1])
    old = legacy(d)
    # Activation curves: report distances, not the grids.
    x = d["act/x"]
    tfa_gelu, tfa_mish = np.array(old.pop("gelu/tfa")), np.array(old.pop("mish/tfa"))
    gelu, gelu_tanh = (
        np.array(mine.pop("gelu default")),
        np.array(mine.pop("gelu approximate=True")),
    )
    mish = np.array(mine.pop("mish"))
    old["grid"] = f"{x.size} points in [{x.min():g}, {x.max():g}]"
    mine["max |tfa gelu() - gelu()|"] = f(np.abs(tfa_gelu - gelu).max())
    mine["max |tfa gelu() - gelu(approximate=True)|"] = f(
        np.abs(tfa_gelu - gelu_tanh).max()
    )
    mine["max |tfa mish - mish|"] = f(np.abs(tfa_mish - mish).max())
    import segmentation_models as sm
    import tensorflow as tf
    import tensorflow_addons as tfa

    print(
        f"legacy: tensorflow {tf.__version__}, tensorflow-addons {tfa.__version__}, "
        f"segmentation-models {sm.__version__} ({sm.framework()})"
    )
    print("LEGACY")
    for key, value in old.items():
        print(f"  {key}: {value}")
    print("OURS")
    for key, value in mine.items():
        print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
