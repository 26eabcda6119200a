"""Save and load parameters and training checkpoints, without pickle.

Both kinds of file are `.npz` archives (zip files of `.npy` arrays) written
and read with `allow_pickle=False`, so reading one can never run code:

- a **parameter file** (`save_params`) holds one array per
  `"target/key"` and is readable with `numpy.load` alone;
- a **checkpoint** (`save_checkpoint`) holds the leaves of a pytree as
  `0.npy`, `1.npy`, ... and a `meta.json` member: the format and its
  version, the tree's structure (containers, keys, each leaf's shape and
  dtype) and free metadata (epoch, RNG state, seed, data fingerprint, training
  config). `load_checkpoint` checks the structure against a template and
  the metadata against what the caller expects *before* it reads an array, and
  names the file and what differs.

Every write is atomic: the file is written beside its destination, flushed to
disk (`fsync`), then renamed over it, so an interrupted save never leaves a
truncated file or loses the previous one. Pickled checkpoints (neurosim before
format 2) are refused, not read: unpickling a crafted file runs its code.

Optimiser state is saved as data; the optimiser itself is not (optax
transforms are closures). Two learning rates therefore give checkpoints of the
same structure: record what made a run (learning rate, optimiser name) in the
metadata, as `fit(config=...)` does, so that a resume with other settings is
refused.

The package: `params` (parameter files), `checkpoint` (checkpoints, their
metadata and checks), `_tree` (a pytree's structure as JSON) and `_archive`
(the format's constants, `CheckpointError`, atomic writes and pickle-free
`.npz` archives).
"""

from ._archive import CHECKPOINT_FORMAT as CHECKPOINT_FORMAT
from ._archive import CHECKPOINT_VERSION as CHECKPOINT_VERSION
from ._archive import META_NAME as META_NAME
from ._archive import MSG_PICKLE as MSG_PICKLE
from ._archive import CheckpointError as CheckpointError
from .checkpoint import checkpoint_meta as checkpoint_meta
from .checkpoint import data_fingerprint as data_fingerprint
from .checkpoint import load_checkpoint as load_checkpoint
from .checkpoint import save_checkpoint as save_checkpoint
from .params import load_params as load_params
from .params import save_params as save_params

__all__ = [
    "CheckpointError",
    "checkpoint_meta",
    "data_fingerprint",
    "load_checkpoint",
    "load_params",
    "save_checkpoint",
    "save_params",
]
