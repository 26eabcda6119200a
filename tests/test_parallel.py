"""Data-parallel `fit`: with two (forced host) devices each batch is split over
both and the parameters replicated; the losses and trained parameters equal
the single-device run's within 1e-5 (float64). The device count must be set
before JAX starts, so the two-device run is a fresh process."""

import json
import os
import subprocess
import sys

import jax
import pytest

from neurosim.train.parallel import data_parallel

SCRIPT = r"""
import json, sys
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np, optax
import neurosim as ns
import importlib
fit_module = importlib.import_module("neurosim.train.fit")

assert jax.device_count() == 2, jax.devices()
net = ns.lif_stack([6, 12, 3], recurrent=True)
sim = ns.compile(net, dt=1.0, solver="exp_euler")
params = sim.init_params(jax.random.key(0))
rng = np.random.default_rng(0)
x = (rng.random((32, 12, 6)) < 0.3).astype(np.float64)
y = rng.integers(0, 3, 32)
kw = dict(input="in", objective="sum_voltage", optimizer=optax.adam(0.05),
          epochs=3, batch_size=16, progress=False)

two = ns.fit(sim, params, x, y, **kw)
devices = {len(v.sharding.device_set) for p in two.params.values() for v in p.values()
           if hasattr(v, "sharding")}
real = fit_module.fit_devices
fit_module.fit_devices = lambda batch_size: None  # what one device does
one = ns.fit(sim, params, x, y, **kw)
fit_module.fit_devices = real
try:
    ns.fit(sim, params, x, y, **dict(kw, batch_size=15, epochs=1))
    error = ""
except ValueError as err:
    error = str(err)
# The pure step with the shardings, the way a multi-host script uses it.
from neurosim.train.parallel import data_parallel
from neurosim.train.step import flat_view, make_train_step
from neurosim.train.trainable import get_trainable
dp = data_parallel(16)
opt = optax.adam(0.05)
step = make_train_step(sim, opt, ns.Objective("sum_voltage"), input="in")
theta = flat_view(get_trainable(sim, params))
ref = step(theta, opt.init(theta), params, x[:16], y[:16])
th, st, fr = dp.replicate((theta, opt.init(theta), params))
xb, yb = (jax.make_array_from_process_local_data(dp.batch, a) for a in (x[:16], y[:16]))
got = step(th, st, fr, xb, yb)
step_diff = max(
    abs(float(ref.loss) - float(got.loss)),
    *(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(
        jax.tree_util.tree_leaves(ref.theta), jax.tree_util.tree_leaves(got.theta))),
)

def flat(p):
    return np.concatenate([np.ravel(np.asarray(p[t][k])) for t, k in sorted(sim.net.trainable)])
print(json.dumps({
    "loss_two": two.history["loss"], "loss_one": one.history["loss"],
    "max_param_diff": float(np.max(np.abs(flat(two.params) - flat(one.params)))),
    "param_change": float(np.max(np.abs(flat(two.params) - flat(params)))),
    "devices": sorted(devices), "error": error, "step_diff": step_diff,
    "step_devices": len(xb.sharding.device_set),
    "fit_split": dp.shard_batch(x[:16])[0].addressable_shards[0].data.shape[0],
}))
"""


def test_fit_on_two_devices_equals_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["devices"] == [2]  # the trained parameters live on both devices
    assert got["loss_two"] == pytest.approx(got["loss_one"], abs=1e-5, rel=0)
    assert got["max_param_diff"] < 1e-5
    assert got["param_change"] > 1e-3  # training moved them: the check has teeth
    assert "batch_size: 15" in got["error"] and "2 visible devices" in got["error"]
    # The pure step on a batch built as a multi-host script builds it.
    assert got["step_devices"] == 2 and got["step_diff"] < 1e-5
    assert got["fit_split"] == 8  # fit's batches: 8 of 16 samples per device


def test_one_device_needs_no_sharding():
    assert data_parallel(7, devices=jax.devices()[:1]) is None


def test_uneven_split_is_refused():
    cpu = jax.devices()[0]
    with pytest.raises(ValueError, match="batch_size: 6 samples cannot be split"):
        data_parallel(6, devices=[cpu] * 4)
