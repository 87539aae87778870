"""Epoch batching: shuffle indices first, then cut them into batches (never the reverse).

`epoch_indices` is an epoch on the device with static shapes, for `lax.scan`: every example
once, the last partial batch padded and masked (nothing recompiles), or dropped.
`rolled_indices` is the third way (`remainder="roll"`): the passes form one stream, so the
remainder of one pass fills the first batch of the next. (`data.host_loader.host_batches`
is d2l's `data_iter` on the host.)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

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
    """Index batches [nb, B] int32 and mask [nb, B] bool for one epoch (`key=None`: in
    order). Padding slots, in the last batch only, point at example 0 and are masked out."""
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
