"""A researcher's own Flax NNX and Equinox MLPs through the same `Model`: every driver,
`make_train` vmapped over seeds, a resumed checkpoint, weight decay's mask and the export,
with the numbers of the scratch MLP from the same parameters."""

import equinox as eqx
import jax
import numpy as np
import optax
import pytest
from flax import nnx

import jaxd2l as d2l
from jaxd2l.models import equinox as eqx_model
from jaxd2l.models import mlp
from jaxd2l.models import nnx as nnx_model
from jaxd2l.nn.losses import cross_entropy
from jaxd2l.nn.regularization import decay_mask

SIZES = (12, 16, 3)


class NnxMLP(nnx.Module):
    def __init__(self, rate: float, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(SIZES[0], SIZES[1], rngs=rngs)
        self.drop = nnx.Dropout(rate, rngs=rngs)
        self.out = nnx.Linear(SIZES[1], SIZES[2], rngs=rngs)

    def __call__(self, x):
        return self.out(self.drop(nnx.relu(self.hidden(x))))


class EqxMLP(eqx.Module):
    hidden: eqx.nn.Linear
    drop: eqx.nn.Dropout
    out: eqx.nn.Linear

    def __init__(self, rate: float, key: jax.Array):
        k1, k2 = jax.random.split(key)
        self.hidden = eqx.nn.Linear(SIZES[0], SIZES[1], key=k1)
        self.drop = eqx.nn.Dropout(rate)
        self.out = eqx.nn.Linear(SIZES[1], SIZES[2], key=k2)

    def __call__(self, x, *, key=None):
        return self.out(self.drop(jax.nn.relu(self.hidden(x)), key=key))


def models(rate: float):
    return {
        "nnx": nnx_model.pure(lambda rngs: NnxMLP(rate, rngs), (SIZES[0],)),
        "equinox": eqx_model.pure(lambda key: EqxMLP(rate, key), (SIZES[0],)),
    }


def from_scratch(kind: str, layers, params):
    """The scratch MLP's layers ({"W": [in, out], "b"}) in the module's own params."""
    (w1, b1), (w2, b2) = ((layer["W"], layer["b"]) for layer in layers)
    if kind == "nnx":
        return {"hidden": {"kernel": w1, "bias": b1}, "out": {"kernel": w2, "bias": b2}}
    params = eqx.tree_at(lambda m: (m.hidden.weight, m.hidden.bias), params, (w1.T, b1))
    return eqx.tree_at(lambda m: (m.out.weight, m.out.bias), params, (w2.T, b2))


@pytest.fixture(scope="module")
def data():
    key = jax.random.key(0)
    X = jax.random.normal(key, (40, SIZES[0]))
    y = jax.random.randint(jax.random.key(1), (40,), 0, SIZES[2])
    return X, y


def train(model, params, data, epochs=3, hooks=()):
    tx = d2l.sgd(0.1)
    epoch = d2l.make_epoch(d2l.make_train_step(model.apply, cross_entropy, tx), 8)
    state = d2l.init_state(params, tx, jax.random.key(2))
    return d2l.fit(state, epoch, data, epochs, hooks=hooks)


@pytest.mark.parametrize("kind", ["nnx", "equinox"])
def test_with_the_scratch_params_the_module_trains_to_the_scratch_numbers(kind, data):
    scratch = mlp.model(SIZES, scheme="xavier")
    layers = scratch.init(jax.random.key(3))
    model = models(0.0)[kind]
    params = from_scratch(kind, layers, model.init(jax.random.key(4)))
    ours, theirs = train(scratch, layers, data), train(model, params, data)
    np.testing.assert_allclose(
        theirs.history["train_loss"].tolist(),
        ours.history["train_loss"].tolist(),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        model.apply(theirs.params, data[0]), scratch.apply(ours.params, data[0]), atol=1e-5
    )


@pytest.mark.parametrize("kind", ["nnx", "equinox"])
def test_dropout_is_on_exactly_when_a_key_is_given(kind, data):
    model = models(0.5)[kind]
    params = model.init(jax.random.key(0))
    X = data[0][:4]
    # jit fuses differently (on the H200 the two differed by 4e-8), so equal to float32's ulps
    np.testing.assert_allclose(model.apply(params, X), jax.jit(model.apply)(params, X), atol=1e-6)
    a, b = (model.apply(params, X, key=jax.random.key(k)) for k in (1, 2))
    assert not np.allclose(a, b) and not np.allclose(a, model.apply(params, X))
    np.testing.assert_allclose(a, jax.jit(model.apply)(params, X, key=jax.random.key(1)), atol=1e-6)


@pytest.mark.parametrize("kind", ["nnx", "equinox"])
def test_make_train_vmaps_over_four_seeds_and_fit_resumes_a_checkpoint(kind, data, tmp_path):
    model = models(0.5)[kind]
    tx = d2l.sgd(0.1)
    epoch = d2l.make_epoch(d2l.make_train_step(model.apply, cross_entropy, tx), 8)
    run = jax.jit(jax.vmap(d2l.make_train(model.init, tx, epoch, 2), in_axes=(0, None)))
    losses = np.asarray(
        d2l.summarize(run(jax.random.split(jax.random.key(0), 4), data).train)["loss"]
    )
    assert losses.shape == (4, 2) and np.isfinite(losses).all()
    assert len({round(float(v), 6) for v in losses[:, -1]}) == 4  # four different seeds
    params = model.init(jax.random.key(5))
    whole = train(model, params, data, epochs=4)
    folder = str(tmp_path / kind)

    def killed_in_3(record):  # a kill during epoch 3: epochs 1 and 2 are saved
        if record["epoch"] == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(model, params, data, epochs=4, hooks=[killed_in_3, d2l.Checkpoint(folder)])
    resumed = train(model, params, data, epochs=4, hooks=[d2l.Checkpoint(folder)])
    assert resumed.history["epoch"].tolist() == [1, 2, 3, 4]
    for a, b in zip(jax.tree.leaves(resumed.params), jax.tree.leaves(whole.params), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("kind", ["nnx", "equinox"])
def test_weight_decay_masks_the_weights_and_the_epoch_exports(kind, data):
    from jaxd2l.tools.portability import export_epoch

    model = models(0.5)[kind]
    params = model.init(jax.random.key(0))
    mask = decay_mask(params)
    decayed = [m for m, p in zip(jax.tree.leaves(mask), jax.tree.leaves(params), strict=True) if m]
    assert len(decayed) == 2  # the two weight matrices, not the biases
    tx = optax.chain(optax.add_decayed_weights(1e-3, mask=mask), optax.sgd(0.1))
    epoch = d2l.make_epoch(d2l.make_train_step(model.apply, cross_entropy, tx), 8)
    state = d2l.init_state(params, tx, jax.random.key(1))
    exported = export_epoch(epoch, state, *data, ("cuda", "tpu", "rocm"))
    assert exported


class NnxBatchNormMLP(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(SIZES[0], SIZES[1], rngs=rngs)
        self.norm = nnx.BatchNorm(SIZES[1], rngs=rngs)
        self.out = nnx.Linear(SIZES[1], SIZES[2], rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.norm(self.hidden(x))))


class EqxSelfSeeded(eqx.Module):
    layer: eqx.nn.Linear

    def __init__(self, key: jax.Array):
        del key  # seeds itself: every key gives the same parameters
        self.layer = eqx.nn.Linear(SIZES[0], SIZES[2], key=jax.random.key(0))

    def __call__(self, x, *, key=None):
        return self.layer(x)


def test_modules_the_model_contract_cannot_hold_are_refused_when_wrapped():
    # issue 38: BatchNorm trained with its running statistics never carried (evaluation
    # normalised with the initial ones), a module seeding itself (a sweep of identical runs)
    with pytest.raises(ValueError, match=r"NnxBatchNormMLP holds state .*BatchStat"):
        nnx_model.pure(NnxBatchNormMLP, (SIZES[0],))
    with pytest.raises(ValueError, match="parameters do not follow the key"):
        nnx_model.pure(lambda rngs: NnxMLP(0.0, nnx.Rngs(0)), (SIZES[0],))
    with pytest.raises(ValueError, match="EqxSelfSeeded's parameters do not follow the key"):
        eqx_model.pure(EqxSelfSeeded, (SIZES[0],))
    norm = eqx.nn.BatchNorm(SIZES[1], "batch", mode="batch")
    bn = lambda key: eqx.nn.Sequential([eqx.nn.Linear(SIZES[0], SIZES[1], key=key), norm])
    with pytest.raises(ValueError, match=r"holds state .*eqx.nn.StateIndex"):
        eqx_model.pure(bn, (SIZES[0],))
    with pytest.raises(TypeError, match="make_with_state's"):
        eqx_model.pure(lambda key: eqx.nn.make_with_state(bn)(key), (SIZES[0],))
    # zeros are no evidence of ignoring the key: a zero-initialised module is accepted
    zeros = lambda rngs: nnx.Linear(SIZES[0], 3, kernel_init=nnx.initializers.zeros, rngs=rngs)
    nnx_model.pure(zeros, (SIZES[0],)).init(jax.random.key(0))


def test_objects_of_another_library_are_refused_by_type():
    # issue 39: a Linen Dense given to the NNX adapter ended inside flax ("_mapping")
    from flax import linen

    with pytest.raises(TypeError, match="got a Dense instance: a Linen module .*concise"):
        nnx_model.pure(linen.Dense(3), (SIZES[0],))
    with pytest.raises(TypeError, match="make_module must return a flax.nnx.Module"):
        nnx_model.pure(lambda rngs: linen.Dense(3), (SIZES[0],))
    with pytest.raises(TypeError, match="builds the module from a key"):
        eqx_model.pure(EqxMLP(0.0, jax.random.key(0)), (SIZES[0],))
    with pytest.raises(TypeError, match="must return an equinox.Module"):
        eqx_model.pure(lambda key: NnxMLP(0.0, nnx.Rngs(0)), (SIZES[0],))
