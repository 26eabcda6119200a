"""Data sets and input encoders.

Every public array is batch-major: sequences are `(batch, time, channels)`,
static inputs `(batch, features)`, labels `(batch,)` (or `(batch, time)` for
per-step targets). The encoders turn static inputs into sequences. Every
generator is deterministic given its seed or key. Nothing here imports the
simulator; data sets use numpy (and `jax.random` where a seed task's draws
must be reproduced), encoders use `jax.numpy`.

- `toy`: the seed-003 Poisson task, with the seed's own random draws.
- `delay_lag`, `delay_lag_splits`: two copies of a spike pattern, the class
  their time lag (a task for synaptic delays).
- `mts_xor`, `mts_xor_splits`, `rebin_mts_xor`: multi-time-scale XOR (seed 000)
  and its re-binning to a finer step.
- `yinyang`, `yinyang_splits`: the Yin-Yang data set.
- `digits`: scikit-learn's 8x8 digits.
- `load_mnist_npz`, `load_mnist_idx`: MNIST (bundled subset or IDX files).
- `load_shd`, `download_shd`: the Spiking Heidelberg Digits (seed 004).
- `rate`, `poisson`, `latency`, `constant_current`, `kernel_convolve`: encoders;
  `encode` picks one by name.
- `shifted_copies`: images and their copies moved by one pixel.
"""

from neurosim.datasets._common import Dataset as Dataset
from neurosim.datasets._common import Split as Split
from neurosim.datasets.augment import shifted_copies as shifted_copies
from neurosim.datasets.delay_lag import delay_lag as delay_lag
from neurosim.datasets.delay_lag import delay_lag_splits as delay_lag_splits
from neurosim.datasets.digits import digits as digits
from neurosim.datasets.encoders import constant_current as constant_current
from neurosim.datasets.encoders import encode as encode
from neurosim.datasets.encoders import kernel_convolve as kernel_convolve
from neurosim.datasets.encoders import latency as latency
from neurosim.datasets.encoders import poisson as poisson
from neurosim.datasets.encoders import rate as rate
from neurosim.datasets.mnist import load_mnist_idx as load_mnist_idx
from neurosim.datasets.mnist import load_mnist_npz as load_mnist_npz
from neurosim.datasets.mts_xor import MTS_XOR_EVAL_STEPS as MTS_XOR_EVAL_STEPS
from neurosim.datasets.mts_xor import MtsXor as MtsXor
from neurosim.datasets.mts_xor import mts_xor as mts_xor
from neurosim.datasets.mts_xor import mts_xor_splits as mts_xor_splits
from neurosim.datasets.mts_xor import rebin_mts_xor as rebin_mts_xor
from neurosim.datasets.shd import download_shd as download_shd
from neurosim.datasets.shd import load_shd as load_shd
from neurosim.datasets.toy import ToyTask as ToyTask
from neurosim.datasets.toy import toy as toy
from neurosim.datasets.yinyang import yinyang as yinyang
from neurosim.datasets.yinyang import yinyang_splits as yinyang_splits
