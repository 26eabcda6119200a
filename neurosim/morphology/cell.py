"""One cell's morphology: branches, compartments, geometry (see the package)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np

from ..mechanisms.jaxley import standard_promotion
from .system import _System

__all__ = ["DEFAULTS", "Morphology"]

#: jaxley 0.14's compartment defaults (`jaxley/modules/compartment.py`).
DEFAULTS = {
    "length": 10.0,  # µm, per compartment
    "radius": 1.0,  # µm
    "r_a": 5000.0,  # Ω·cm (jaxley's `axial_resistivity`)
    "capacitance": 1.0,  # µF/cm²
}

#: `G / (area · C) · AXIAL_TO_PER_MS` is a coupling in 1/ms for `G` in

_GEOMETRY = ("length", "radius", "r_a", "capacitance")


def _frozen(x: Any) -> np.ndarray:
    arr = np.array(x, dtype=float)
    arr.setflags(write=False)
    return arr


@dataclasses.dataclass(frozen=True, eq=False)
class Morphology:
    """One cell's branches and compartments (frozen; hashable by value).

    Build with `branch`, `chain`, `tree` or `from_swc`
    rather than directly. `length` is the length of each *compartment* (µm),
    as jaxley's `length`, not of a branch.

    Attributes:
        parents: parent branch of each branch, `-1` for the root (branch 0).
            A parent precedes its children.
        ncomp: compartments per branch.
        length: `(n_comp,)` compartment length (µm).
        radius: `(n_comp,)` compartment radius (µm).
        r_a: `(n_comp,)` axial resistivity (Ω·cm).
        capacitance: `(n_comp,)` membrane capacitance (µF/cm²).
        area: `(n_comp,)` membrane area (µm²).
        load_in: `(n_comp,)` resistive load of the proximal half of each
            compartment (1/µm).
        load_out: `(n_comp,)` resistive load of the distal half of each
            compartment (1/µm).
        traced: the area and loads come from an SWC tracing (frusta), not from
            the cylinder rules; `coupling` keeps them unless it is given a
            new radius or length, as jaxley does.
        xyzr: per branch, the traced points `(x, y, z, r)` (µm), for plots;
            empty for hand-built cells.
    """

    parents: tuple[int, ...]
    ncomp: tuple[int, ...]
    length: np.ndarray
    radius: np.ndarray
    r_a: np.ndarray
    capacitance: np.ndarray
    area: np.ndarray
    load_in: np.ndarray
    load_out: np.ndarray
    traced: bool = False
    xyzr: tuple[np.ndarray, ...] = ()

    def __post_init__(self) -> None:
        parents = tuple(int(p) for p in self.parents)
        ncomp = tuple(int(n) for n in self.ncomp)
        if not parents or parents[0] != -1:
            raise ValueError("parents[0] must be -1 (branch 0 is the root)")
        for k, p in enumerate(parents[1:], start=1):
            if not 0 <= p < k:
                raise ValueError(
                    f"branch {k}: parent {p} must be an earlier branch (0..{k - 1})"
                )
        if len(ncomp) != len(parents) or min(ncomp) < 1:
            raise ValueError("ncomp needs one count >= 1 per branch")
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "ncomp", ncomp)
        n = sum(ncomp)
        for key in (*_GEOMETRY, "area", "load_in", "load_out"):
            arr = _frozen(getattr(self, key))
            if arr.shape != (n,):
                raise ValueError(f"{key} has shape {arr.shape}, expected ({n},)")
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise ValueError(f"{key} must be finite and positive")
            object.__setattr__(self, key, arr)
        object.__setattr__(self, "xyzr", tuple(_frozen(x) for x in self.xyzr))

    # -- identity ---------------------------------------------------------------

    @cached_property
    def _key(self) -> tuple:
        arrays = tuple(
            getattr(self, k).tobytes()
            for k in (*_GEOMETRY, "area", "load_in", "load_out")
        )
        return (self.parents, self.ncomp, self.traced, arrays)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Morphology) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        kind = "traced" if self.traced else "cylinders"
        return (
            f"Morphology(n_branches={self.n_branches}, n_comp={self.n_comp}, "
            f"n_branchpoints={self.n_branchpoints}, {kind})"
        )

    # -- constructors -----------------------------------------------------------

    @classmethod
    def tree(
        cls,
        parents: Sequence[int],
        ncomp: int | Sequence[int] = 1,
        length: Any = DEFAULTS["length"],
        radius: Any = DEFAULTS["radius"],
        r_a: Any = DEFAULTS["r_a"],
        capacitance: Any = DEFAULTS["capacitance"],
    ) -> Morphology:
        """A tree of cylindrical branches from a parent list (`-1` for the root).

        `ncomp` is one count for all branches or one per branch. Each of
        `length` (per compartment, µm), `radius` (µm), `r_a` (Ω·cm) and
        `capacitance` (µF/cm²) is a scalar, one value per branch, or one value
        per compartment (branch-major). Defaults are jaxley 0.14's.
        """
        parents = tuple(int(p) for p in parents)
        nb = len(parents)
        counts = (int(ncomp),) * nb if np.ndim(ncomp) == 0 else tuple(ncomp)
        if len(counts) != nb:
            raise ValueError(f"ncomp: {len(counts)} counts for {nb} branches")
        n = sum(counts)

        def per_comp(name: str, value: Any) -> np.ndarray:
            arr = np.asarray(value, dtype=float)
            if arr.ndim == 0:
                return np.full(n, float(arr))
            if arr.shape == (n,):
                return arr.copy()
            if arr.shape == (nb,):
                return np.repeat(arr, counts)
            raise ValueError(
                f"{name}: shape {arr.shape}; give a scalar, ({nb},) per branch "
                f"or ({n},) per compartment"
            )

        geo = {
            "length": per_comp("length", length),
            "radius": per_comp("radius", radius),
            "r_a": per_comp("r_a", r_a),
            "capacitance": per_comp("capacitance", capacitance),
        }
        area, load = _cylinder(np, geo["length"], geo["radius"])
        return cls(
            parents=parents,
            ncomp=counts,
            area=area,
            load_in=load,
            load_out=load,
            **geo,
        )

    @classmethod
    def branch(
        cls,
        ncomp: int = 1,
        length: Any = DEFAULTS["length"],
        radius: Any = DEFAULTS["radius"],
        r_a: Any = DEFAULTS["r_a"],
        capacitance: Any = DEFAULTS["capacitance"],
    ) -> Morphology:
        """One unbranched cable of `ncomp` cylindrical compartments
        (`ncomp = 1`: a point neuron)."""
        return cls.tree([-1], ncomp, length, radius, r_a, capacitance)

    @classmethod
    def chain(
        cls,
        n_branches: int,
        ncomp: int | Sequence[int] = 1,
        length: Any = DEFAULTS["length"],
        radius: Any = DEFAULTS["radius"],
        r_a: Any = DEFAULTS["r_a"],
        capacitance: Any = DEFAULTS["capacitance"],
    ) -> Morphology:
        """`n_branches` branches end to end (parents `-1, 0, 1, ...`), joined
        by branch points; values as in `tree`."""
        parents = list(range(-1, n_branches - 1))
        return cls.tree(parents, ncomp, length, radius, r_a, capacitance)

    @classmethod
    def from_swc(
        cls,
        path: str,
        ncomp: int,
        *,
        min_radius: float | None = None,
        max_branch_len: float | None = None,
        r_a: float = DEFAULTS["r_a"],
        capacitance: float = DEFAULTS["capacitance"],
    ) -> Morphology:
        """Read an SWC file with jaxley 0.14's reader (`jaxley.read_swc`, graph
        backend) and keep its branches, parents, compartment lengths, radii,
        frustum areas and integrated resistive loads, compartment for
        compartment (`global_comp_index` order)."""
        import warnings

        import jaxley as jx

        with warnings.catch_warnings(), standard_promotion():
            warnings.simplefilter("ignore")
            cell = jx.read_swc(
                path, ncomp=ncomp, min_radius=min_radius, max_branch_len=max_branch_len
            )
        nodes = cell.nodes.sort_values("global_comp_index")
        n = len(nodes)
        return cls(
            parents=tuple(int(p) for p in np.asarray(cell.comb_parents)),
            ncomp=tuple(int(c) for c in cell.ncomp_per_branch),
            length=nodes["length"].to_numpy(float),
            radius=nodes["radius"].to_numpy(float),
            r_a=np.full(n, float(r_a)),
            capacitance=np.full(n, float(capacitance)),
            area=nodes["area"].to_numpy(float),
            load_in=nodes["resistive_load_in"].to_numpy(float),
            load_out=nodes["resistive_load_out"].to_numpy(float),
            traced=True,
            xyzr=tuple(np.asarray(x, float) for x in cell.xyzr),
        )

    # -- indexing ---------------------------------------------------------------

    @property
    def n_branches(self) -> int:
        return len(self.parents)

    @property
    def n_comp(self) -> int:
        return int(sum(self.ncomp))

    @cached_property
    def comp_start(self) -> np.ndarray:
        """`(n_branches + 1,)`: branch `k`'s compartments are
        `comp_start[k]:comp_start[k + 1]`."""
        return np.concatenate([[0], np.cumsum(self.ncomp)]).astype(int)

    @cached_property
    def branch_of_comp(self) -> np.ndarray:
        """`(n_comp,)`: the branch of each compartment."""
        return np.repeat(np.arange(self.n_branches), self.ncomp)

    @cached_property
    def branchpoint_parents(self) -> np.ndarray:
        """The branches that have children, one branch point each (jaxley's
        order: by parent branch index)."""
        return np.unique([p for p in self.parents[1:]]).astype(int)

    @property
    def n_branchpoints(self) -> int:
        return len(self.branchpoint_parents)

    def comp(self, branch: int, index: int) -> int:
        """Global index of compartment `index` of `branch` (negative counts
        from the branch's end)."""
        n = self.ncomp[branch]
        if not -n <= index < n:
            raise IndexError(f"branch {branch} has {n} compartments")
        return int(self.comp_start[branch] + (index % n))

    def comp_of(self, branch: int, loc: float) -> int:
        """Global index of the compartment at `loc` (0 = the branch's start,
        1 = its end), as jaxley's `branch(k).loc(loc)`."""
        if not 0 <= branch < self.n_branches:
            raise IndexError(f"no branch {branch} (n_branches={self.n_branches})")
        if not 0.0 <= float(loc) <= 1.0:
            raise ValueError(f"loc must lie in [0, 1], got {loc}")
        n = self.ncomp[branch]
        edges = np.linspace(0, 1 + 1e-10, n + 1)
        return int(self.comp_start[branch] + np.digitize(float(loc), edges) - 1)

    def resolve(self, address: Any, what: str = "comp") -> int:
        """The compartment index of an address: an index within the cell (an
        int), `(branch, j)` (compartment `j` of `branch`, negative from its
        end) or `(branch, loc)` (a float in [0, 1] along `branch`, as
        `comp_of`). Raises `ValueError` (out of range) or `TypeError` (not
        an address) naming `what`.

        Index a recording with it: `rec["pop.v"][..., cell, m.resolve((3, 1.0))]`.
        """
        if _is_int(address):
            if not 0 <= address < self.n_comp:
                raise ValueError(
                    f"{what}: compartment {address} is out of range; the cell has "
                    f"compartments 0..{self.n_comp - 1}."
                )
            return int(address)
        if (
            not isinstance(address, tuple)
            or len(address) != 2
            or not _is_int(address[0])
        ):
            raise TypeError(
                f"{what}: expected a compartment index, (branch, j) with j an int or "
                f"(branch, loc) with loc a float in [0, 1], got {address!r}."
            )
        branch, where = int(address[0]), address[1]
        if not 0 <= branch < self.n_branches:
            raise ValueError(
                f"{what}: branch {branch} of {address!r} is out of range; the cell "
                f"has branches 0..{self.n_branches - 1}."
            )
        n = self.ncomp[branch]
        if _is_int(where):
            if not -n <= where < n:
                raise ValueError(
                    f"{what}: compartment {where} of {address!r} is out of range; "
                    f"branch {branch} has {n} compartments (0..{n - 1}, or negative "
                    "from its end)."
                )
            return self.comp(branch, int(where))
        if isinstance(where, (float, np.floating)):
            if not 0.0 <= float(where) <= 1.0:
                raise ValueError(
                    f"{what}: location {where} of {address!r} is out of range; "
                    "expected a float in [0, 1] along the branch."
                )
            return self.comp_of(branch, float(where))
        raise TypeError(
            f"{what}: expected (branch, j) with j an int or (branch, loc) with loc "
            f"a float in [0, 1], got {address!r}."
        )

    def geometry(self) -> dict[str, np.ndarray]:
        """The four trainable geometry arrays, keyed as `coupling` takes them."""
        return {k: getattr(self, k) for k in _GEOMETRY}

    @cached_property
    def system(self) -> _System:
        """The static structure of the linear system (see `solve`)."""
        return _System.build(self)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _cylinder(xp: Any, length: Any, radius: Any) -> tuple[Any, Any]:
    """Area `2 π r l` (µm²) and half-compartment load `(l/2) / (π r²)` (1/µm)."""
    return 2.0 * xp.pi * radius * length, (length / 2.0) / radius**2 / xp.pi
