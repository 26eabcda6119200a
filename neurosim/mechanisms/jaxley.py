"""The one adapter through which jaxley 0.14 channels and synapses plug in.

`as_channel` and `as_synapse` accept neurosim mechanisms as they are and wrap
jaxley's `Channel` / `Synapse` objects unchanged: their parameter and state
names (`HH_gNa`, `IonotropicSynapse_gS`) stay, since jaxley users know them.

- a jaxley channel's `update_states(states, dt, v, params)` becomes
  `Channel.update` (a returned `"v"` is a voltage reset), its
  `compute_current` the current and its `init_state` the steady state;
- a jaxley synapse lives per edge: `update_states(states, dt, v_pre, v_post,
  params)` on the edges' pre- and postsynaptic voltages, and its current is
  linearised in both voltages and summed onto the postsynaptic cells.

jaxley declares no signs, so `positive_params` here is a heuristic, the only
one in neurosim: a jaxley channel's parameters named `<name>_g...` are
conductances and must be positive, and so are a jaxley synapse's when it has a
reversal `<name>_e_syn` (conductance-based).
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from .base import Channel, ChannelStep, Synapse, edges_to_post

__all__ = [
    "JaxleyChannel",
    "JaxleySynapse",
    "as_channel",
    "as_synapse",
    "standard_promotion",
]


def _conductances(name: str, params: dict) -> tuple[str, ...]:
    """The keys named `<name>_g...`: conductances, by jaxley's naming habit."""
    return tuple(k for k in params if k.startswith(f"{name}_g"))


def standard_promotion():
    """JAX's standard dtype and rank promotion for the code of another library
    (jaxley's mechanisms, optax's optimisers), whatever the caller's setting;
    neurosim's own code is written to run under strict promotion."""
    return contextlib.ExitStack() if _is_standard() else _standard()


def _is_standard() -> bool:
    return (
        jax.config.jax_numpy_dtype_promotion == "standard"
        and jax.config.jax_numpy_rank_promotion == "allow"
    )


@contextlib.contextmanager
def _standard():
    with jax.numpy_dtype_promotion("standard"), jax.numpy_rank_promotion("allow"):
        yield


def _renamed(obj: Any, name: str) -> Any:
    out = copy.deepcopy(obj)
    out.change_name(name)
    return out


@dataclass(frozen=True, eq=False)
class JaxleyChannel(Channel):
    """A jaxley `Channel` under neurosim's contract."""

    channel: Any

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.channel.name

    def change_name(self, name: str) -> JaxleyChannel:
        return JaxleyChannel(_renamed(self.channel, name))

    @property
    def channel_params(self) -> dict[str, float]:
        return dict(self.channel.channel_params or {})

    @property
    def channel_states(self) -> dict[str, float]:
        return dict(self.channel.channel_states or {})

    @property
    def positive_params(self) -> tuple[str, ...]:
        """A heuristic (jaxley declares no signs): the conductances, taken to be
        the parameters named `<name>_g...` (`HH_gNa`, `K_gK`, `AdEx_g_L`)."""
        return _conductances(self.name, self.channel_params)

    def init_state(self, states, v, params, dt):
        with standard_promotion():
            return dict(self.channel.init_state(states, v, params, dt) or {})

    def update(self, states, v, params, dt, drive=None):
        del drive
        with standard_promotion():
            new = dict(self.channel.update_states(states, dt, v, params) or {})
        return ChannelStep(new, v=new.pop("v", None))

    def current(self, states, v, params):
        with standard_promotion():
            return self.channel.compute_current(states, v, params)

    def __repr__(self) -> str:
        return f"JaxleyChannel({type(self.channel).__name__}, name={self.name!r})"


@dataclass(frozen=True, eq=False)
class JaxleySynapse(Synapse):
    """A jaxley `Synapse` under neurosim's contract (states per edge)."""

    synapse: Any

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.synapse.name

    def change_name(self, name: str) -> JaxleySynapse:
        return JaxleySynapse(_renamed(self.synapse, name))

    @property
    def synapse_params(self) -> dict[str, float]:
        return dict(self.synapse.synapse_params or {})

    @property
    def synapse_states(self) -> dict[str, float]:
        return dict(self.synapse.synapse_states or {})

    @property
    def positive_params(self) -> tuple[str, ...]:
        """A heuristic (jaxley declares no signs): a synapse with a reversal
        `<name>_e_syn` is conductance-based, and its parameters named
        `<name>_g...` (`IonotropicSynapse_gS`) are conductances; any other
        synapse's weights stay signed (`TanhRateSynapse_gS`)."""
        params = self.synapse_params
        if f"{self.name}_e_syn" not in params:
            return ()
        return _conductances(self.name, params)

    def _voltages(self, pre, v_post, conn):
        return pre.v[..., conn.pre_idx], v_post[..., conn.post_idx]

    def step(self, states, pre, v_post, prepared, conn, dt):
        v_pre_e, v_post_e = self._voltages(pre, v_post, conn)
        with standard_promotion():
            new = self.synapse.update_states(states, dt, v_pre_e, v_post_e, prepared)
        return {k: new[k] for k in states}

    def current(self, states, pre, v_post, prepared, conn):
        v_pre_e, v_post_e = self._voltages(pre, v_post, conn)

        def i_edge(a, b):
            with standard_promotion():
                i = self.synapse.compute_current(states, a, b, prepared)
            return jnp.broadcast_to(i, a.shape)

        i0, di = jax.jvp(
            i_edge,
            (v_pre_e, v_post_e),
            (jnp.ones_like(v_pre_e), jnp.ones_like(v_post_e)),
        )
        return edges_to_post(di, conn), edges_to_post(di * v_post_e - i0, conn)

    def __repr__(self) -> str:
        return f"JaxleySynapse({type(self.synapse).__name__}, name={self.name!r})"


def as_channel(obj: Any) -> Channel:
    """`obj` under the channel contract (jaxley channels are wrapped)."""
    if isinstance(obj, Channel):
        return obj
    import jaxley.channels

    if isinstance(obj, jaxley.channels.Channel):
        return JaxleyChannel(obj)
    if isinstance(obj, type) and issubclass(obj, Channel | jaxley.channels.Channel):
        raise TypeError(
            f"channels: got the class {obj.__name__}; pass an instance, "
            f"{obj.__name__}()."
        )
    raise TypeError(
        f"channels: expected channels such as ns.Leak() or jaxley's HH(), got {obj!r}."
    )


def as_synapse(obj: Any) -> Synapse:
    """`obj` under the synapse contract (jaxley synapses are wrapped)."""
    if isinstance(obj, Synapse):
        return obj
    import jaxley.synapses

    if isinstance(obj, jaxley.synapses.Synapse):
        return JaxleySynapse(obj)
    if isinstance(obj, type) and issubclass(obj, Synapse | jaxley.synapses.Synapse):
        raise TypeError(
            f"synapse: got the class {obj.__name__}; pass an instance, "
            f"{obj.__name__}()."
        )
    raise TypeError(
        f"synapse: expected ns.SpikeSynapse() or a jaxley synapse, got {obj!r}."
    )
