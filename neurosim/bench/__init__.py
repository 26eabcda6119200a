"""`neurosim bench`: speed, scale and memory, measured side by side in one run.

Each suite is a module of this package with a function `rows(quick) -> list`
of rows, dicts with the keys `name`, `value` (a number, or None when it could
not be measured: the note says why), `unit`, `goal` and `note`:

| suite     | measures |
|-----------|----------|
| `seed003` | forward and training-epoch speed-ups over jaxley 0.14 (seed 003) |
| `shd`     | the SHD-shape training step vs spyx 1.0 (and jaxpike, sparxml), and the fraction of the machine's f32 matmul rate |
| `scaling` | time per step, all-to-all N = 100 … 8000 and 1 % sparse N up to 10⁵, fitted exponents |
| `build`   | build + compile time and peak memory, 10³ … 10⁶ neurons × 100 random synapses, and jaxley 0.14 on the same |
| `memory`  | one SHD-shape training step at T = 1000, plain and with `remat` |
| `delays`  | a training step with synaptic delays (one per projection, per edge, learnable) against none; gather vs group-by-delay |

Every ratio is taken in one process, the calls interleaved after warm-up;
`quick=True` shrinks every suite to a smoke run of a few seconds.

    >>> from neurosim.bench import SUITES
    >>> "shd" in SUITES
    True
"""

from __future__ import annotations

import importlib
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jax

from ._common import ROW_KEYS, machine

__all__ = ["SUITES", "check_only", "format_table", "run", "write_json"]

# In the order they run.
SUITES: tuple[str, ...] = ("seed003", "shd", "scaling", "build", "memory", "delays")


def check_only(only: str | Sequence[str] | None) -> tuple[str, ...]:
    """The suites to run: all, or those named (a list, or one comma-separated
    string), in the bench's order.

    Raises:
        ValueError: a name that is not a suite.
    """
    if only is None:
        return SUITES
    names = only.split(",") if isinstance(only, str) else list(only)
    names = [n.strip() for n in names if n.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown or not names:
        raise ValueError(
            f"only: unknown suite {', '.join(map(repr, unknown)) or 'none given'}; "
            f"expected one or more of {', '.join(SUITES)} (comma-separated)."
        )
    return tuple(n for n in SUITES if n in names)


def run(
    quick: bool = False,
    only: str | Sequence[str] | None = None,
    progress: Callable[[str], Any] | None = None,
) -> dict:
    """Run the suites and return `{"machine": ..., "quick": ..., "suites":
    {name: {"seconds": s, "rows": [...]}}}`.

    Args:
        quick: a smoke run (small shapes, few repeats).
        only: the suites to run (see `check_only`); default all.
        progress: called with a line as each suite starts (e.g. `print`).
    """
    names = check_only(only)
    result: dict = {"machine": machine(), "quick": bool(quick), "suites": {}}
    # The peers' code (jaxley, spyx) needs JAX's standard promotion rules.
    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
        for name in names:
            if progress is not None:
                progress(f"bench: {name} ...")
            module = importlib.import_module(f"{__name__}.{name}")
            t0 = time.perf_counter()
            rows = module.rows(quick)
            for r in rows:
                missing = set(ROW_KEYS) - set(r)
                if missing:
                    raise ValueError(f"suite {name}: row {r} lacks {sorted(missing)}.")
            result["suites"][name] = {
                "seconds": time.perf_counter() - t0,
                "rows": rows,
            }
    return result


def _value(v: Any) -> str:
    if v is None:
        return "—"
    if not math.isfinite(v):
        return str(v)
    if v == 0 or 0.01 <= abs(v) < 1e5:
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return f"{v:.3g}"


def format_table(result: dict) -> str:
    """The result as one Markdown table, preceded by the machine."""
    m = result["machine"]
    lines = [
        f"machine: {m['cpu']}, {m['cpus']} cpus, {m['backend']} ({m['device']}, "
        f"{m['devices']} device{'s' if m['devices'] > 1 else ''}), jax {m['jax']}, "
        f"{m['dtype']}; allocator: {m['allocator']}"
        + ("; --quick (smoke run, not measurements)" if result.get("quick") else ""),
        "",
        "| suite | measure | value | unit | goal | note |",
        "|---|---|---|---|---|---|",
    ]
    for name, suite in result["suites"].items():
        for r in suite["rows"]:
            note = str(r["note"]).replace("|", "\\|")
            lines.append(
                f"| {name} | {r['name']} | {_value(r['value'])} | {r['unit']} | "
                f"{r['goal']} | {note} |"
            )
    return "\n".join(lines)


def write_json(path: str | Path, result: dict) -> Path:
    """Write `result` as JSON, atomically (beside the file, then renamed)."""
    from ..io._archive import _atomic_write

    text = json.dumps(result, indent=2, allow_nan=True).encode()
    return _atomic_write(Path(path), lambda f: f.write(text))
