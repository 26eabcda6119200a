"""Ready-made networks: the seed-003 circuit, built in one place.

The seed-003 experiment (jaxley's SNN tutorial): `n_input` Leak+Fire inputs
-> `n_hidden` Leak+Fire hidden -> `n_output` Leak outputs, all-to-all
`SpikeSynapse` projections (current-based, `s_decay` 10/ms) with
`gS ~ N(0, 10)` µS per edge. Every compartment has the seed's units: area
2πrL = 1e5 µm² (radius 1 µm, so 1 nA is 1 µA/cm²), gLeak = 0.01 S/cm²
(τ_m = 0.1 ms), eLeak = 0 mV, threshold 1 mV, reset 0 mV, starting at 0 mV.
The seed runs it at `SEED003_DT` for `SEED003_T_MAX` in float64 and draws
everything from `jax.random.key(SEED003_SEED)`.

Used by `neurosim demo`, `neurosim train toy`, tutorial 02, the tests and
the seed-003 benchmarks.
"""

from __future__ import annotations

from .layers import LENGTH_UNIT_AREA
from .mechanisms.channels import Fire, Leak
from .mechanisms.synapses import SpikeSynapse
from .network import Network, normal

__all__ = ["SEED003_DT", "SEED003_SEED", "SEED003_T_MAX", "seed003_network"]

SEED003_DT = 1e-3  # ms
SEED003_T_MAX = 0.2  # ms: 201 steps
SEED003_SEED = 1701


def seed003_network(
    n_input: int = 100,
    n_hidden: int = 4,
    n_output: int = 2,
    *,
    trainable: bool = True,
) -> Network:
    """The seed-003 circuit as a `Network` (not compiled).

    Args:
        n_input: input neurons (`"inp"`, Leak + Fire).
        n_hidden: hidden neurons (`"hid"`, Leak + Fire); 0 connects the inputs
            straight to the outputs.
        n_output: output neurons (`"out"`, Leak only); their voltage is recorded.
        trainable: declare every projection's `SpikeSynapse_gS` trainable, one
            per edge (an `(n_pre, n_post)` matrix in `params`).

    Returns:
        The network; compile it with `neurosim.compile(net, dt=SEED003_DT)`.

    Raises:
        ValueError: a size is not a positive integer (`n_hidden` may be 0).

    Examples:
        >>> net = seed003_network()
        >>> list(net.populations), list(net.projections)
        (['inp', 'hid', 'out'], ['inp->hid', 'hid->out'])
    """
    for name, n, least in (
        ("n_input", n_input, 1),
        ("n_hidden", n_hidden, 0),
        ("n_output", n_output, 1),
    ):
        if isinstance(n, bool) or not isinstance(n, int) or n < least:
            raise ValueError(f"{name}: expected an integer >= {least}, got {n!r}.")
    layers = [("inp", n_input, True), ("hid", n_hidden, True), ("out", n_output, False)]
    layers = [layer for layer in layers if layer[1] > 0]
    net = Network()
    for name, n, fires in layers:
        channels = [Leak(gLeak=0.01, eLeak=0.0)]
        if fires:
            channels.append(Fire(vth=1.0, vreset=0.0))
        net.add_population(
            name, n, channels, length=LENGTH_UNIT_AREA, radius=1.0, v=0.0
        )
    for (pre, *_), (post, *_) in zip(layers[:-1], layers[1:], strict=True):
        proj = net.connect(pre, post, SpikeSynapse())
        net.set(proj, "SpikeSynapse_gS", normal(0.0, 10.0))  # µS
        if trainable:
            net.make_trainable(proj, "SpikeSynapse_gS", per_element=True)
    net.record("out", "v")
    return net
