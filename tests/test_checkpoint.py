"""Checkpoints cannot run code, are checked before use, and survive kill -9.

Oracles: a marker file that a pickle's ``__reduce__`` would create (it must not
exist); the bytes of a checkpoint (unchanged when loading is refused); an
uninterrupted run (a killed-and-resumed run's parameters equal it bit for bit).
"""

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import jax
import numpy as np
import optax
import pytest

import neurosim as ns

N, T, N_IN = 32, 10, 4


def _task(seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, N)
    x = (rng.random((N, T, N_IN)) < np.where(y[:, None, None], 0.5, 0.1)).astype(float)
    return x, y


def _sim(hidden=5):
    return ns.compile(ns.lif_stack([N_IN, hidden, 2], tau_mem=5.0), dt=1.0)


SIM = _sim()
PARAMS = SIM.init_params(jax.random.key(0))
KW = dict(objective="sum_voltage", batch_size=8, progress=False)
ADAM = optax.adam(0.05)  # one object: its compiled step is reused


def _fit(ckpt_dir, epochs=2, **kw):
    x, y = kw.pop("data", _task())
    args = dict(dict(KW, optimizer=ADAM, seed=1), **kw)
    return ns.fit(SIM, PARAMS, x, y, epochs=epochs, checkpoint_dir=ckpt_dir, **args)


class _Exploit:
    """What an attacker would pickle: unpickling it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"version": 1, "state": _Exploit(marker)}, protocol=4)
    # Sanity: the payload really runs code when unpickled.
    pickle.loads(payload)
    assert marker.exists()
    marker.unlink()

    bad = tmp_path / "checkpoint.pkl"
    bad.write_bytes(payload)
    for load in (ns.load_checkpoint, ns.checkpoint_meta, ns.load_params):
        with pytest.raises(ns.CheckpointError, match="is a pickle") as err:
            load(bad)
        assert str(bad) in str(err.value)
    # Resuming finds the old-style checkpoint and refuses it too.
    with pytest.raises(ns.CheckpointError, match="is a pickle"):
        _fit(tmp_path)
    assert not marker.exists()
    # Without resuming it is ignored, and a pickle-free checkpoint is written.
    _fit(tmp_path, epochs=1, resume=False)
    assert not marker.exists()
    assert zipfile.is_zipfile(tmp_path / "checkpoint.npz")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"hello, I am a text file", "not a (neurosim checkpoint|parameter file)"),
        (b"PK\x03\x04 a cut-off zip", "truncated or damaged"),
    ],
    ids=["empty", "foreign", "bad-zip"],
)
def test_empty_foreign_and_damaged_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "c.npz"
    path.write_bytes(content)
    for load in (ns.load_checkpoint, ns.load_params):
        with pytest.raises(ns.CheckpointError, match=message) as err:
            load(path)
        assert str(path) in str(err.value)


def test_a_truncated_checkpoint_and_a_parameter_file_are_told_apart(tmp_path):
    state = {"theta": ns.get_trainable(SIM, PARAMS), "n": 3}
    good = ns.save_checkpoint(tmp_path / "c.npz", state, meta={"epoch": 0})
    data = good.read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(ns.CheckpointError, match="cut.npz"):
            ns.load_checkpoint(tmp_path / "cut.npz", like=state)
    ns.save_params(tmp_path / "p.npz", PARAMS)
    with pytest.raises(ns.CheckpointError, match="no meta.json"):
        ns.load_checkpoint(tmp_path / "p.npz")
    with pytest.raises(ns.CheckpointError, match="not a 'target/key' array"):
        ns.load_params(good)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        ns.load_checkpoint(tmp_path / "missing.npz")


def test_checkpoints_hold_only_arrays_and_json(tmp_path):
    opt = optax.adam(0.1)
    theta = ns.get_trainable(SIM, PARAMS)
    state = {"theta": theta, "opt": opt.init(theta), "best": float("inf"), "k": 2}
    path = ns.save_checkpoint(tmp_path / "c.npz", state, meta={"epoch": 4})
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    assert names[0] == "meta.json" and all(n.endswith(".npy") for n in names[1:])
    with np.load(path, allow_pickle=False) as npz:  # plain numpy can read it
        assert len(npz.files) == len(names)
    back = ns.load_checkpoint(path, like=state)
    assert type(back["opt"][0]) is type(state["opt"][0])  # optax's namedtuple
    assert back["best"] == float("inf") and back["k"] == 2
    assert ns.checkpoint_meta(path) == {"epoch": 4}
    # Without a template the structure comes from meta.json alone.
    plain = ns.load_checkpoint(path)
    assert set(plain["opt"][0]) == {"count", "mu", "nu"}
    with pytest.raises(TypeError, match=r"state\['bad'\]"):
        ns.save_checkpoint(tmp_path / "d.npz", {"bad": object()})
    with pytest.raises(TypeError, match="meta"):
        ns.save_checkpoint(tmp_path / "d.npz", {}, meta={"x": float("nan")})
    assert not (tmp_path / "d.npz").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "change, differs",
    [
        (dict(data=_task(seed=5)), "data_fingerprint"),
        (dict(seed=2), "seed"),
        (dict(optimizer=optax.sgd(0.05, momentum=0.9)), "TraceState"),
        (dict(config={"lr": 0.1}), "config"),
        (dict(batch_size=4), "batch_size"),
        (dict(objective="max_voltage"), "max_voltage"),
    ],
    ids=["data", "seed", "optimizer", "config", "batch_size", "objective"],
)
def test_resuming_another_run_is_refused_before_use(tmp_path, change, differs):
    _fit(tmp_path, epochs=1, config={"lr": 0.05})
    before = (tmp_path / "checkpoint.npz").read_bytes()
    kw = dict(dict(config={"lr": 0.05}), **change)
    with pytest.raises(ns.CheckpointError, match=differs) as err:
        _fit(tmp_path, epochs=3, **kw)
    assert "checkpoint.npz" in str(err.value)
    assert (tmp_path / "checkpoint.npz").read_bytes() == before


KILLED_RUN = textwrap.dedent(
    """
    import sys, time
    import jax
    jax.config.update("jax_enable_x64", True)
    import neurosim
    fit_module = sys.modules["neurosim.train.fit"]  # the module, not the function
    from neurosim import io
    from neurosim.io._archive import _atomic_write
    sys.path.insert(0, {tests!r})
    import test_checkpoint as t

    def save_then_hang(path, state, *, meta):
        if meta["epoch"] < 2:
            return io.save_checkpoint(path, state, meta=meta)
        def half(f):  # killed in the middle of writing epoch 2
            f.write(b"PK" * 1000)
            f.flush()
            print("writing", flush=True)
            time.sleep(600)
        _atomic_write(path, half)

    fit_module.save_checkpoint = save_then_hang
    t._fit({ckpt!r}, epochs=4)
    """
)


def test_kill_9_mid_write_then_resume_is_bit_identical(tmp_path):
    script = KILLED_RUN.format(tests=str(Path(__file__).parent), ckpt=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # the half
    assert ns.checkpoint_meta(tmp_path / "checkpoint.npz")["epoch"] == 1
    resumed = _fit(tmp_path, epochs=4)
    straight = _fit(None, epochs=4)
    assert resumed.history["loss"] == straight.history["loss"]
    for target in straight.params:
        for key, value in straight.params[target].items():
            np.testing.assert_array_equal(resumed.params[target][key], value)
