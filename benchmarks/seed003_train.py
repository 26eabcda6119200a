"""Training epoch of the seed-003 SNN: neurosim vs jaxley 0.14, side by side.

One epoch is what the seed's training loop spends per step: one jitted
``value_and_grad`` of the max-voltage cross-entropy loss (logits = max over time
of the two output voltages, ``log_softmax``, NLL of the seed's labels) with
respect to the gS of both projections, over a batch of 256. Timed for neurosim
and for the same network in jaxley 0.14 (median of ``--repeats`` warm calls, each
``block_until_ready``); the last line is
``speedup_vs_jaxley=<jaxley median / neurosim median>``.

jaxley 0.14's ``Fire`` passes no gradient through spikes, so its side does the
same forward and backward work but cannot learn the task; neurosim's ``Fire``
uses a surrogate derivative (fast sigmoid, slope 10, as jaxley's 1.0 branch).

    python benchmarks/seed003_train.py             # float32, batch 256, 10 repeats
    python benchmarks/seed003_train.py --x64       # float64
    python benchmarks/seed003_train.py --quick     # smoke test: batch 8, 2 repeats
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

    currents, labels = S.make_data(args.batch)
    sim, params = S.build_neurosim()
    gs = S.neurosim_gs(params)
    _, jx_sim = S.build_jaxley()
    ns_epoch, jx_epoch = S.training_epochs(sim, params, jx_sim)
    jx_params = S.jaxley_params(gs)
    jx_currents = S.jaxley_currents(currents)

    print(
        "seed003 train epoch: value_and_grad of the max-voltage loss w.r.t. gS of "
        "both projections (408 values)"
    )
    print(S.machine_line())
    print(
        f"batch={args.batch} repeats={args.repeats} dtype={S.dtype_name()} "
        "(jit, warm, block_until_ready, median)"
    )
    print(S.STANDIN_NOTE)
    print(
        "jaxley 0.14's Fire passes no gradient through spikes: its epoch does the "
        "same forward+backward work but cannot learn; neurosim's Fire uses a "
        "surrogate derivative."
    )

    ns = S.time_call(ns_epoch, gs, currents, labels, repeats=args.repeats)
    jx = S.time_call(jx_epoch, jx_params, jx_currents, labels, repeats=args.repeats)
    for name, t in (("neurosim", ns), ("jaxley  ", jx)):
        print(
            f"{name}: median {t.wall:.4f} s/epoch (process cpu {t.cpu:.4f} s), "
            f"first call {t.first:.2f} s"
        )
    (ns_val, ns_grad), (jx_val, jx_grad) = ns.out, jx.out

    ns_g = jnp.concatenate([jnp.ravel(ns_grad[p]["SpikeSynapse_gS"]) for p in S.PROJ])
    jx_g = jx_grad[0]["SpikeDetectSynapse_gS"]
    print(
        f"loss: neurosim {float(ns_val):.6f}, jaxley {float(jx_val):.6f}; "
        f"|grad|: neurosim {float(jnp.linalg.norm(ns_g)):.4g}, "
        f"jaxley {float(jnp.linalg.norm(jx_g)):.4g}"
    )
    print(f"speedup_vs_jaxley={jx.wall / ns.wall:.1f}")


if __name__ == "__main__":
    main()
