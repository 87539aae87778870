"""Data parallelism over devices and processes with `jax.sharding`: no hand-written collectives.

The scheme shards the *index sequence*, not the data set: every device holds the training
split (Fashion-MNIST is 47 MB as uint8) and the parameters replicated, every process draws
the same global permutation from the same key, and each global batch of indices is sharded
along the mesh's data axis, so each device gathers and trains on its own rows and XLA
inserts the gradient all-reduce. 1 device, 4 devices or 2 processes x 2 devices then train
to the same parameters, up to the order of float additions. (`search.trials.TrialParallel`
shards a stack of vmapped trials instead.)
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from jaxd2l.checks.errors import ArgumentError

AXIS = "data"


def make_mesh(num_devices: int | None = None) -> Mesh:
    """A 1-D mesh named "data" over the first `num_devices` devices (default: all of them,
    over every process). With several processes the count is global."""
    available = jax.device_count()
    n = available if num_devices is None else num_devices
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= available:
        platform = jax.devices()[0].platform
        hint = " (on a CPU, `cpu_devices` N asks JAX for N devices)" if platform == "cpu" else ""
        raise ArgumentError(
            f"`devices` must be an int in [1, {available}]: JAX sees {available} {platform} "
            f"device(s), got {num_devices!r}{hint}"
        )
    if jax.process_count() > 1 and n % jax.process_count():
        raise ArgumentError(
            f"devices {n} must be a multiple of the {jax.process_count()} processes, so each "
            "process holds the same number of devices"
        )
    return Mesh(np.array(jax.devices()[:n]), (AXIS,))


def check_batch_divides(batch_size: int, num_devices: int, name: str = "batch_size") -> None:
    """A global batch must split evenly over the devices; say which sizes would."""
    if batch_size % num_devices:
        lower = batch_size - batch_size % num_devices
        upper = lower + num_devices
        options = f"{lower} or {upper}" if lower else f"{upper}"
        raise ArgumentError(
            f"{name} {batch_size} does not divide over {num_devices} devices: use a multiple "
            f"of {num_devices} such as {options}"
        )


def place_leaf(x: Any, sharding: NamedSharding) -> jax.Array:
    """One leaf laid out as `sharding` (PRNG keys through their raw data)."""
    if jax.dtypes.issubdtype(getattr(x, "dtype", np.float32), jax.dtypes.prng_key):
        data = place_leaf(jax.random.key_data(x), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    if jax.process_count() == 1:
        return jax.device_put(x, sharding)
    # Across processes a global array is built from each process's (identical) copy, every
    # device taking its slice of it.
    full = np.asarray(jax.device_get(x))
    return jax.make_array_from_callback(full.shape, sharding, lambda index: full[index])


@dataclasses.dataclass(frozen=True)
class DataParallel:
    """Batches sharded over the mesh's data axis; params, optimizer state and data replicated."""

    mesh: Mesh

    @property
    def num_devices(self) -> int:
        return self.mesh.size

    def replicate(self, tree: Any) -> Any:
        """Every leaf on every device of the mesh (PRNG keys included)."""
        sharding = NamedSharding(self.mesh, P())
        return jax.tree.map(lambda x: place_leaf(x, sharding), tree)

    def place_state(self, state: Any) -> Any:
        return self.replicate(state)

    def to_host(self, tree: Any) -> Any:
        """Numpy copies of arrays however they are sharded (across processes too: they are
        first replicated, so every process gets the whole value)."""
        if jax.process_count() > 1:
            tree = jax.jit(lambda t: t, out_shardings=NamedSharding(self.mesh, P()))(tree)
        return jax.device_get(tree)

    def place_data(self, tree: Any) -> Any:
        return self.replicate(tree)

    def constrain_batches(self, x: jax.Array) -> jax.Array:
        """Index or mask batches [num_batches, B]: B sharded over the devices (in jit)."""
        return jax.lax.with_sharding_constraint(x, NamedSharding(self.mesh, P(None, AXIS)))

    def check_batch_size(self, batch_size: int, name: str = "batch_size") -> None:
        check_batch_divides(batch_size, self.num_devices, name)


def data_parallel(num_devices: int | None = None) -> DataParallel:
    return DataParallel(make_mesh(num_devices))
