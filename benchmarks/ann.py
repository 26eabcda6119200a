"""The ANN baseline beside the SNN tasks: a plain ReLU MLP on the same static data.

``benchmarks/accuracy.py`` reports it for MNIST (``784-128-10`` on the same
8000 / 2000 split, pixels as the rate code's first step).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

ANN_HIDDEN = (128,)
ANN_LR = 1e-3
ANN_EPOCHS = 20
ANN_BATCH = 128


def train_mlp(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    n_classes: int,
    hidden: tuple[int, ...] = ANN_HIDDEN,
    lr: float = ANN_LR,
    epochs: int = ANN_EPOCHS,
    batch_size: int = ANN_BATCH,
    seed: int = 0,
) -> float:
    """Test accuracy of a ReLU MLP trained with Adam on softmax cross-entropy.

    Args:
        x_train, x_test: static inputs ``(n, features)``.
        y_train, y_test: integer labels ``(n,)``.
        n_classes: outputs.
        hidden: hidden layer sizes.
        lr: Adam's learning rate.
        epochs: passes over the shuffled training set (a last partial batch is
            dropped).
        batch_size: samples per batch.
        seed: draws the He-normal weights and the batch order.

    Returns:
        The test accuracy, in [0, 1].
    """
    dtype = jnp.result_type(float)  # float32, or float64 with x64 enabled
    x_tr, x_te = (np.asarray(x, dtype) for x in (x_train, x_test))
    sizes = [x_tr.shape[1], *hidden, n_classes]
    keys = jax.random.split(jax.random.key(seed), len(sizes) - 1)
    params = [
        (jax.random.normal(k, (a, b)) * math.sqrt(2.0 / a), jnp.zeros(b))
        for k, a, b in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]

    def logits(params, x):
        for w, b in params[:-1]:
            x = jax.nn.relu(x @ w + b[None])
        return x @ params[-1][0] + params[-1][1][None]

    def loss(params, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(
            logits(params, x), y
        ).mean()

    opt = optax.adam(lr)

    @jax.jit
    def step(params, state, x, y):
        grads = jax.grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    state, rng = opt.init(params), np.random.default_rng(seed)
    y_train = np.asarray(y_train)
    bs = min(batch_size, len(x_tr))
    for _ in range(epochs):
        order = rng.permutation(len(x_tr))
        for b in range(len(order) // bs):
            idx = order[b * bs : (b + 1) * bs]
            params, state = step(params, state, x_tr[idx], y_train[idx])
    pred = np.argmax(np.asarray(logits(params, x_te)), axis=-1)
    return float(np.mean(pred == np.asarray(y_test)))


def mnist_baseline(config, data, *, quick: bool = False) -> dict:
    """The MLP on a task's static data (``TaskData`` from the task's loader).

    Returns:
        ``{"ann_test_accuracy": ..., "ann_network": "784-128-10"}``.
    """
    acc = train_mlp(
        data.x_train[:, 0],  # the pixels (and shifted copies): the rate code's step 0
        data.y_train,
        data.x_test[:, 0],
        data.y_test,
        n_classes=data.n_classes,
        epochs=1 if quick else ANN_EPOCHS,
        seed=config.seed,
    )
    sizes = [data.x_train.shape[-1], *ANN_HIDDEN, data.n_classes]
    return {"ann_test_accuracy": acc, "ann_network": "-".join(map(str, sizes))}
