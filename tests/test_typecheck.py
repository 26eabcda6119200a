"""The public API under jaxtyping's runtime checking (beartype): annotations tell the truth.

The scenario runs in a fresh interpreter with ``jaxtyping.install_import_hook`` on
the whole package, so every annotated shape and dtype is checked at each call.
"""

import subprocess
import sys
import textwrap

SCENARIO = textwrap.dedent(
    """
    from jaxtyping import install_import_hook
    with install_import_hook("neurosim", "beartype.beartype"):
        import neurosim as ns
        from neurosim import datasets, plot
        from neurosim.train import losses
    import jax, jax.numpy as jnp, numpy as np, optax, matplotlib
    matplotlib.use("Agg")

    net = ns.lif_stack([6, 5, 3], recurrent=True, train_vth=True)
    sim = ns.compile(net, dt=1.0, solver="exp_euler")
    params = sim.init_params(jax.random.key(0))
    x = datasets.encoders.poisson(jnp.full((4, 6), 0.5), 12, jax.random.key(1))
    rec = sim.run(params, {"in": x})
    sim.run(params, {"in": np.asarray(x)[0]})  # numpy, unbatched
    v = rec["out.v"]
    y = jnp.array([0, 1, 2, 0])
    logits = losses.decode(v, "sum")
    losses.accuracy(logits, y)
    losses.max_voltage_ce(v, y); losses.sum_voltage_ce(v, y, label_smoothing=0.3)
    res = ns.fit(sim, params, np.asarray(x), np.asarray(y), objective="sum_voltage",
                 optimizer=optax.adam(1e-2), epochs=1, batch_size=4, progress=False)
    ns.evaluate(sim, res.params, np.asarray(x), np.asarray(y), objective=ns.Objective("sum_voltage"))
    plot.voltage_traces(np.asarray(v), sample=0, dt=1.0)
    plot.training_curves(res.history)
    d = datasets.digits()
    print("TYPECHECK-OK")
    """
)


def test_public_api_under_runtime_type_checking():
    out = subprocess.run(
        [sys.executable, "-c", SCENARIO], capture_output=True, text=True, timeout=240
    )
    assert "TYPECHECK-OK" in out.stdout, out.stderr[-3000:]


def test_a_lying_annotation_fails():
    lie = textwrap.dedent(
        """
        import jax.numpy as jnp
        from beartype import beartype
        from jaxtyping import Float, Array, jaxtyped
        @jaxtyped(typechecker=beartype)
        def f(v: Float[Array, "batch time classes"]) -> Float[Array, "batch classes"]:
            return v[:, 0, 0]  # the annotation says (batch, classes)
        f(jnp.zeros((2, 3, 4)))
        """
    )
    out = subprocess.run([sys.executable, "-c", lie], capture_output=True, text=True)
    assert out.returncode != 0 and "Type-check error" in out.stderr + out.stdout
