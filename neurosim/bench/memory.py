"""Memory of one long training step: T = 1000, plain and with `remat`.

The SHD shape (`shd.FULL`: 256-128-128-20 recurrent LIF, batch 256, Adam) over
1000 steps, compiled plainly and with `compile(..., remat=True)` (each step
recomputed in the backward pass). Two measures of each:

- the compiled step's temporary bytes (`compiled.memory_analysis()`), XLA's
  own count of what the step holds beyond its arguments and results;
- the peak resident set size of the fresh process that builds, compiles and
  runs that one step (`python -m neurosim.bench.memory QUICK STEPS REMAT`,
  which also reports the first measure), interpreter, JAX and compiler
  included; its peak just before the step runs is given beside it.

The goal: `remat` needs at most a quarter of the plain step's temporaries.
"""

from __future__ import annotations

import dataclasses
import json
import sys

from ._common import available_bytes, max_rss_bytes, missing_row, row, run_child

STEPS = 1000


def _shape(quick: bool, steps: int):
    from .shd import FULL, QUICK

    return dataclasses.replace(QUICK if quick else FULL, steps=steps)


def compiled_step(quick: bool, steps: int, remat: bool):
    """`(compiled, args)`: the SHD-shape training step, lowered and compiled."""
    from .shd import data, neurosim_step

    shape = _shape(quick, steps)
    x, y = data(shape)
    built = neurosim_step(shape, x, y, remat=remat)
    return built.step.lower(*built.args).compile(), built.args


def child(quick: bool, steps: int, remat: bool) -> dict:
    """Compile the step and run it once in this (fresh) process."""
    import jax

    compiled, args = compiled_step(quick, steps, remat)
    temp = int(compiled.memory_analysis().temp_size_in_bytes)
    before = max_rss_bytes()
    free = available_bytes()
    if temp > 0.7 * free:  # a shared machine: do not push others out
        why = f"not run: needs {temp / 2**30:.1f} GiB, {free / 2**30:.1f} GiB available"
        return {"temp": temp, "before": before, "peak": None, "skipped": why}
    jax.block_until_ready(compiled(*args))
    return {"temp": temp, "before": before, "peak": max_rss_bytes()}


def rows(quick: bool) -> list[dict]:
    steps = 50 if quick else STEPS
    shape = _shape(quick, steps)
    what = f"{shape.sizes()}, batch {shape.batch}, T = {steps}"
    got = {}
    for remat in (False, True):
        args = [str(int(quick)), str(steps), str(int(remat))]
        got[remat] = run_child(__name__, args, timeout=300 if quick else 900)
    out = []
    for key, measure, unit_note in (
        (
            "temp",
            "compiled temporaries",
            "compiled.memory_analysis().temp_size_in_bytes",
        ),
        ("peak", "max RSS of a fresh process", "the whole process (VmHWM)"),
    ):
        for remat in (False, True):
            name = f"memory T={steps} {'remat' if remat else 'plain'}: {measure}"
            if isinstance(got[remat], str) or got[remat][key] is None:
                why = (
                    got[remat] if isinstance(got[remat], str) else got[remat]["skipped"]
                )
                out.append(missing_row(name, "MiB", "", why))
                continue
            note = f"{what}; {unit_note}"
            if key == "peak":
                note += (
                    f"; {got[remat]['before'] / 2**20:.0f} MiB before the step ran "
                    "(imports, build, compile)"
                )
            out.append(row(name, got[remat][key] / 2**20, "MiB", "", note))
        if not any(isinstance(g, str) or g[key] is None for g in got.values()):
            out.append(
                row(
                    f"memory T={steps}: remat / plain {measure}",
                    got[True][key] / got[False][key],
                    "x",
                    "<= 0.25x" if key == "temp" else "",
                    "the remat step's share of the plain step's"
                    + (" temporaries" if key == "temp" else " peak, whole processes"),
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
