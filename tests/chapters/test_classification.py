import jax.numpy as jnp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from experiments import mlp as mlp_exp
from experiments import softmax_regression as exp
from jaxd2l.chapters.classification import optax_loss, scratch_loss
from jaxd2l.nn.losses import cross_entropy

FAST = settings(max_examples=25, deadline=None)


@FAST
@given(eps=st.one_of(st.floats(1.0, 10.0), st.floats(-10.0, -1e-6)))
def test_label_smoothing_outside_zero_one_is_refused(eps):
    for factory in (scratch_loss, optax_loss):
        with pytest.raises(ValueError, match="label_smoothing"):
            factory(eps)
    with pytest.raises(ValueError, match="label_smoothing"):
        cross_entropy(jnp.zeros((2, 3)), jnp.zeros(2, jnp.int32), label_smoothing=eps)


def test_scratch_mlp_learns_with_hand_written_sgd(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = mlp_exp.Config(
        hidden=(32,), epochs=8, batch_size=32, lr=0.3, init="he", data_dir=folder, out=str(tmp_path)
    )
    assert mlp_exp.main(config)["final"]["test_acc"] > 0.9


def test_learns_the_generated_classes_with_label_smoothing(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = exp.Config(
        epochs=5, batch_size=32, data_dir=folder, out=str(tmp_path), label_smoothing=0.1
    )
    assert exp.main(config)["final"]["test_acc"] > 0.9
