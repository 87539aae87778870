"""d2l's hand-written minibatch SGD as an optax GradientTransformation (d2l 3.2.4).

Being a GradientTransformation, it plugs into the same `core.step.make_train_step` as
`optax.sgd`, so the from-scratch and concise paths share one training step.
"""

from __future__ import annotations

import jax
import optax

from jaxd2l import checks


def sgd(learning_rate: float | jax.Array) -> optax.GradientTransformation:
    """d2l 3.2.4's hand-written SGD as an optax transformation: param <- param - lr * grad,
    grad of the batch-mean loss.

    Args:
      learning_rate: a finite number > 0, or an array (as `optax.inject_hyperparams` passes,
        one per vmapped trial), taken as it is.

    Returns:
      `optax.GradientTransformation`, with no state.

    Raises:
      ValueError, TypeError: a Python learning rate that is not finite and > 0.
    """
    if not isinstance(learning_rate, jax.Array):
        checks.learning_rate(learning_rate)

    def init(params):
        del params
        return optax.EmptyState()

    def update(grads, state, params=None):
        del params
        return jax.tree.map(lambda g: -learning_rate * g, grads), state

    return optax.GradientTransformation(init, update)
