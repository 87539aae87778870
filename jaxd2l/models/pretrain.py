"""Pre-training as an initialisation (the course note's MLP exercise; Hinton & Salakhutdinov
2006, Bengio et al. 2007): greedy layer-wise autoencoders on the inputs, no labels.

Hidden layer l is the encoder of an autoencoder trained to reconstruct the previous layer's
activations (the images for l = 1) through a linear decoder, with squared error; its trained
encoder becomes layer l's weights and its codes the next autoencoder's inputs. The output
layer starts Xavier. The result is an `mlp.init`-shaped params list for fine-tuning.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core import history
from jaxd2l.core.drivers import make_train
from jaxd2l.core.epoch import make_epoch
from jaxd2l.core.keys import run_keys
from jaxd2l.core.step import make_train_step, summarize
from jaxd2l.models import init as inits
from jaxd2l.nn.losses import squared_error


class Pretrained(NamedTuple):
    """Pre-trained MLP parameters and what each autoencoder learned."""

    params: list[dict[str, jax.Array]]
    """`mlp.init`-shaped layers: encoders for the hidden layers, Xavier for the output."""
    losses: list[list[float]]
    """Per hidden layer, the mean reconstruction loss before training and after each epoch."""


def autoencoder(activation: Callable) -> Callable:
    """`apply(params, X) -> reconstruction`: encoder `activation(X W + b)`, linear decoder."""

    def apply(params, X, *, key=None):
        H = activation(X @ params["W"] + params["b"])
        return H @ params["W_out"] + params["b_out"]

    return apply


def init_autoencoder(key: jax.Array, fan_in: int, width: int) -> dict[str, jax.Array]:
    """Xavier encoder and decoder, zero biases."""
    k1, k2 = jax.random.split(key)
    return {
        "W": inits.weight(k1, (fan_in, width), "xavier"),
        "b": jnp.zeros(width),
        "W_out": inits.weight(k2, (width, fan_in), "xavier"),
        "b_out": jnp.zeros(fan_in),
    }


def reconstruction_loss(y_hat: jax.Array, y: jax.Array) -> jax.Array:
    """Per-example squared error summed over features, halved [B]."""
    return 0.5 * squared_error(y_hat, y).reshape(y.shape[0], -1).sum(axis=-1)


@functools.lru_cache(maxsize=32)
def layer_trainer(activation, fan_in: int, width: int, epochs: int, batch_size: int, lr: float):
    """One autoencoder's whole training run, jitted: `train(key, (H, H)) -> Trained`.
    Cached, so every seed and every call with the same shapes reuses one compiled program."""
    tx = optax.adam(lr)
    step = make_train_step(autoencoder(activation), reconstruction_loss, tx)
    start = functools.partial(init_autoencoder, fan_in=fan_in, width=width)
    return jax.jit(make_train(start, tx, make_epoch(step, batch_size), epochs))


def init(
    key: jax.Array,
    X: jax.Array,
    sizes: Sequence[int],
    activation: Callable = jax.nn.sigmoid,
    *,
    epochs: int = 1,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
) -> Pretrained:
    """Greedy layer-wise pre-training of an MLP with `sizes` (input, hidden..., outputs).

    Args:
      key: the initialisation key (each layer's autoencoder and its shuffles derive from it).
      X: training inputs [N, ...], scaled (e.g. `fashion_mnist.scale_images`); no labels.
      sizes: the MLP's widths, as for `mlp.init`; the first must equal X's features.
      activation: the hidden activation the MLP will use (sigmoid in the exercise).
      epochs: epochs of Adam per autoencoder.
      batch_size: examples per batch.
      learning_rate: Adam's learning rate.

    Returns:
      `Pretrained(params, losses)`.
    """
    checks.key(key)
    checks.features(X)
    if jnp.asarray(X).dtype == jnp.uint8:
        raise ArgumentError(
            "X holds uint8 pixels: pre-train on scaled inputs (fashion_mnist.scale_images(X)), "
            "as fit refuses unscaled ones"
        )
    sizes = checks.widths(sizes, "sizes (input, hidden..., output widths)", minimum_count=2)
    checks.callable_(activation, "activation")
    try:
        jax.eval_shape(activation, jax.ShapeDtypeStruct((1, sizes[0]), jnp.float32))
    except TypeError:
        raise ArgumentError(
            "activation must be a function of one array; one with parameters of its own "
            "(prelu) cannot be pre-trained: use relu, sigmoid or tanh"
        ) from None
    H = jnp.asarray(X, jnp.float32).reshape(X.shape[0], -1)
    if H.shape[1] != sizes[0]:
        raise ArgumentError(
            f"sizes[0] is {sizes[0]} but X has {H.shape[1]} features per example: make them equal"
        )
    batch_size = min(checks.integer(batch_size, "batch_size", minimum=1), len(H))
    epochs, learning_rate = checks.epochs(epochs), checks.learning_rate(learning_rate)
    apply, params, losses = autoencoder(activation), [], []
    for layer, (fan_in, width) in enumerate(zip(sizes[:-2], sizes[1:-1], strict=True)):
        layer_key = jax.random.fold_in(key, layer)
        train = layer_trainer(activation, fan_in, width, epochs, batch_size, learning_rate)
        before = init_autoencoder(run_keys(layer_key).init, fan_in, width)  # train's start
        trained = train(layer_key, (H, H))
        initial = float(jnp.mean(reconstruction_loss(apply(before, H[:1024]), H[:1024])))
        losses.append([initial] + [float(v) for v in summarize(trained.train)["loss"]])
        history.check_curve(  # the drivers' rule, naming the layer
            losses[-1][1:],
            float(trained.untrained),
            what=f"pre-training layer {layer + 1}",
            fix="lower the learning rate (learning_rate=)",
        )
        encoder = {"W": trained.state.params["W"], "b": trained.state.params["b"]}
        params.append(encoder)
        H = activation(H @ encoder["W"] + encoder["b"])
    out_key = jax.random.fold_in(key, len(sizes))
    params.append(
        {"W": inits.weight(out_key, tuple(sizes[-2:]), "xavier"), "b": jnp.zeros(sizes[-1])}
    )
    return Pretrained(params, losses)
