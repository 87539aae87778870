"""Named PRNG keys: one root key per run, every consumer's key derived by name from here.

Each name is a `fold_in` of the root with a constant owned by this module, so no file
numbers keys by convention. Inside training everything random is a function of (root,
epoch, batch index): epoch e shuffles with `fold_in(keys.train, e)` and batch b of that
epoch gets `batch_key(epoch_key, b)` for dropout. The Python loop, the scanned epoch, the
whole run and a resumed run therefore draw the same numbers, and no RNG state is saved.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

from jaxd2l import checks

# The constants are part of every run's numbers: changing one changes results.
_DATA, _INIT, _TRAIN, _SPLIT, _TRIALS, _GROUPS, _PROBE = 0, 1, 2, 3, 4, 5, 6
_BATCH = 0x6D61736B  # ties a batch's model key to its epoch key, apart from the permutation


class RunKeys(NamedTuple):
    """The keys of one run, by what they are for."""

    root: jax.Array
    """The run's root key (`jax.random.key(seed)`); every other key derives from it."""
    data: jax.Array
    """Synthetic data sets."""
    init: jax.Array
    """Parameter initialisation."""
    train: jax.Array
    """Epoch e shuffles with fold_in(train, e); dropout masks derive from it."""
    split: jax.Array
    """Held-out splits (validation)."""
    trials: jax.Array
    """Drawing hyperparameter trials."""
    groups: jax.Array
    """One key per group of trials (see `group_key`)."""
    probe: jax.Array
    """Side measurements (timings) that must not disturb the run."""

    def group_key(self, *shape: int) -> jax.Array:
        """A key per group of trials from the ints that name it, e.g. (hidden, batch_size):
        nested `fold_in` calls, so no two groups can share a key."""
        key = self.groups
        for value in shape:
            key = jax.random.fold_in(key, value)
        return key


def run_keys(seed: int | jax.Array) -> RunKeys:
    """Every key of a run, by name, from one seed: an int, or a root key from
    `jax.random.key(seed)` (then jit- and vmap-able). Each key is a `fold_in` of the root
    with a constant this module owns; a seed that is neither an int nor one key is refused."""
    if checks.is_key(seed):
        checks.key(seed, "seed")
        root = seed
    else:
        root = jax.random.key(checks.integer(seed, "seed", minimum=-(2**63), maximum=2**64 - 1))
    named = (_DATA, _INIT, _TRAIN, _SPLIT, _TRIALS, _GROUPS, _PROBE)
    return RunKeys(root, *(jax.random.fold_in(root, n) for n in named))


def epoch_key(train_key: jax.Array, epoch: int | jax.Array) -> jax.Array:
    """Epoch e's key: its permutation, and the parent of its batches' keys."""
    return jax.random.fold_in(train_key, epoch)


def batch_key(epoch_key: jax.Array, batch: int | jax.Array) -> jax.Array:
    """Batch b's model key (dropout masks) within the epoch whose key is `epoch_key`."""
    return jax.random.fold_in(jax.random.fold_in(epoch_key, _BATCH), batch)
