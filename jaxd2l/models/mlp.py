"""d2l 4.2: multilayer perceptrons from scratch, any depth from one definition.

Params are a list of {"W": [fan_in, fan_out], "b": [fan_out]} layers; `sizes` runs from
the input width to the number of outputs, e.g. (784, 256, 10) or (784, 256, 128, 64, 10).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError, ArgumentTypeError
from jaxd2l.core.step import Model
from jaxd2l.models import init as inits
from jaxd2l.models.softmax import check_layer
from jaxd2l.nn import regularization
from jaxd2l.nn.activations import ACTIVATIONS, prelu, relu


def init(
    key: jax.Array, sizes: Sequence[int], scheme: str = "normal", sigma: float = 0.01
) -> list[dict[str, jax.Array]]:
    """Weights by `scheme` (normal: d2l's randn * 0.01; zeros; xavier; he), biases zero."""
    checks.key(key)
    sizes = checks.widths(sizes, "sizes (input, hidden..., output widths)", minimum_count=2)
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"W": inits.weight(k, (m, n), scheme, sigma), "b": jnp.zeros(n)}
        for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)
    ]


def apply(
    params: list[dict[str, jax.Array]],
    X: jax.Array,
    activation: Callable = relu,
    *,
    key: jax.Array | None = None,
    dropout: Sequence[float] = (),
) -> jax.Array:
    """Logits [B, K] for inputs [B, ...]: flatten, then affine + activation per hidden layer.

    With a `key` (training), hidden layer i is followed by dropout at rate `dropout[i]`
    (d2l 4.6), its mask drawn from `fold_in(key, i)`; with `key=None` (evaluation) nothing
    is dropped."""
    checks.features(X)
    if not isinstance(params, (list, tuple)) or not params:
        raise ArgumentTypeError(
            f"params must be a list of layers from mlp.init, got {type(params).__name__}"
        )
    checks.callable_(activation, "activation")
    width = math.prod(X.shape[1:])
    for i, layer in enumerate(params):
        width = check_layer(layer, width, f"params[{i}]")
    H = X.reshape(X.shape[0], -1)
    for i, layer in enumerate(params[:-1]):
        H = activation(H @ layer["W"] + layer["b"])
        if key is not None and i < len(dropout) and dropout[i] > 0:
            H = regularization.dropout(H, dropout[i], jax.random.fold_in(key, i))
    return H @ params[-1]["W"] + params[-1]["b"]


def resolve_activation(activation: Callable | str) -> Callable:
    """An activation function, or its name in `activations.ACTIVATIONS` ("relu", "tanh", ...),
    as `concise.mlp` takes it."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ArgumentError(
                f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}: pass a "
                "name from that list or a function"
            )
        return ACTIVATIONS[activation]
    checks.callable_(activation, "activation")
    return activation


def model(
    sizes: Sequence[int],
    *,
    activation: Callable | str = relu,
    scheme: str = "normal",
    sigma: float = 0.01,
    dropout: Sequence[float] = (),
) -> Model:
    """`Model(init(key) -> params, apply(params, X, *, key=None) -> logits)` for layer widths
    `sizes` with `activation` between layers, fixed once: pass `model.apply` to both
    `make_train_step` and `make_evaluate`. `dropout` gives a rate per hidden layer (d2l 4.6:
    (0.2, 0.5)), applied in training only."""
    sizes = checks.widths(sizes, "sizes (input, hidden..., output widths)", minimum_count=2)
    activation = resolve_activation(activation)
    dropout = check_dropout(dropout, len(sizes) - 2)

    def init_fn(key):
        return init(key, sizes, scheme, sigma)

    def apply_fn(params, X, *, key=None):
        return apply(params, X, activation, key=key, dropout=dropout)

    return Model(init_fn, apply_fn)


def prelu_model(
    sizes: Sequence[int],
    *,
    scheme: str = "normal",
    sigma: float = 0.01,
    slope: float = 0.25,
    dropout: Sequence[float] = (),
) -> Model:
    """The MLP with pReLU between layers (the course note's exercise): params are
    `{"layers": [{"W", "b"}, ...], "slopes": [hidden layers]}`, one learnable negative
    slope per hidden layer, starting at `slope` (He et al.'s 0.25)."""
    sizes = checks.widths(sizes, "sizes (input, hidden..., output widths)", minimum_count=2)
    dropout = check_dropout(dropout, len(sizes) - 2)

    def init_fn(key):
        return {
            "layers": init(key, sizes, scheme, sigma),
            "slopes": jnp.full(len(sizes) - 2, slope),
        }

    def apply_fn(params, X, *, key=None):
        if not isinstance(params, dict) or set(params) != {"layers", "slopes"}:
            raise ArgumentTypeError(
                "prelu_model's params are {'layers': [...], 'slopes': [...]} from its own "
                f"init, got {type(params).__name__}: plain mlp.init params have no slopes"
            )
        layers, slopes = params["layers"], params["slopes"]
        H = X.reshape(X.shape[0], -1)
        for i, layer in enumerate(layers[:-1]):
            H = prelu(H @ layer["W"] + layer["b"], slopes[i])
            if key is not None and i < len(dropout) and dropout[i] > 0:
                H = regularization.dropout(H, dropout[i], jax.random.fold_in(key, i))
        return H @ layers[-1]["W"] + layers[-1]["b"]

    return Model(init_fn, apply_fn)


def check_architecture(
    hidden: Sequence[int], num_outputs: int, dropout: Sequence[float]
) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The concise MLPs' (Linen's and NNX's) shape arguments, checked once: the hidden widths,
    the outputs, and one dropout rate per hidden layer at most."""
    hidden = checks.widths(hidden, "hidden", minimum_count=0)
    checks.integer(num_outputs, "num_outputs", minimum=1)
    return hidden, check_dropout(dropout, len(hidden))


def check_dropout(rates: Sequence[float], hidden_layers: int) -> tuple[float, ...]:
    """Dropout rates, one per hidden layer at most, each in [0, 1]."""
    if isinstance(rates, (str, bytes)) or not isinstance(rates, Sequence):
        raise ArgumentTypeError(
            f"dropout must be a sequence of rates, one per hidden layer, got {rates!r}"
        )
    if len(rates) > hidden_layers:
        raise ArgumentError(
            f"dropout gives {len(rates)} rates for {hidden_layers} hidden layer(s): one rate "
            "per hidden layer at most"
        )
    for i, p in enumerate(rates):
        regularization.check_rate(p, f"dropout[{i}]")
    return tuple(float(p) for p in rates)


def hidden_unit_spread(W: jax.Array) -> dict[str, float]:
    """How different a layer's hidden units are (columns of W [fan_in, units]): the largest
    per-input spread across units and the numerical rank. Zero init leaves both at 0."""
    spread = float(jnp.max(jnp.std(W, axis=1)))
    rank = int(jnp.linalg.matrix_rank(W)) if bool(jnp.any(W != 0)) else 0
    return {"max_std_across_units": spread, "rank": rank}
