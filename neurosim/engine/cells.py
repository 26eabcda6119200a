"""Populations of multi-compartment cells: inputs per compartment and the
per-run constants (areas, capacitances, cable coupling)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array

from ..morphology import Morphology, areas, coupling
from ..network import Network, Population, as_float

__all__ = ["_per_comp", "_prepare_cells"]


def _per_comp(pop: Population, x: Array) -> Array:
    """A population's external input per compartment: `(n,)` (one value per
    cell) enters each cell's spike compartment; `(n * n_comp,)` is already per
    compartment. Point cells: unchanged."""
    if pop.morphology is None or x.shape[-1] != pop.n:
        return x
    flat = jnp.zeros((*x.shape[:-1], pop.n * pop.n_comp), x.dtype)
    return flat.at[..., pop.spike_index].set(x)


def _prepare_cells(net: Network, pop: Population, p: dict) -> dict:
    """Area, capacitance (flat, per compartment) and the cable coupling (per
    cell) of a population of multi-compartment cells."""
    morph: Morphology = pop.morphology
    cells = (pop.n, pop.n_comp)

    def per_cell(k: str) -> Array:  # flat (n * n_comp,) or shared -> (n, n_comp)
        return jnp.broadcast_to(as_float(p[k]), (pop.n * pop.n_comp,)).reshape(cells)

    geo = {k: per_cell(k) for k in ("r_a", "capacitance")}
    # A traced (SWC) cell keeps its frustum areas and integrated loads unless its
    # radius or length was changed or is trained (jaxley's rule).
    stored = morph.traced and all(
        (pop.name, k) not in net.trainable
        and not callable(pop.params[k])
        and np.array_equal(
            np.broadcast_to(pop.params[k], (pop.n * pop.n_comp,)),
            np.tile(getattr(morph, k), pop.n),
        )
        for k in ("radius", "length")
    )
    if not stored:
        geo.update({k: per_cell(k) for k in ("radius", "length")})
    area = areas(morph, geo.get("radius"), geo.get("length"))
    return {
        "area": jnp.broadcast_to(area, cells).reshape(-1),
        "capacitance": geo["capacitance"].reshape(-1),
        "coupling": coupling(morph, **geo),
    }
