"""Data-parallel training over every visible device, with `jax.sharding`.

`fit` calls `data_parallel(batch_size)`: with more than one device it returns
a `DataParallel` whose `batch` sharding splits a mini-batch along its first
axis over a one-dimensional mesh of all devices (`jax.devices()`), and whose
`replicated` sharding puts a whole copy of the parameters and optimiser
state on each. The jitted train step is unchanged: XLA partitions it from the
shardings of its arguments, each device runs its share of the batch, and the
gradients (a mean over the batch) are summed across devices, so one step
equals the single-device step up to the order of floating-point additions.

With several processes (`jax.distributed.initialize()` on each host before
anything else), `jax.devices()` lists the devices of every host and the same
code runs across them; each process must then feed the same global batch.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["DataParallel", "data_parallel"]

AXIS = "batch"


class DataParallel(NamedTuple):
    """The two shardings of data-parallel training over `mesh`."""

    mesh: Mesh
    batch: NamedSharding  # the leading (batch) axis split over the devices
    replicated: NamedSharding  # a full copy on every device

    def shard_batch(self, *arrays: Any) -> tuple:
        return tuple(jax.device_put(a, self.batch) for a in arrays)

    def replicate(self, tree: Any) -> Any:
        return jax.device_put(tree, self.replicated)


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
