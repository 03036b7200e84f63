"""Bad input: strategies we do not support, metrics created outside the scope.

Decided by trying (see docs/scaling.md):

- Supported: `MirroredStrategy`, `MultiWorkerMirroredStrategy`,
  `OneDeviceStrategy` (and on JAX `DataParallel`, `ModelParallel`).
- `CentralStorageStrategy` gave a wrong F1 in `evaluate` (one copy of the
  state that every replica writes); it, and every strategy not in the list
  (`ParameterServerStrategy`, `TPUStrategy`: not testable here), is a
  `ValueError` naming it, on the first update, eager or inside `fit`.
- A metric whose state was created outside `strategy.scope()` and updated in
  the replica context of a strategy with several replicas (compiled under
  the scope after being constructed before it) is a `ValueError` telling
  the user to create it inside `strategy.scope()`: every replica would write
  one plain variable. Updated outside replica context (eagerly, in the
  scope or not) it is one writer and stays correct.
"""

import keras
import numpy as np
import pytest
import sklearn.metrics as skm

import keras_components as km

pytestmark = pytest.mark.tensorflow_only

N = 64  # batches of 32: 16 rows per replica


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(1311)
    x = rng.normal(size=(N, 3)).astype("float32")
    y = rng.integers(0, 3, N)
    return x, y


def classifier():
    return keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(3, activation="softmax")]
    )


def compiled(strategy, metric=None):
    with strategy.scope():
        model = classifier()
        model.compile(
            optimizer="sgd",
            loss="sparse_categorical_crossentropy",
            metrics=[metric or km.F1(task="multiclass", num_classes=3)],
        )
    return model


@pytest.fixture(scope="module")
def central_storage():
    import tensorflow as tf

    return tf.distribute.experimental.CentralStorageStrategy(["/cpu:0", "/cpu:1"])


@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_central_storage_is_refused_inside_keras(batch, central_storage, mode):
    x, y = batch
    model = compiled(central_storage)
    run = model.evaluate if mode == "evaluate" else model.fit
    with pytest.raises(ValueError, match="strategy CentralStorageStrategy"):
        run(x, y, batch_size=32, verbose=0)


def test_central_storage_is_refused_eagerly(batch, central_storage):
    x, y = batch
    probabilities = classifier()(x)
    with central_storage.scope():
        metric = km.F1(task="multiclass", num_classes=3)
        with pytest.raises(ValueError, match="strategy CentralStorageStrategy"):
            metric.update_state(y, probabilities)
    with pytest.raises(ValueError, match="Supported: MirroredStrategy"):
        central_storage.run(metric.update_state, (y, probabilities))


@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_one_device_strategy_is_supported(batch, mode):
    import tensorflow as tf

    x, y = batch
    model = compiled(tf.distribute.OneDeviceStrategy("/cpu:0"))
    if mode == "evaluate":
        value = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)["f1"]
        y_hat = model.predict(x, verbose=0).argmax(-1)
    else:
        model.optimizer.learning_rate.assign(0.0)  # predictions stay fixed
        y_hat = model.predict(x, verbose=0).argmax(-1)
        history = model.fit(x, y, batch_size=32, verbose=0, shuffle=False)
        value = history.history["f1"][-1]
    expected = skm.f1_score(y, y_hat, labels=[0, 1, 2], average="macro")
    np.testing.assert_allclose(value, expected, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: km.F1(task="multiclass", num_classes=3),  # state built at once
        lambda: km.F1(),  # state built lazily, `invalid` at once
        lambda: km.AUROC(task="multiclass", num_classes=3),
    ],
    ids=["f1-fixed", "f1-lazy", "auroc"],
)
@pytest.mark.parametrize("mode", ["evaluate", "fit"])
def test_metric_made_outside_the_scope_is_refused_inside_keras(
    batch, mirrored_strategy, make, mode
):
    x, y = batch
    outside = make()  # before the scope
    model = compiled(mirrored_strategy, outside)
    run = model.evaluate if mode == "evaluate" else model.fit
    with pytest.raises(ValueError, match=r"created outside `strategy.scope\(\)`"):
        run(x, y, batch_size=32, verbose=0)


def test_metric_made_outside_the_scope_is_refused_in_replica_context(
    batch, mirrored_strategy
):
    x, y = batch
    probabilities = classifier()(x)
    outside = km.F1(task="multiclass", num_classes=3)
    with pytest.raises(ValueError, match="Create the metric inside"):
        mirrored_strategy.run(outside.update_state, (y, probabilities))
    # One writer (cross-replica context, in the scope or not): correct.
    with mirrored_strategy.scope():
        outside.update_state(y, probabilities)
    expected = skm.f1_score(
        y, np.asarray(probabilities).argmax(-1), labels=[0, 1, 2], average="macro"
    )
    np.testing.assert_allclose(outside.result(), expected, atol=1e-6)


def test_metric_made_inside_the_scope_works_in_replica_context(
    batch, mirrored_strategy
):
    import tensorflow as tf

    x, y = batch
    probabilities = classifier()(x)
    with mirrored_strategy.scope():
        inside = km.F1(task="multiclass", num_classes=3)
    data = tf.data.Dataset.from_tensor_slices((y, probabilities)).batch(32)

    @tf.function
    def step(t, p):
        mirrored_strategy.run(inside.update_state, (t, p))

    for t, p in mirrored_strategy.experimental_distribute_dataset(data):
        step(t, p)
    with mirrored_strategy.scope():
        value = inside.result()
    expected = skm.f1_score(
        y, np.asarray(probabilities).argmax(-1), labels=[0, 1, 2], average="macro"
    )
    np.testing.assert_allclose(value, expected, atol=1e-6)
