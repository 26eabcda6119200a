"""Data-parallel training over every visible device, with `jax.sharding`.

`fit` calls `data_parallel(batch_size)`: with more than one device it returns
a `DataParallel` whose `batch` sharding splits a mini-batch along its first
axis over a one-dimensional mesh of all devices (`jax.devices()`), and whose
`replicated` sharding puts a whole copy of the parameters and optimiser
state on each. The jitted train step is unchanged: XLA partitions it from the
shardings of its arguments, each device runs its share of the batch, and the
gradients (a mean over the batch) are summed across devices, so one step
equals the single-device step up to the order of floating-point additions.

Across hosts (`jax.distributed.initialize()` in every process, first),
`jax.devices()` lists every host's devices and the same shardings span them:
build each global batch from each process's rows with
`jax.make_array_from_process_local_data(dp.batch, rows)` and call the pure
step (`make_train_step`) yourself; `fit` itself runs in one process
(`fit_devices`) since it reads losses and parameters back on the host.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["DataParallel", "data_parallel", "fit_devices"]

AXIS = "batch"


class DataParallel(NamedTuple):
    """The two shardings of data-parallel training over `mesh`."""

    mesh: Mesh
    batch: NamedSharding  # the leading (batch) axis split over the devices
    replicated: NamedSharding  # a full copy on every device

    def shard_batch(self, *arrays: Any) -> tuple:
        """Whole batches (the same on every process) split over the mesh."""
        return tuple(_put(a, self.batch) for a in arrays)

    def replicate(self, tree: Any) -> Any:
        """A copy of every leaf of `tree` (the same on every process) on
        every device."""
        return jax.tree_util.tree_map(lambda a: _put(a, self.replicated), tree)


def _put(a: Any, sharding: NamedSharding) -> jax.Array:
    if jax.process_count() == 1:
        return jax.device_put(a, sharding)
    a = np.asarray(a)  # each process fills its own devices from the same values
    return jax.make_array_from_callback(a.shape, sharding, lambda index: a[index])


def data_parallel(batch_size: int, devices: list | None = None) -> DataParallel | None:
    """The shardings for splitting batches of `batch_size` over `devices`
    (default: all visible ones), or None with a single device.

    Raises:
        ValueError: `batch_size` is not a multiple of the number of devices
            (each device must get an equal share).
    """
    devices = jax.devices() if devices is None else list(devices)
    if len(devices) <= 1:
        return None
    if batch_size % len(devices):
        raise ValueError(
            f"batch_size: {batch_size} samples cannot be split evenly over the "
            f"{len(devices)} visible devices (data-parallel training gives each "
            f"an equal share); pass a multiple of {len(devices)}, or make fewer "
            "devices visible (e.g. CUDA_VISIBLE_DEVICES)."
        )
    mesh = Mesh(np.asarray(devices), (AXIS,))
    return DataParallel(
        mesh,
        NamedSharding(mesh, PartitionSpec(AXIS)),
        NamedSharding(mesh, PartitionSpec()),
    )


def fit_devices(batch_size: int) -> DataParallel | None:
    """`fit`'s shardings: all devices of this one process (`data_parallel`).

    Raises:
        RuntimeError: several processes (`jax.distributed`): `fit` reads
            losses and parameters back on one host; step with
            `make_train_step` and `data_parallel` instead.
        ValueError: see `data_parallel`.
    """
    if jax.process_count() > 1:
        raise RuntimeError(
            f"fit: runs in one process, but this is process "
            f"{jax.process_index()} of {jax.process_count()} (jax.distributed); "
            "call make_train_step's step with neurosim.train.parallel.data_parallel "
            "shardings instead (see the README's 'Several devices and hosts')."
        )
    return data_parallel(batch_size)
