"""What every suite shares: rows, interleaved timing, the machine and its
allocator, the sustained matmul rate, and fresh child processes."""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

ROW_KEYS = ("name", "value", "unit", "goal", "note")

# Environment variables that change how memory is allocated or how XLA runs.
ALLOCATOR_VARS = ("LD_PRELOAD", "XLA_FLAGS")
# glibc malloc kept from returning large blocks to the system (fewer page faults
# on big per-call temporaries): the setting the bench also measures under.
RETAINING_MALLOC = {
    "MALLOC_MMAP_THRESHOLD_": str(2**30),
    "MALLOC_TRIM_THRESHOLD_": str(2**32),
    "MALLOC_TOP_PAD_": str(2**28),
}
ALLOCATOR_PREFIXES = ("MALLOC_", "GLIBC_TUNABLES", "JEMALLOC", "TCMALLOC", "XLA_")


def row(name: str, value: Any, unit: str = "", goal: str = "", note: str = "") -> dict:
    """One line of the table: `value` a number, or None when not measured
    (the note says why)."""
    if value is not None:
        value = float(value)
    return {"name": name, "value": value, "unit": unit, "goal": goal, "note": note}


def missing_row(name: str, unit: str, goal: str, why: str) -> dict:
    """A row for something that could not be measured here (a peer that does
    not install, a size past the budget): no value, and the reason."""
    return row(name, None, unit, goal, why)


def allocator() -> dict[str, str]:
    """The allocator settings in effect: the C library, and every environment
    variable that changes allocation or XLA (an empty dict: glibc defaults)."""
    libc = " ".join(platform.libc_ver()).strip() or "unknown libc"
    env = {
        k: v
        for k, v in sorted(os.environ.items())
        if k in ALLOCATOR_VARS or k.startswith(ALLOCATOR_PREFIXES)
    }
    return {"libc": libc, **env}


def allocator_line() -> str:
    alloc = allocator()
    libc = alloc.pop("libc")
    settings = ", ".join(f"{k}={v}" for k, v in alloc.items())
    return f"{libc} malloc" + (
        f" with {settings}" if settings else ", default settings"
    )


def machine() -> dict[str, Any]:
    """The machine the bench ran on, in numbers and words."""
    dev = jax.devices()[0]
    return {
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "backend": dev.platform,
        "device": getattr(dev, "device_kind", str(dev)),
        "devices": jax.device_count(),
        "dtype": "float64" if jax.config.jax_enable_x64 else "float32",
        "allocator": allocator_line(),
    }


def seconds(t: float) -> str:
    """A duration in words: `0.697 s`, `4.29 ms`."""
    return f"{t:.3g} s" if t >= 0.1 else f"{1e3 * t:.3g} ms"


def cpu_seconds() -> float:
    """User + system CPU time of this process (all threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class Timing:
    first: float  # s, the first call (trace + compile + run)
    wall: float  # s, median wall time of the timed calls
    cpu: float  # s, median process CPU time of the timed calls
    out: Any  # the result of the last call


def time_call(fn: Callable, *args, repeats: int, warmup: int = 1) -> Timing:
    """Time `fn(*args)`: the first call, `warmup` more, then `repeats` timed
    calls, each waited for with `jax.block_until_ready`.

    The CPU time is reported beside the wall time because it moves less when
    other processes share the cores.
    """
    return interleaved({"f": (fn, args)}, repeats=repeats, warmup=warmup)["f"]


def interleaved(
    calls: Mapping[str, tuple[Callable, tuple]], *, repeats: int, warmup: int = 4
) -> dict[str, Timing]:
    """Time several calls side by side: each is called once (compiling) and
    `warmup` more times, then `repeats` rounds call each once in turn, so that
    a change of machine load touches all of them alike. Medians per call."""
    first, out = {}, {}
    for name, (fn, args) in calls.items():
        t0 = time.perf_counter()
        out[name] = jax.block_until_ready(fn(*args))
        first[name] = time.perf_counter() - t0
        for _ in range(warmup):
            jax.block_until_ready(fn(*args))
    walls: dict[str, list] = {k: [] for k in calls}
    cpus: dict[str, list] = {k: [] for k in calls}
    for _ in range(repeats):
        for name, (fn, args) in calls.items():
            c0, t0 = cpu_seconds(), time.perf_counter()
            out[name] = jax.block_until_ready(fn(*args))
            walls[name].append(time.perf_counter() - t0)
            cpus[name].append(cpu_seconds() - c0)
    return {
        k: Timing(
            first[k], statistics.median(walls[k]), statistics.median(cpus[k]), out[k]
        )
        for k in calls
    }


def matmul_rate(n: int, repeats: int) -> float:
    """The machine's sustained float32 matrix-product rate, FLOP/s: the median
    of `repeats` timed `(n, n) @ (n, n)` products (after warm-up), `2 n³`
    FLOPs each."""
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.float32)
    t = time_call(jax.jit(jnp.matmul), a, b, repeats=repeats, warmup=2)
    return 2.0 * n**3 / t.wall


def fit_exponent(x: list[float], y: list[float]) -> float:
    """The slope of `log y` against `log x` (least squares)."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def other_allocator() -> tuple[dict[str, str | None], str]:
    """The environment changes that switch to the allocator setting this
    process does not run under (glibc defaults <-> `RETAINING_MALLOC`), and
    that setting in words."""
    if any(k.startswith("MALLOC_") for k in os.environ):
        return {
            k: None for k in os.environ if k.startswith("MALLOC_")
        }, "glibc defaults"
    words = ", ".join(f"{k}={v}" for k, v in RETAINING_MALLOC.items())
    return dict(RETAINING_MALLOC), words


def run_child(
    module: str,
    args: list[str],
    timeout: float,
    env: Mapping[str, str | None] | None = None,
) -> dict | str:
    """Run `python -m module args` in a fresh process with this environment
    (changed by `env`: None removes a variable); its last stdout line is a
    JSON object, returned. A timeout or a failure gives a short string saying
    what happened instead."""
    cmd = [sys.executable, "-m", module, *args]
    child_env = dict(os.environ)
    for k, v in (env or {}).items():
        if v is None:
            child_env.pop(k, None)
        else:
            child_env[k] = v
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=child_env,
        )
    except subprocess.TimeoutExpired:
        return f"did not finish in {timeout:.0f} s"
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"failed ({tail[:160]})"
    return json.loads(lines[-1])


def _status_bytes(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise OSError(f"/proc/self/status has no {field}")


def max_rss_bytes() -> int:
    """This process's peak resident set size so far, bytes: `VmHWM` on Linux
    (`getrusage`'s `ru_maxrss` would carry the parent's peak across the
    fork of a child process)."""
    try:
        return _status_bytes("VmHWM")
    except OSError:  # not Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# A generous bound on what one synapse costs while a network is built, compiled
# and run (edge arrays, their checks and copies, weights, per-edge temporaries).
BYTES_PER_SYNAPSE = 100


def available_bytes() -> int:
    """Memory the system can give without swapping (`MemAvailable`), bytes."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 2**62  # unknown: no limit


def too_big(synapses: int) -> str:
    """Why a network of `synapses` is not built on this machine now (it could
    take more than 70 % of the available memory, on a machine that may be
    shared), or "" when it fits."""
    need, free = synapses * BYTES_PER_SYNAPSE, available_bytes()
    if need <= 0.7 * free:
        return ""
    return (
        f"skipped: {synapses:.3g} synapses may need ~{need / 2**30:.1f} GiB, "
        f"{free / 2**30:.1f} GiB available"
    )


def rss_bytes() -> int:
    """This process's resident set size now, bytes (Linux; else the peak)."""
    try:
        return _status_bytes("VmRSS")
    except OSError:
        return max_rss_bytes()


def finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)
