"""Epoch batching: shuffle indices first, then cut them into batches (never the reverse);
K folds as example weights over the same indices (`kfold_weights`).

Two forms of the same epoch:

- `epoch_indices`: on the device, static shapes, for `lax.scan` (see `epoch.make_epoch`);
- `host_batches`: a plain Python iterator of numpy batches, for teaching and debugging,
  like d2l's `data_iter` and DataLoader.

By default every example is used exactly once per epoch. On the device the last partial
batch is padded to full size and masked (mask False on padding), so shapes stay static
and nothing recompiles; on the host it is simply smaller. `drop_remainder=True` drops it.
`rolled_indices` is the third way (`remainder="roll"`): the passes over the data form one
stream, each pass a fresh permutation, cut into full batches, so the remainder of one pass
fills the first batch of the next and every example is seen once per pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from jaxd2l import checks
from jaxd2l.checks.errors import ArgumentError
from jaxd2l.core.keys import epoch_key

# The shuffle. `jax.random.permutation` sorts (key, index) pairs; on XLA's CPU backend a
# key-value sort of 60,000 elements takes about 27 ms, a quarter of a softmax-regression
# epoch, while sorting one uint32 array takes about 5 ms. So the sort keys are a keyed
# bijective hash of the index: distinct by construction, a plain sort orders them, and the
# index comes back by inverting the hash (murmur3's 32-bit finaliser, every step invertible
# mod 2^32, applied twice around two random 32-bit words of the key). The orders pass the
# checks in tests/core/test_batching.py (uniform positions, all 24 orders of 4 elements
# equally often, no correlation between keys).
_M1, _M2 = 0x85EBCA6B, 0xC2B2AE35
_INV1, _INV2 = pow(_M1, -1, 2**32), pow(_M2, -1, 2**32)


def _mix(h: jax.Array) -> jax.Array:
    """murmur3 fmix32: a bijection of uint32 with full avalanche."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(_M1)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(_M2)
    return h ^ (h >> 16)


def _unmix(h: jax.Array) -> jax.Array:
    """The inverse of `_mix`."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(_INV2)
    h = h ^ (h >> 13) ^ (h >> 26)
    h = h * jnp.uint32(_INV1)
    return h ^ (h >> 16)


def permutation(key: jax.Array, n: int) -> jax.Array:
    """A random permutation of range(n) as int32 [n] (n < 2^31), one sort of uint32 keys."""
    k1, k2 = jax.random.bits(key, (2,), jnp.uint32)
    keys = _mix(_mix(jnp.arange(n, dtype=jnp.uint32) ^ k1) ^ k2)
    return (_unmix(_unmix(jnp.sort(keys)) ^ k2) ^ k1).astype(jnp.int32)


def num_batches(num_examples: int, batch_size: int, drop_remainder: bool = False) -> int:
    """Batches per epoch: ceil(n / B), or floor(n / B) when dropping the remainder."""
    check_batch_size(num_examples, batch_size, drop_remainder)
    if drop_remainder:
        return num_examples // batch_size
    return -(-num_examples // batch_size)


def check_batch_size(num_examples: int, batch_size: int, drop_remainder: bool = False) -> None:
    """Raise a clear ValueError (TypeError for a float) for a batch size that cannot make an
    epoch."""
    checks.integer(batch_size, "batch_size", minimum=1)
    if num_examples < 1:
        raise ArgumentError("the data set is empty: there is nothing to batch")
    if drop_remainder and batch_size > num_examples:
        raise ArgumentError(
            f"batch_size {batch_size} > {num_examples} examples with drop_remainder=True "
            "leaves no batch: lower the batch size or keep the remainder"
        )


def epoch_indices(
    key: jax.Array | None, num_examples: int, batch_size: int, drop_remainder: bool = False
) -> tuple[jax.Array, jax.Array]:
    """Index batches [nb, B] int32 and mask [nb, B] bool for one epoch.

    `key=None` keeps the original order (evaluation). Padding slots point at example 0
    and are masked out; only the last batch can hold padding.
    """
    nb = num_batches(num_examples, batch_size, drop_remainder)
    if batch_size > num_examples:  # one padded batch this big would only cost memory
        raise ArgumentError(
            f"batch_size {batch_size} is larger than the {num_examples} examples: use at "
            f"most {num_examples}"
        )
    if key is None:
        order = jnp.arange(num_examples, dtype=jnp.int32)
    else:
        order = permutation(key, num_examples)
    size = nb * batch_size
    if size <= num_examples:
        order = order[:size]
    else:
        order = jnp.concatenate([order, jnp.zeros(size - num_examples, jnp.int32)])
    mask = jnp.arange(size) < num_examples
    return order.reshape(nb, batch_size), mask.reshape(nb, batch_size)


def rolled_indices(
    train_key: jax.Array, epoch: int | jax.Array, num_examples: int, batch_size: int
) -> tuple[jax.Array, jax.Array]:
    """Epoch `epoch`'s index batches [nb, B] and mask (all True) in roll mode.

    The passes over the data are one stream: pass p is the permutation drawn from
    `fold_in(train_key, p)` (epoch p's key, so with B dividing n this is the pad order), and
    epoch e is the stream's positions [e nb B, (e + 1) nb B) with nb = n // B full batches.
    An epoch then spans at most two passes; every example appears once per pass, and the
    order is a function of (train_key, epoch) alone, so every driver and a resumed run agree.
    """
    nb = num_batches(num_examples, batch_size, drop_remainder=True)
    size = nb * batch_size
    start = jnp.asarray(epoch, jnp.int32) * size  # int32: epochs * n below 2^31 (checked)
    positions = start + jnp.arange(size, dtype=jnp.int32)
    first = start // num_examples
    passes = positions // num_examples
    orders = [permutation(epoch_key(train_key, first + i), num_examples) for i in (0, 1)]
    offset = positions % num_examples
    order = jnp.where(passes == first, orders[0][offset], orders[1][offset])
    return order.reshape(nb, batch_size), jnp.ones((nb, batch_size), bool)


def batch_plan(
    train_key: jax.Array,
    epoch: int | jax.Array,
    num_examples: int,
    batch_size: int,
    remainder: str = "pad",
) -> tuple[jax.Array, jax.Array]:
    """Epoch `epoch`'s index batches and mask in one of the three remainder modes: "pad"
    and "drop" cut the permutation of `epoch_key(train_key, epoch)`; "roll" takes the
    epoch's share of the stream of passes (`rolled_indices`). A function of (train_key,
    epoch) alone, so every driver and a resumed run draw the same batches."""
    if remainder == "roll":
        return rolled_indices(train_key, epoch, num_examples, batch_size)
    key = epoch_key(train_key, epoch)
    return epoch_indices(key, num_examples, batch_size, remainder == "drop")


MAX_POSITION = 2**31 - 1  # a roll epoch counts stream positions in int32


def check_plan(num_examples: int, batch_size: int, remainder: str, epochs: int) -> None:
    """Before a run: `batch_size` can cut `num_examples` in this mode, and a roll run's
    stream of positions (epochs x examples) fits in int32."""
    check_batch_size(num_examples, batch_size, remainder != "pad")
    if batch_size > num_examples:
        raise ArgumentError(
            f"batch_size {batch_size} is larger than the {num_examples} examples: use at "
            f"most {num_examples}"
        )
    if remainder == "roll" and epochs * num_examples > MAX_POSITION:
        raise ArgumentError(
            f"a roll epoch over {num_examples} examples counts positions in int32: at most "
            f"{MAX_POSITION // num_examples} epochs, got {epochs}; use fewer or remainder='pad'"
        )


def host_batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    *,
    seed: int | None = 0,
    drop_remainder: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """d2l's data_iter: yield (X, y) numpy batches in a shuffled order (seed None: in order).

    The last batch is smaller unless `drop_remainder`.
    """
    n = len(X)
    if len(y) != n:
        raise ArgumentError(f"X has {n} examples but y has {len(y)}")
    nb = num_batches(n, batch_size, drop_remainder)
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    for i in range(nb):
        idx = order[i * batch_size : (i + 1) * batch_size]
        yield X[idx], y[idx]


def kfold_weights(num_examples: int, num_folds: int) -> tuple[jax.Array, jax.Array]:
    """K-fold cross-validation as example weights over the same arrays (d2l 4.4.3.2): no
    re-slicing, so every fold has the same shapes and all K train as one vmapped program.

    Returns (train_weights, val_weights), each [num_folds, num_examples] float32.

    Row k of `train_weights` is 0 on fold k (its validation examples) and 1 elsewhere;
    `val_weights` is its complement. The folds are contiguous and every example is in
    exactly one validation fold. Pass a row as the third element of `fit`'s
    `train=(X, y, w)` and `test=(X, y, w)`, or vmap `make_train`'s `train` over the rows
    for all K folds in one program.

    Raises:
      ValueError: `num_folds` < 2, or more folds than examples.
    """
    checks.integer(num_examples, "num_examples", minimum=1)
    checks.integer(num_folds, "num_folds", minimum=2)
    if num_folds > num_examples:
        raise ArgumentError(
            f"num_folds {num_folds} is larger than the {num_examples} examples: every fold "
            "needs at least one"
        )
    fold_of = (jnp.arange(num_examples) * num_folds) // num_examples
    train = (fold_of[None, :] != jnp.arange(num_folds)[:, None]).astype(jnp.float32)
    return train, 1.0 - train
