"""d2l 4.8: numerical stability and initialisation, measured.

The book's two demonstrations (sigmoid's vanishing gradient, a product of 100 random 4x4
Gaussian matrices exploding), then beyond the book: a deep MLP at init, the standard
deviation of every layer's activations and of the gradients reaching them, for every
initialisation scheme x activation in one program. Schemes and activations are indices,
not Python choices (`lax.switch` over the activations, a per-scheme scale), so the
combinations vmap.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxd2l import checks
from jaxd2l.nn.activations import relu, sigmoid, tanh

SCHEMES = ("normal", "xavier", "he")  # normal: d2l's N(0, 0.01^2)
ACTIVATIONS = ("sigmoid", "tanh", "relu")
_FUNCTIONS = (sigmoid, tanh, relu)


def matrix_product_log_norms(key: jax.Array, count: int = 100, size: int = 4) -> jax.Array:
    """d2l 4.8.1.2: log10 of the Frobenius norm of M_1 ... M_k for k = 1..count, M_i ~
    N(0, 1) [size, size]: it grows linearly in k, i.e. the product explodes geometrically
    (in float32 the product itself overflows to inf before k = 100, so the running product
    is renormalised and its log norm accumulated)."""
    checks.key(key)
    checks.integer(count, "count", minimum=1)
    matrices = jax.random.normal(key, (count, size, size))

    def step(carry, M):
        unit, log_norm = carry
        product = unit @ M
        norm = jnp.linalg.norm(product)
        log_norm = log_norm + jnp.log10(norm)
        return (product / norm, log_norm), log_norm

    return jax.lax.scan(step, (jnp.eye(size) / 2.0, jnp.log10(2.0)), matrices)[1]


def init_std(scheme: jax.Array, fan_in: int, fan_out: int) -> jax.Array:
    """The weight std of scheme index `scheme` (a traced int works): 0.01, Xavier
    sqrt(2 / (fan_in + fan_out)) or He sqrt(2 / fan_in)."""
    options = jnp.asarray([0.01, (2.0 / (fan_in + fan_out)) ** 0.5, (2.0 / fan_in) ** 0.5])
    return options[scheme]


def layer_statistics(key, X, scheme, activation, *, depth: int = 20, width: int = 256):
    """For an MLP of `depth` hidden layers of `width` at init (scheme and activation as
    indices into SCHEMES and ACTIVATIONS): (std of each hidden layer's activations [depth],
    std of the gradient of the loss with respect to each layer's weights [depth]). The
    loss is the mean squared output: any scalar of the output shows how gradients travel."""
    keys = jax.random.split(key, depth)
    sizes = [X.shape[1]] + [width] * depth

    def init(k, m, n):
        return init_std(scheme, m, n) * jax.random.normal(k, (m, n))

    Ws = [init(k, m, n) for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)]

    def forward(Ws):
        H, stds = X, []
        for W in Ws:
            H = jax.lax.switch(activation, _FUNCTIONS, H @ W)
            stds.append(H.std())
        return (H**2).mean(), jnp.stack(stds)

    grads, stds = jax.grad(forward, has_aux=True)(Ws)
    return stds, jnp.stack([g.std() for g in grads])


def all_combinations(key, X, *, depth: int = 20, width: int = 256):
    """`layer_statistics` for every scheme x activation in one compiled program: arrays
    [len(SCHEMES), len(ACTIVATIONS), depth] of activation and gradient std."""
    checks.integer(depth, "depth", minimum=1)
    checks.integer(width, "width", minimum=1)
    checks.features(X, "X", ndim=2)
    s = jnp.arange(len(SCHEMES))
    a = jnp.arange(len(ACTIVATIONS))

    def one(scheme, activation):
        return layer_statistics(key, X, scheme, activation, depth=depth, width=width)

    grid = jax.vmap(jax.vmap(one, in_axes=(None, 0)), in_axes=(0, None))
    return jax.jit(grid)(s, a)
