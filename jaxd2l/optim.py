"""d2l's hand-written minibatch SGD as an optax GradientTransformation (d2l 3.2.4).

Being a GradientTransformation, it plugs into the same `train.make_train_step` as
`optax.sgd`, so the from-scratch and concise paths share one training step.
"""

from __future__ import annotations

import jax
import optax


def sgd(learning_rate: float | jax.Array) -> optax.GradientTransformation:
    """d2l 3.2.4: param <- param - lr * grad, where grad is of the batch-mean loss."""

    def init(params):
        del params
        return optax.EmptyState()

    def update(grads, state, params=None):
        del params
        return jax.tree.map(lambda g: -learning_rate * g, grads), state

    return optax.GradientTransformation(init, update)
