"""`neurosim bench`: one table and a JSON file; every suite's rows well formed,
ratios finite and positive; a missing peer is a row, not a crash; misuse
exits 2 with one line.

The `--quick` run is a smoke run of the machinery (small shapes, few
repeats); its numbers are not measurements and are not checked beyond
being finite and positive."""

import json
import math
import os
import subprocess
import sys

import jax
import pytest

from neurosim import bench
from neurosim.bench import _common
from neurosim.cli import main

ROW_KEYS = {"name", "value", "unit", "goal", "note"}


def _check_rows(result, suites):
    assert list(result["suites"]) == list(suites)
    for name in suites:
        rows = result["suites"][name]["rows"]
        assert rows, name
        for r in rows:
            assert set(r) == ROW_KEYS, r
            if r["value"] is None:
                assert r["note"], r  # an unmeasured row says why
            else:
                assert math.isfinite(r["value"]), r
                if r["unit"] == "x":  # a ratio
                    assert r["value"] > 0, r


def _bench_cli(tmp_path, *extra):
    """`neurosim bench --quick ...` in a fresh process (float32, the command's
    own settings): its JSON, checked against the printed table."""
    out = tmp_path / "bench.json"
    argv = [
        sys.executable,
        "-m",
        "neurosim.cli",
        "bench",
        "--quick",
        "--json",
        str(out),
    ]
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [*argv, *extra], capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["quick"] is True
    assert "allocator" in result["machine"]
    assert proc.stdout.splitlines()[0].startswith("machine: ")
    table = [ln for ln in proc.stdout.splitlines() if ln.startswith("| ")]
    n_rows = sum(len(s["rows"]) for s in result["suites"].values())
    assert len(table) == n_rows + 1  # the header and one line per row
    return result


def test_quick_bench_prints_one_table_and_writes_json(tmp_path):
    result = _bench_cli(tmp_path, "--only", "scaling")
    _check_rows(result, ["scaling"])


@pytest.mark.slow
def test_whole_quick_bench(tmp_path):
    """Every suite, peers included where installed (about a minute)."""
    result = _bench_cli(tmp_path)
    _check_rows(result, bench.SUITES)
    names = [r["name"] for r in result["suites"]["shd"]["rows"]]
    for peer in ("spyx", "jaxpike", "sparxml"):
        assert f"shd step: neurosim vs {peer}" in names  # measured or said missing


def test_missing_peer_is_a_row_saying_so(monkeypatch):
    from neurosim.bench import shd

    monkeypatch.setattr(shd, "_installed", lambda module: False)
    with jax.enable_x64(False):
        result = bench.run(quick=True, only="shd")
    _check_rows(result, ["shd"])
    rows = {r["name"]: r for r in result["suites"]["shd"]["rows"]}
    spyx = rows["shd step: neurosim vs spyx"]
    assert spyx["value"] is None and "not installed" in spyx["note"]
    assert rows["shd step: neurosim"]["value"] > 0


def test_only_names_suites():
    assert bench.check_only("shd, seed003") == ("seed003", "shd")
    assert bench.check_only(None) == bench.SUITES
    with pytest.raises(ValueError, match="unknown suite 'nope'"):
        bench.check_only("shd,nope")
    with pytest.raises(ValueError, match="none given"):
        bench.check_only(",")


@pytest.mark.parametrize(
    "argv, words",
    [
        (["bench", "--only", "nope"], "unknown suite"),
        (["bench", "--json", "/nonexistent-folder/x.json"], "--json"),
    ],
)
def test_bench_misuse_exits_2_with_one_line(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and err[0].startswith("neurosim bench")


def test_table_and_json(tmp_path):
    result = {
        "machine": _common.machine(),
        "quick": False,
        "suites": {
            "x": {
                "seconds": 1.0,
                "rows": [
                    _common.row("ratio", 2.5, "x", ">= 2x", "a | b"),
                    _common.missing_row("peer", "x", "", "not installed"),
                ],
            }
        },
    }
    table = bench.format_table(result)
    assert "| x | ratio | 2.5 | x | >= 2x | a \\| b |" in table
    assert "| x | peer | — | x |  | not installed |" in table
    path = bench.write_json(tmp_path / "r.json", result)
    assert json.loads(path.read_text()) == result


def test_allocator_names_its_settings(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1000000")
    assert "MALLOC_MMAP_THRESHOLD_=1000000" in _common.allocator_line()
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    assert _common.allocator()["libc"]


def test_worst_doubling_and_exponent():
    from neurosim.bench.scaling import _worst_doubling

    syn, secs = [1, 2, 4, 8], [1.0, 2.0, 4.0, 40.0]
    assert _worst_doubling(syn, secs) == pytest.approx(10.0)
    assert _common.fit_exponent([1, 10, 100], [3, 30, 300]) == pytest.approx(1.0)
