"""Forward simulation of the seed-003 SNN: neurosim vs jaxley 0.14, side by side.

Times one jitted, warm forward pass over a batch (default 256) of the seed's
100 -> 4 -> 2 spiking network (200 input samples, 201 steps of 1e-3 ms) in
neurosim and in jaxley 0.14 built with jaxley's own API (``jx.integrate`` vmapped
over the batch and jitted, as the seed). Reports the median of ``--repeats`` calls
(each ``block_until_ready``), checks that both give the same output voltages for
the same gS, and prints ``speedup_vs_jaxley=<jaxley median / neurosim median>``
as the last line.

    python benchmarks/seed003_forward.py             # float32, batch 256, 10 repeats
    python benchmarks/seed003_forward.py --x64       # float64
    python benchmarks/seed003_forward.py --quick     # smoke test: batch 8, 2 repeats
"""

from __future__ import annotations

import argparse

import jax


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from neurosim.bench import seed003 as S

    S.add_common_args(parser)
    args = parser.parse_args(argv)
    S.apply_quick(args)
    jax.config.update("jax_enable_x64", args.x64)

    import jax.numpy as jnp
    import numpy as np

    currents, _ = S.make_data(args.batch)
    sim, params = S.build_neurosim()
    gs = S.neurosim_gs(params)
    ns_fwd = jax.jit(S.neurosim_forward(sim, params))
    _, jx_sim = S.build_jaxley()
    jx_fwd = jax.jit(jx_sim)
    jx_params = S.jaxley_params(gs)
    jx_currents = S.jaxley_currents(currents)

    print("seed003 forward: 100 -> 4 -> 2 LIF, SpikeSynapse, dt=1e-3 ms, 201 steps")
    print(S.machine_line())
    print(
        f"batch={args.batch} repeats={args.repeats} dtype={S.dtype_name()} "
        "(jit, warm, block_until_ready, median)"
    )
    print(S.STANDIN_NOTE)

    n_steps = sim.n_steps(S.T_MAX)
    ns = S.time_call(ns_fwd, gs, currents, repeats=args.repeats)
    jx = S.time_call(jx_fwd, jx_params, jx_currents, repeats=args.repeats)
    for name, t in (("neurosim", ns), ("jaxley  ", jx)):
        print(
            f"{name}: median {1e3 * t.wall:.3f} ms (process cpu {1e3 * t.cpu:.3f} ms), "
            f"{1e6 * t.wall / n_steps:.1f} us/step, first call {t.first:.2f} s"
        )
    v_ns, v_jx = ns.out, jx.out

    # Same gS, same inputs: the output voltages of both.
    v_jx = jnp.swapaxes(v_jx, 1, 2)  # (batch, time, N_OUT), as neurosim's
    assert v_ns.shape == v_jx.shape, (v_ns.shape, v_jx.shape)
    diff = np.abs(np.asarray(v_ns) - np.asarray(v_jx))
    per_sample = diff.max(axis=(1, 2))
    v_range = float(np.abs(np.asarray(v_ns)).max())
    print(
        f"agreement: max |dv| = {diff.max():.3g} mV over out.v {v_ns.shape} "
        f"(max |v| = {v_range:.3g} mV); samples with max |dv| < 1e-3 mV: "
        f"{int((per_sample < 1e-3).sum())}/{len(per_sample)}"
    )
    total, blind = S.standin_blind_spikes(sim, params, currents)
    print(
        f"stand-in synapse: {blind} of {total} presynaptic spikes (input and hidden) "
        "are invisible to it (consecutive, or from rest exactly at vreset)"
    )
    print(f"speedup_vs_jaxley={jx.wall / ns.wall:.1f}")


if __name__ == "__main__":
    main()
