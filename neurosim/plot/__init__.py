"""Plots of recordings, parameters, training runs and network structure.

Every function takes plain arrays (numpy, jax or nested lists, read with
`np.asarray`), draws into `ax=` (a new figure when `None`) and returns the
Axes, or the Figure for multi-panel plots. Recordings are batch-major
`(batch, time, neurons)`: a 2-D array is one sample, and a 3-D array needs
`sample=` to pick one. Time is in ms, from `dt` (ms) or `times` (ms, shape
`(time,)`); voltage is in mV. Nothing here calls `plt.show`, so everything
works headless (Agg); `save` writes a PNG and closes the figure.

This package depends on numpy and matplotlib only, never on the engine. One
module per kind of figure: `traces` (voltage traces, output panels, rasters),
`training` (training curves, confusion matrix), `distributions` (parameter
histograms, time constants per layer), `diagram` (network structure) and
`morphology` (a cell's branches);
`_common` holds the shared argument checks, axes handling and `save`.
"""

from ._common import save as save
from .diagram import network_diagram as network_diagram
from .distributions import param_distribution as param_distribution
from .distributions import tau_per_layer as tau_per_layer
from .morphology import morphology as morphology
from .traces import output_panels as output_panels
from .traces import raster as raster
from .traces import rasters as rasters
from .traces import voltage_traces as voltage_traces
from .training import confusion_matrix as confusion_matrix
from .training import training_curves as training_curves

__all__ = [
    "confusion_matrix",
    "morphology",
    "network_diagram",
    "output_panels",
    "param_distribution",
    "raster",
    "rasters",
    "save",
    "tau_per_layer",
    "training_curves",
    "voltage_traces",
]
