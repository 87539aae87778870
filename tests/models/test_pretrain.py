import jax
import jax.numpy as jnp
import pytest

from jaxd2l.models import concise, mlp, pretrain


def test_pretraining_lowers_each_layers_reconstruction_loss(key):
    X = jax.random.uniform(key, (256, 8, 8, 1))
    done = pretrain.init(key, X, (64, 16, 8, 3), epochs=3, batch_size=32, learning_rate=1e-2)
    assert len(done.losses) == 2  # one autoencoder per hidden layer
    for layer in done.losses:
        assert len(layer) == 4 and layer[-1] < layer[0]  # before, then after each epoch
    shapes = [jax.tree.map(jnp.shape, p) for p in done.params]
    assert shapes == [jax.tree.map(jnp.shape, p) for p in mlp.init(key, (64, 16, 8, 3))]
    logits = mlp.apply(done.params, X, jax.nn.sigmoid)
    assert logits.shape == (256, 3) and bool(jnp.isfinite(logits).all())
    flax_params = concise.mlp_params(done.params)
    assert flax_params["Dense_2"]["kernel"].shape == (8, 3)


def test_pretraining_is_a_function_of_its_key(key):
    X = jax.random.uniform(key, (64, 10))
    a = pretrain.init(key, X, (10, 4, 2), batch_size=16).params
    b = pretrain.init(key, X, (10, 4, 2), batch_size=16).params
    c = pretrain.init(jax.random.key(9), X, (10, 4, 2), batch_size=16).params
    assert (a[0]["W"] == b[0]["W"]).all() and not (a[0]["W"] == c[0]["W"]).all()


def test_pretraining_refuses_inputs_that_do_not_fit(key):
    with pytest.raises(ValueError, match="sizes\\[0\\] is 784 but X has 100 features"):
        pretrain.init(key, jnp.ones((8, 10, 10)), (784, 16, 10))
    with pytest.raises(ValueError, match="uint8 pixels: pre-train on scaled inputs"):
        pretrain.init(key, jnp.ones((8, 10), jnp.uint8), (10, 4, 2))
    with pytest.raises(ValueError, match="parameters of its own .prelu. cannot be pre-trained"):
        pretrain.init(key, jnp.ones((8, 10)), (10, 4, 2), activation=lambda x, alpha: x * alpha)


def test_a_diverging_autoencoder_is_stopped_by_the_drivers_rule(key):
    from jaxd2l.core.history import DivergedError

    X = jax.random.uniform(key, (256, 10)) * 100.0  # large inputs and a huge rate explode
    with pytest.raises(DivergedError, match=r"pre-training layer 1: training diverged at epoch"):
        pretrain.init(key, X, (10, 32, 2), epochs=3, batch_size=32, learning_rate=1e3)
