"""Memory of one long training step: T = 1000, plain and with `remat`.

The SHD shape (`shd.FULL`: 256-128-128-20 recurrent LIF, batch 256, Adam) over
1000 steps, compiled plainly and with `compile(..., remat=True)` (each step
recomputed in the backward pass). Two measures of each:

- the compiled step's temporary bytes (`compiled.memory_analysis()`), XLA's
  own count of what the step holds beyond its arguments and results;
- the peak resident set size of a fresh process that builds, compiles and
  runs that one step (`python -m neurosim.bench.memory STEPS REMAT`), which
  includes the interpreter, JAX and the compiler; its size just before the
  step runs is given beside it.

The goal: `remat` needs at most a quarter of the plain step's temporaries.
"""

from __future__ import annotations

import dataclasses
import json
import sys

from ._common import max_rss_bytes, missing_row, row, run_child

STEPS = 1000


def _shape(quick: bool, steps: int):
    from .shd import FULL, QUICK

    return dataclasses.replace(QUICK if quick else FULL, steps=steps)


def compiled_step(quick: bool, steps: int, remat: bool):
    """`(compiled, args)`: the SHD-shape training step, lowered and compiled."""
    from .shd import data, neurosim_step

    shape = _shape(quick, steps)
    x, y = data(shape)
    step, args = neurosim_step(shape, x, y, remat=remat)
    return step.lower(*args).compile(), args


def temp_bytes(quick: bool, steps: int, remat: bool) -> int:
    compiled, _ = compiled_step(quick, steps, remat)
    return int(compiled.memory_analysis().temp_size_in_bytes)


def child(quick: bool, steps: int, remat: bool) -> dict:
    """Compile and run the step once in this (fresh) process."""
    import jax

    compiled, args = compiled_step(quick, steps, remat)
    before = max_rss_bytes()
    jax.block_until_ready(compiled(*args))
    return {"before": before, "peak": max_rss_bytes()}


def rows(quick: bool) -> list[dict]:
    steps = 50 if quick else STEPS
    what = f"{_shape(quick, steps).sizes()}, batch {_shape(quick, steps).batch}, T = {steps}"
    temps = {remat: temp_bytes(quick, steps, remat) for remat in (False, True)}
    out = []
    for remat in (False, True):
        label = "remat" if remat else "plain"
        out.append(
            row(
                f"memory T={steps} {label}: compiled temporaries",
                temps[remat] / 2**20,
                "MiB",
                "",
                f"{what}; compiled.memory_analysis().temp_size_in_bytes",
            )
        )
    out.append(
        row(
            f"memory T={steps}: remat / plain temporaries",
            temps[True] / temps[False],
            "x",
            "<= 0.25x",
            "fraction of the plain step's temporaries that the remat step holds",
        )
    )
    peaks = {}
    for remat in (False, True):
        label = "remat" if remat else "plain"
        name = f"memory T={steps} {label}: max RSS of a fresh process"
        args = [str(int(quick)), str(steps), str(int(remat))]
        got = run_child(__name__, args, timeout=120 if quick else 900)
        if isinstance(got, str):
            out.append(missing_row(name, "MiB", "", got))
            continue
        peaks[remat] = got["peak"]
        out.append(
            row(
                name,
                got["peak"] / 2**20,
                "MiB",
                "",
                f"{got['before'] / 2**20:.0f} MiB before the step ran (imports, "
                "build, compile)",
            )
        )
    if len(peaks) == 2:
        out.append(
            row(
                f"memory T={steps}: remat / plain max RSS",
                peaks[True] / peaks[False],
                "x",
                "",
                "whole processes, interpreter and compiler included",
            )
        )
    return out


if __name__ == "__main__":  # python -m neurosim.bench.memory QUICK STEPS REMAT
    quick, steps, remat = (
        bool(int(sys.argv[1])),
        int(sys.argv[2]),
        bool(int(sys.argv[3])),
    )
    print(json.dumps(child(quick, steps, remat)))
