"""A fast on-device random permutation for epoch shuffling.

`jax.random.permutation` sorts (key, index) pairs; on XLA's CPU backend a key-value sort of
60,000 elements takes about 27 ms, which was a quarter of a softmax-regression epoch,
while sorting one uint32 array takes about 5 ms. So the keys here are a keyed bijective
hash of the index: they are distinct by construction, a plain sort orders them, and the
index comes back by inverting the hash. The hash is murmur3's 32-bit finaliser (every
step invertible mod 2^32) applied twice around two random 32-bit words of the key; the
orders it gives pass the checks in tests/core/test_shuffle.py (uniform positions, all 24
orders of 4 elements equally often, no correlation between keys).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

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
