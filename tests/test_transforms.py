"""``neurosim.train.transforms``: each optax gradient transform by hand."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from neurosim.train.transforms import cap_decay, centralize_gradients, scale_by_key


def test_centralize_gradients_by_hand():
    # Oracle: a 2x3 matrix loses each column's mean (over all axes but the last);
    # the flat leaf is viewed as (2, 3) through `shapes`; 1-D leaves pass unchanged.
    g = jnp.array([[1.0, 2.0, 6.0], [3.0, 2.0, 0.0]])
    grads = {"a": {"w": g, "flat": g.reshape(-1), "v": jnp.array([1.0, 5.0])}}
    gc = centralize_gradients({"a": {"flat": (2, 3)}})
    out, _ = gc.update(grads, gc.init(grads))
    want = jnp.array([[-1.0, 0.0, 3.0], [1.0, 0.0, -3.0]])
    np.testing.assert_array_equal(out["a"]["w"], want)
    np.testing.assert_array_equal(out["a"]["flat"], want.reshape(-1))
    np.testing.assert_array_equal(out["a"]["v"], grads["a"]["v"])


def test_cap_decay_keeps_alpha_below_the_cap():
    # Oracle: alpha + update <= 0.98 exactly where listed; other leaves untouched.
    params = {"h1": {"Leak_gLeak": jnp.array([0.97, 0.5]), "x": jnp.array([0.97])}}
    updates = {"h1": {"Leak_gLeak": jnp.array([0.05, 0.05]), "x": jnp.array([0.05])}}
    tx = cap_decay(0.98, {("h1", "Leak_gLeak")})
    out, _ = tx.update(updates, tx.init(params), params)
    new = optax.apply_updates(params, out)
    np.testing.assert_allclose(new["h1"]["Leak_gLeak"], [0.98, 0.55], rtol=1e-6)
    np.testing.assert_allclose(new["h1"]["x"], [1.02], rtol=1e-6)
    with pytest.raises(ValueError, match="needs params"):
        tx.update(updates, tx.init(params))
    with pytest.raises(ValueError, match="alpha_max.*1.5"):
        cap_decay(1.5, set())


def test_scale_by_key_multiplies_only_the_named_parameters():
    # Oracle: eLeak updates x20 in every target, everything else as given.
    updates = {
        "h1": {"Leak_eLeak": jnp.array([0.1, -0.2]), "Leak_gLeak": jnp.array([0.3])},
        "out": {"Leak_eLeak": jnp.array([1.0])},
    }
    tx = scale_by_key({"Leak_eLeak": 20.0})
    out, _ = tx.update(updates, tx.init(updates))
    np.testing.assert_allclose(out["h1"]["Leak_eLeak"], [2.0, -4.0])
    np.testing.assert_allclose(out["out"]["Leak_eLeak"], [20.0])
    np.testing.assert_array_equal(out["h1"]["Leak_gLeak"], [0.3])
    with pytest.raises(TypeError, match="factors"):
        scale_by_key({"Leak_eLeak": "fast"})


def test_transforms_chain_with_an_optimizer():
    # Oracle: SGD(1) after scale_by_key(x2) moves a parameter by -2 * gradient.
    params = {"p": {"a": jnp.array([1.0]), "b": jnp.array([1.0])}}
    grads = {"p": {"a": jnp.array([0.5]), "b": jnp.array([0.5])}}
    tx = optax.chain(optax.sgd(1.0), scale_by_key({"a": 2.0}))
    updates, _ = tx.update(grads, tx.init(params), params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new["p"]["a"], [0.0])
    np.testing.assert_allclose(new["p"]["b"], [0.5])
