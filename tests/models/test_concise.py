"""jaxd2l.models.concise: flax modules behind the same Model(init, apply) contract."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxd2l.models import Model, concise, linear, mlp, softmax


def test_bad_concise_widths_and_sizes():
    with pytest.raises((ValueError, TypeError), match="hidden"):
        concise.mlp((28, 28, 1), (0,))
    with pytest.raises(TypeError, match="num_inputs"):
        linear.init(jax.random.key(0), 2.0)
    with pytest.raises(TypeError, match="num_inputs"):
        concise.linear_regression(2.0)


def test_concise_models_are_models_whose_init_takes_a_key():
    for model in (
        concise.linear_regression(3),
        concise.softmax_regression((28, 28, 1)),
        concise.mlp((28, 28, 1), (8,)),
    ):
        assert isinstance(model, Model)
        with pytest.raises(TypeError, match="PRNG key"):
            model.init(0)


def test_scratch_and_concise_mlp_give_identical_logits(key):
    X = jax.random.uniform(key, (5, 28, 28, 1))
    params = mlp.init(jax.random.key(1), (784, 32, 16, 10), "he")
    model = concise.mlp((28, 28, 1), (32, 16))
    shapes = jax.tree.map(jnp.shape, model.init(jax.random.key(2)))
    cparams = {f"Dense_{i}": {"kernel": p["W"], "bias": p["b"]} for i, p in enumerate(params)}
    assert jax.tree.map(jnp.shape, cparams) == shapes
    np.testing.assert_allclose(model.apply(cparams, X), mlp.apply(params, X), rtol=1e-5, atol=1e-6)


def test_scratch_and_concise_softmax_give_identical_logits(key):
    X = jax.random.uniform(key, (4, 28, 28, 1))
    params = softmax.init(jax.random.key(1))
    model = concise.softmax_regression((28, 28, 1))
    cparams = model.init(jax.random.key(2))
    assert jax.tree.map(jnp.shape, cparams) == {"Dense_0": {"bias": (10,), "kernel": (784, 10)}}
    cparams = {"Dense_0": {"kernel": params["W"], "bias": params["b"]}}
    np.testing.assert_allclose(model.apply(cparams, X), softmax.apply(params, X), rtol=1e-6)
    # a key (training) changes nothing for a model without dropout
    np.testing.assert_array_equal(
        model.apply(cparams, X, key=jax.random.key(3)), model.apply(cparams, X)
    )


class TrainFlagNet(nn.Module):
    """flax's examples' convention: `train: bool`."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        return nn.Dropout(0.5, deterministic=not train)(nn.Dense(64)(x))


class TrainingFlagNet(nn.Module):
    @nn.compact
    def __call__(self, x, training: bool = False):
        return nn.Dropout(0.5)(nn.Dense(64)(x), deterministic=not training)


class NoFlagDropoutNet(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Dropout(0.5, deterministic=False)(nn.Dense(64)(x))


@pytest.mark.parametrize("module", [TrainFlagNet(), TrainingFlagNet()])
def test_a_key_turns_dropout_on_whatever_the_modules_flag_is_called(module):
    model = concise.pure(module, (8,))
    params = model.init(jax.random.key(0))
    X = jnp.ones((4, 8))
    evaluated = model.apply(params, X)
    trained = model.apply(params, X, key=jax.random.key(1))
    assert float(jnp.mean(trained == 0)) > 0.3  # about half the units dropped
    assert not bool(jnp.any(evaluated == 0) & jnp.all(evaluated == trained))
    np.testing.assert_array_equal(evaluated, model.apply(params, X, key=None))


def test_a_module_with_dropout_and_no_flag_is_refused():
    with pytest.raises(ValueError, match="takes none of deterministic, train, training"):
        concise.pure(NoFlagDropoutNet(), (8,)).init(jax.random.key(0))


class IsTrainingNet(nn.Module):  # a spelling pure does not know
    @nn.compact
    def __call__(self, x, is_training: bool = False):
        return nn.Dropout(0.5, deterministic=not is_training)(nn.Dense(64)(x))


class FieldFlagNet(nn.Module):  # the switch held as a module field
    training: bool = False

    @nn.compact
    def __call__(self, x):
        return nn.Dropout(0.5, deterministic=not self.training)(nn.Dense(64)(x))


class NoDropoutNet(nn.Module):
    @nn.compact
    def __call__(self, x, is_training: bool = False):
        return nn.relu(nn.Dense(64)(x))


@pytest.mark.parametrize("module", [IsTrainingNet(), FieldFlagNet()])
def test_dropout_the_switch_does_not_reach_is_refused_at_init_by_observation(module):
    with pytest.raises(ValueError, match=r"not reached by the training switch .*train_flag="):
        concise.pure(module, (8,)).init(jax.random.key(0))


@pytest.mark.parametrize(
    ("module", "flag"), [(IsTrainingNet(), "is_training"), (FieldFlagNet(), "training")]
)
def test_train_flag_names_the_switch_as_an_argument_or_a_field(module, flag):
    model = concise.pure(module, (8,), train_flag=flag)
    params = model.init(jax.random.key(0))
    X = jnp.ones((4, 8))
    trained = model.apply(params, X, key=jax.random.key(1))
    assert float(jnp.mean(trained == 0)) > 0.3  # training drops units
    np.testing.assert_array_equal(model.apply(params, X), model.apply(params, X))
    assert float(jnp.mean(model.apply(params, X) == 0)) < float(jnp.mean(trained == 0))
    with pytest.raises(ValueError, match="neither an argument .* nor a field"):
        concise.pure(module, (8,), train_flag="is_trianing")


def test_a_module_without_dropout_needs_no_switch():
    model = concise.pure(NoDropoutNet(), (8,))
    params = model.init(jax.random.key(0))
    X = jnp.ones((2, 8))
    np.testing.assert_array_equal(
        model.apply(params, X), model.apply(params, X, key=jax.random.key(3))
    )
