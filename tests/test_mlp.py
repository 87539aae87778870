import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from experiments import mlp as mlp_exp
from jaxd2l.losses import cross_entropy
from jaxd2l.models import concise, mlp
from jaxd2l.models.init import SCHEMES, weight
from jaxd2l.train import Batch, init_state, make_train_step


@pytest.mark.parametrize("sizes", [(784, 10), (784, 256, 10), (784, 256, 128, 64, 10)])
def test_shapes_for_several_depths(key, sizes):
    params = mlp.init(key, sizes)
    assert [p["W"].shape for p in params] == list(zip(sizes[:-1], sizes[1:], strict=True))
    assert mlp.apply(params, jnp.ones((3, 28, 28, 1))).shape == (3, 10)


def test_bad_sizes_and_scheme_are_clear(key):
    with pytest.raises(ValueError, match="sizes"):
        mlp.init(key, (784,))
    with pytest.raises(ValueError, match="unknown init scheme 'glorot'"):
        mlp.init(key, (4, 2), "glorot")


def test_init_scheme_scales(key):
    shape = (400, 600)
    expected = {"normal": 0.01, "zeros": 0.0, "xavier": (2 / 1000) ** 0.5, "he": (2 / 400) ** 0.5}
    for scheme in SCHEMES:
        np.testing.assert_allclose(jnp.std(weight(key, shape, scheme)), expected[scheme], rtol=0.02)


def test_scratch_and_concise_give_identical_logits(key):
    X = jax.random.uniform(key, (5, 28, 28, 1))
    params = mlp.init(jax.random.key(1), (784, 32, 16, 10), "he")
    cparams, capply = concise.mlp(jax.random.key(2), (28, 28, 1), (32, 16))
    cparams = {f"Dense_{i}": {"kernel": p["W"], "bias": p["b"]} for i, p in enumerate(params)}
    np.testing.assert_allclose(capply(cparams, X), mlp.apply(params, X), rtol=1e-5, atol=1e-6)


def test_zero_init_keeps_every_hidden_unit_identical(key):
    X = jax.random.uniform(key, (64, 784))
    y = jnp.arange(64) % 10
    for scheme, identical in (("zeros", True), ("normal", False)):
        params = mlp.init(jax.random.key(1), (784, 16, 10), scheme)
        tx = optax.sgd(0.5)
        step = make_train_step(mlp.apply, cross_entropy, tx)
        state = init_state(params, tx)
        for _ in range(20):
            state, _ = step(state, Batch(X, y, jnp.ones(64, bool)))
        spread = mlp.hidden_unit_spread(state.params[0]["W"])
        assert (spread["max_std_across_units"] == 0.0) is identical
        assert (spread["rank"] == 0) is identical


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_one_epoch_smoke_run(impl, fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = mlp_exp.Config(
        impl=impl, hidden=(32, 16), epochs=1, batch_size=64, data_dir=folder, out=str(tmp_path)
    )
    result = mlp_exp.main(config)
    assert result["architecture"] == "784-32-16-10"
    assert set(result["final"]) == {"train_loss", "train_acc", "test_loss", "test_acc"}
    assert (tmp_path / "curves.png").exists() and (tmp_path / "predictions.png").exists()


def test_zero_init_run_records_the_symmetry(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = mlp_exp.Config(
        init="zeros", hidden=(16,), epochs=2, batch_size=64, data_dir=folder, out=str(tmp_path)
    )
    result = mlp_exp.main(config)
    assert result["hidden_units_after"] == {"max_std_across_units": 0.0, "rank": 0}


def test_scratch_mlp_learns_with_hand_written_sgd(fake_fashion_mnist, tmp_path):
    folder, _ = fake_fashion_mnist
    config = mlp_exp.Config(
        hidden=(32,), epochs=8, batch_size=32, lr=0.3, init="he", data_dir=folder, out=str(tmp_path)
    )
    assert mlp_exp.main(config)["final"]["test_acc"] > 0.9
