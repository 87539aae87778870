import jax.numpy as jnp

from jaxd2l.nn.metrics import accuracy


def test_accuracy_counts_correct_predictions():
    logits = jnp.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert float(accuracy(logits, jnp.array([1, 1, 1]))) == 2.0
