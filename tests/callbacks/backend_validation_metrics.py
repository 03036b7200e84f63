"""`ValidationMetrics` on the JAX or PyTorch backend (run in a fresh process).

`KERAS_BACKEND=jax python -m tests.callbacks.backend_validation_metrics`:
fits a tiny model with the callback and checks the logged F1 against
scikit-learn on `model.predict` of the same epoch, for arrays and a
`PyDataset` (on PyTorch also with a torch `DataLoader`).
"""

import keras
import numpy as np
from sklearn.metrics import f1_score

import keras_components as kc


class Record(keras.callbacks.Callback):
    def __init__(self, x):
        super().__init__()
        self.x, self.seen = x, []

    def on_epoch_end(self, epoch, logs=None):
        pred = self.model.predict(self.x, verbose=0).argmax(-1)
        self.seen.append((pred, dict(logs)))


class Batches(keras.utils.PyDataset):
    def __init__(self, x, labels):
        super().__init__()
        self.x, self.labels = x, labels

    def __len__(self):
        return -(-len(self.x) // 40)  # 40, 40, 16: the last batch is short

    def __getitem__(self, i):
        return self.x[i * 40 : (i + 1) * 40], self.labels[i * 40 : (i + 1) * 40]


def check(validation_data, x, labels):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy"
    )
    cb = kc.callbacks.ValidationMetrics(validation_data, [kc.F1(), kc.MCC()], verbose=0)
    record = Record(x)
    model.fit(x, labels, epochs=2, batch_size=32, verbose=0, callbacks=[cb, record])
    for pred, logs in record.seen:
        expected = f1_score(labels, pred, average="macro")
        assert abs(logs["val_f1"] - expected) <= 1e-6, (logs["val_f1"], expected)
    assert cb.epochs == [0, 1]


def main():
    backend = keras.backend.backend()
    rng = np.random.default_rng(11)
    x = rng.normal(size=(96, 4)).astype("float32")
    labels = np.argmax(x[:, :3] + 0.8 * rng.normal(size=(96, 3)), axis=-1).astype(
        "int32"
    )
    check((x, labels), x, labels)
    # Every epoch's pass reads the PyDataset again (the torch loader of a
    # PyDataset is one-shot: a reused one made the second pass empty).
    check(Batches(x, labels), x, labels)
    if backend == "torch":
        import torch

        dataset = torch.utils.data.TensorDataset(
            torch.from_numpy(x), torch.from_numpy(labels)
        )
        check(torch.utils.data.DataLoader(dataset, batch_size=32), x, labels)
    print(f"validation metrics OK: {backend}")


if __name__ == "__main__":
    main()
