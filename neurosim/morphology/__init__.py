"""Cell morphologies and the cable equation, discretised as jaxley 0.14 does.

A `Morphology` is a frozen description of one cell: a tree of branches
(`parents[k]` is branch `k`'s parent, `-1` for the root), each split into
`ncomp[k]` compartments. Per-compartment quantities are flat arrays of length
`n_comp` in **branch-major order**, compartment `0` of a branch at its start
(location 0, where it joins its parent) and compartment `ncomp - 1` at its end
(location 1, where its children join): compartment `j` of branch `k` is
`comp_start[k] + j`. This is jaxley's `global_comp_index`.

Units (jaxley's): length and radius µm, axial resistivity `r_a` Ω·cm,
capacitance µF/cm², area µm², resistive load (`∫ dl / (π r²)` over half a
compartment) 1/µm, coupling constants 1/ms.

Discretisation (jaxley 0.14, `jaxley/utils/morph_attributes.py`):

* a hand-built compartment is a cylinder: area `2 π r l`, and each half has
  the resistive load `(l / 2) / (π r²)`; a compartment read from an SWC file
  keeps jaxley's frustum area and its loads integrated along the traced points;
* two neighbouring compartments `i` and `j` of a branch are joined by the two
  half-compartments in series, each with its own radius and resistivity:
  `R_ij = r_a[i] load_out[i] + r_a[j] load_in[j]` (Ω·cm/µm), never an averaged
  radius;
* where a branch has children, a massless branch point joins its last
  compartment (through that compartment's distal half) and each child's first
  compartment (through its proximal half). The branch point carries no current
  of its own, so its voltage is the conductance-weighted mean of its neighbours;
  it is an unknown of the same linear system, not a direct link between
  compartments.

The membrane equation per compartment is `C dv/dt = -a_lin v + b + axial`
(µA/cm² on both sides), so a conductance `G = 1 / R` (S·µm/cm) between
compartment `i` and a neighbour `j` adds
`g_i = G / (area_i C_i) · 1e7` (1/ms) to `dv_i/dt = ... + g_i (v_j - v_i)`:
`1/(Ω·cm/µm) / µm² = S/(cm·µm) = 1e4 S/cm² = 1e7 mS/cm²`, and
`mS/cm² / (µF/cm²) = 1/ms`. External and synaptic currents in nA convert to
µA/cm² with `1e5 / area` (`NA_TO_UA_PER_CM2`).

`solve` takes one backward-Euler step of the whole cell (every
compartment and branch point) for the linearised membrane terms
`dv/dt = -a v + b + axial` (`a` in 1/ms, `b` in mV/ms, both already
divided by the capacitance, as `neurosim.engine.solvers.bwd_euler`).

This module imports nothing from the engine or the network description.
"""

from .cable import AXIAL_TO_PER_MS as AXIAL_TO_PER_MS
from .cable import NA_TO_UA_PER_CM2 as NA_TO_UA_PER_CM2
from .cable import Coupling as Coupling
from .cable import areas as areas
from .cable import coupling as coupling
from .cable import solve as solve
from .cell import DEFAULTS as DEFAULTS
from .cell import Morphology as Morphology

__all__ = [
    "AXIAL_TO_PER_MS",
    "Coupling",
    "DEFAULTS",
    "Morphology",
    "NA_TO_UA_PER_CM2",
    "areas",
    "coupling",
    "solve",
]
