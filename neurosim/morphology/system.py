"""The static structure of a cell's linear system (nodes, levels, edges)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

__all__ = ["_System"]

if TYPE_CHECKING:
    from .cell import Morphology


@dataclasses.dataclass(frozen=True, eq=False)
class _System:
    """Static structure: nodes are the `n_comp` compartments, then one node
    per branch point. The nodes form a tree; `parent[i]` is node `i`'s
    neighbour towards the root (`-1` at the root). `levels[d]` holds the
    nodes at depth `d` (levels[0] = the root)."""

    n_comp: int
    n_nodes: int
    root: int
    parent: np.ndarray
    levels: tuple[np.ndarray, ...]
    # per node i != root: (a, b) for the edge (i, parent[i]) -- which half loads
    # make its resistance (see `coupling`).
    edge_child_comp: np.ndarray  # compartment whose half load lies on the edge, or -1
    edge_child_side: np.ndarray  # 0: load_in, 1: load_out of edge_child_comp
    edge_parent_comp: np.ndarray
    edge_parent_side: np.ndarray
    # (parents, ncomp): the structure depends on nothing else; equal keys give
    # equal systems, so a jitted function does not retrace for an equal cell.
    key: tuple = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _System) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @classmethod
    def build(cls, m: Morphology) -> _System:
        n_comp, nbp = m.n_comp, m.n_branchpoints
        n_nodes = n_comp + nbp
        bp_of_branch = {int(b): n_comp + i for i, b in enumerate(m.branchpoint_parents)}
        # Undirected edges with the half loads they run through:
        # (u, v, comp_u, side_u, comp_v, side_v); side 0 = load_in, 1 = load_out,
        # comp -1 = a branch point (no load).
        edges = []
        for k in range(m.n_branches):
            s, e = m.comp_start[k], m.comp_start[k + 1]
            for j in range(s, e - 1):
                edges.append((j, j + 1, j, 1, j + 1, 0))
            if k in bp_of_branch:
                edges.append((e - 1, bp_of_branch[k], e - 1, 1, -1, 0))
            if m.parents[k] >= 0:
                edges.append((s, bp_of_branch[m.parents[k]], s, 0, -1, 0))
        adj: list[list[tuple]] = [[] for _ in range(n_nodes)]
        for u, v, cu, su, cv, sv in edges:
            adj[u].append((v, cu, su, cv, sv))
            adj[v].append((u, cv, sv, cu, su))

        def bfs(start: int) -> tuple[np.ndarray, np.ndarray, list]:
            depth = np.full(n_nodes, -1)
            depth[start] = 0
            order, info = [start], [None] * n_nodes
            for u in order:
                for v, cu, su, cv, sv in adj[u]:
                    if depth[v] < 0:
                        depth[v] = depth[u] + 1
                        info[v] = (u, cv, sv, cu, su)  # child v, parent u
                        order.append(v)
            return depth, np.asarray(order), info

        # Root the tree at its centre (the middle of a longest path): it halves
        # the number of sequential elimination levels of a long cable.
        d0, _, _ = bfs(0)
        far = int(np.argmax(d0))
        d1, _, info1 = bfs(far)
        other = int(np.argmax(d1))
        path = [other]
        while path[-1] != far:
            path.append(info1[path[-1]][0])
        root = int(path[len(path) // 2])
        depth, _, info = bfs(root)
        parent = np.full(n_nodes, -1)
        ecc, ecs, epc, eps = (np.full(n_nodes, -1) for _ in range(4))
        for v in range(n_nodes):
            if info[v] is not None:
                parent[v], ecc[v], ecs[v], epc[v], eps[v] = info[v]
        levels = tuple(
            np.flatnonzero(depth == d).astype(np.int32)
            for d in range(int(depth.max()) + 1)
        )
        key = (m.parents, m.ncomp)
        return cls(n_comp, n_nodes, root, parent, levels, ecc, ecs, epc, eps, key)
