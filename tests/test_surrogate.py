"""Spike functions: exact step forward, surrogate derivative backward.

Oracle: each surrogate's docstring formula, written again here independently
in numpy float64. Tolerances: float64 rtol 1e-12; float32 rtol 2e-6 (a few
ulps); atol 1e-15 for values that underflow (e.g. Triangle's exact zeros).
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from neurosim.mechanisms.surrogate import (
    SURROGATES,
    AbstractSurrogate,
    ArcTan,
    Boxcar,
    FastSigmoid,
    Gaussian,
    Sigmoid,
    Triangle,
    get_surrogate,
    heaviside,
)

POINTS = [-1.0, -0.1, 0.0, 0.05, 0.3, 2.0]


# name -> (instance, numpy oracle of the backward formula, h(0) written out)
ORACLES = {
    "fast_sigmoid": (
        FastSigmoid(),
        lambda x: 1.0 / (10.0 * np.abs(x) + 1.0) ** 2,
        1.0,
    ),
    "fast_sigmoid_3": (
        FastSigmoid(slope=3.0),
        lambda x: 1.0 / (3.0 * np.abs(x) + 1.0) ** 2,
        1.0,
    ),
    "arctan": (
        ArcTan(),
        lambda x: (2.0 / 2.0) / (1.0 + (np.pi / 2.0 * 2.0 * x) ** 2),
        1.0,
    ),
    "arctan_5": (
        ArcTan(slope=5.0),
        lambda x: 2.5 / (1.0 + (np.pi / 2.0 * 5.0 * x) ** 2),
        2.5,
    ),
    "sigmoid": (
        Sigmoid(),
        # snnTorch's written form: slope·e^(−z) / (e^(−z) + 1)², z = slope·x
        lambda x: 25.0 * np.exp(-25.0 * x) / (np.exp(-25.0 * x) + 1.0) ** 2,
        6.25,
    ),
    "triangle": (Triangle(), lambda x: np.maximum(0.0, 1.0 - np.abs(x)), 1.0),
    "triangle_4": (
        Triangle(slope=4.0),
        lambda x: np.maximum(0.0, 1.0 - 4.0 * np.abs(x)),
        1.0,
    ),
    "boxcar": (Boxcar(), lambda x: 1.0 * (np.abs(x) < 0.5), 1.0),
    "boxcar_wide": (
        Boxcar(width=1.5, height=0.25),
        lambda x: 0.25 * (np.abs(x) < 1.5),
        0.25,
    ),
    "gaussian": (
        Gaussian(),
        lambda x: np.exp(-(x**2) / (2 * 0.25)) / (0.5 * np.sqrt(2 * np.pi)),
        1.0 / (0.5 * math.sqrt(2 * math.pi)),
    ),
}
CASES = sorted(ORACLES)


def _tol(dtype):
    return {"rtol": 1e-12 if dtype == jnp.float64 else 2e-6, "atol": 1e-15}


@pytest.mark.parametrize("case", CASES)
def test_forward_is_exact_step_with_h0_equal_1(case, dtype):
    surrogate = ORACLES[case][0]
    x = np.array([-np.inf, -2.0, -1e-30, -0.0, 0.0, 1e-30, 0.3, np.inf])
    out = surrogate(jnp.asarray(x, dtype=dtype))
    assert out.dtype == dtype
    # -0.0 >= 0 holds, so a voltage exactly at threshold always fires.
    np.testing.assert_array_equal(np.asarray(out), (x >= 0).astype(np.float64))
    assert float(surrogate(jnp.zeros((), dtype))) == 1.0


@pytest.mark.parametrize("lowp", [jnp.float16, jnp.bfloat16])
def test_low_precision_dtype_preserved(lowp):
    x = jnp.array([-0.5, 0.0, 0.5], dtype=lowp)
    out, tangent = jax.jvp(FastSigmoid(), (x,), (jnp.ones_like(x),))
    assert out.dtype == lowp and tangent.dtype == lowp
    np.testing.assert_array_equal(np.asarray(out, np.float32), [0.0, 1.0, 1.0])


@pytest.mark.parametrize("case", CASES)
def test_grad_matches_formula(case, dtype):
    surrogate, oracle, _ = ORACLES[case]
    grad = jax.grad(surrogate)
    for p in POINTS:
        got = grad(jnp.asarray(p, dtype=dtype))
        assert got.dtype == dtype
        np.testing.assert_allclose(
            float(got), oracle(np.float64(p)), **_tol(dtype), err_msg=f"x = {p}"
        )


@pytest.mark.parametrize("case", CASES)
def test_derivative_method_matches_formula_and_grad(case, dtype):
    surrogate, oracle, _ = ORACLES[case]
    x = jnp.asarray(POINTS, dtype=dtype)
    h = surrogate.derivative(x)
    assert h.dtype == dtype and h.shape == x.shape
    np.testing.assert_allclose(np.asarray(h), oracle(np.asarray(POINTS)), **_tol(dtype))
    np.testing.assert_array_equal(
        np.asarray(h), np.asarray(jax.vmap(jax.grad(surrogate))(x))
    )


@pytest.mark.parametrize("case", CASES)
def test_value_at_zero_is_exact(case, dtype):
    # Sharp: an off-by-convention peak (spyx's arctan peaks at 1/π, its boxcar
    # at 0.5) or a mistyped exponent fails here.
    surrogate, _, h0 = ORACLES[case]
    got = float(jax.grad(surrogate)(jnp.zeros((), dtype)))
    assert got == pytest.approx(h0, rel=1e-7 if dtype == jnp.float32 else 1e-15)


def test_fast_sigmoid_peak_and_half_point_exact():
    spike = FastSigmoid(slope=10.0)
    assert float(jax.grad(spike)(0.0)) == 1.0
    # 1 / (10 * 0.1 + 1)^2 = 1/4, exact in binary floating point.
    assert float(jax.grad(spike)(0.1)) == pytest.approx(0.25, rel=1e-7)
    assert float(jax.grad(spike)(-0.1)) == pytest.approx(0.25, rel=1e-7)


def test_without_the_rule_the_step_has_zero_gradient():
    # The plain comparison the forward pass computes has gradient 0 everywhere;
    # every nonzero gradient in the tests above comes from the custom rule.
    def plain(x):
        return (x >= 0).astype(x.dtype)

    assert float(jax.grad(plain)(0.0)) == 0.0
    assert float(jax.grad(FastSigmoid())(0.0)) == 1.0


@pytest.mark.parametrize("case", CASES)
def test_jvp_scales_tangent(case, dtype):
    surrogate, oracle, _ = ORACLES[case]
    x = jnp.asarray(POINTS, dtype=dtype)
    t = jnp.asarray(np.linspace(-2.0, 3.0, len(POINTS)), dtype=dtype)
    out, tangent = jax.jvp(surrogate, (x,), (t,))
    np.testing.assert_array_equal(np.asarray(out), (np.asarray(POINTS) >= 0) * 1.0)
    np.testing.assert_allclose(
        np.asarray(tangent),
        oracle(np.asarray(POINTS)) * np.asarray(t, np.float64),
        **_tol(dtype),
    )


@pytest.mark.parametrize("case", CASES)
def test_jit_vmap_grad(case, dtype):
    surrogate, oracle, _ = ORACLES[case]
    x = jnp.asarray(np.array(POINTS).reshape(2, 3), dtype=dtype)
    fn = jax.jit(jax.vmap(jax.vmap(jax.grad(surrogate))))
    got = fn(x)
    assert got.dtype == dtype
    np.testing.assert_allclose(
        np.asarray(got), oracle(np.array(POINTS).reshape(2, 3)), **_tol(dtype)
    )
    # grad of a summed batch = elementwise derivative
    got_sum = jax.jit(jax.grad(lambda y: jnp.sum(surrogate(y))))(x)
    np.testing.assert_allclose(np.asarray(got_sum), np.asarray(got), **_tol(dtype))


def test_surrogate_is_a_static_pytree_argument():
    calls = []

    @jax.jit
    def grad_at(surrogate, x):
        calls.append(surrogate)
        return jax.grad(surrogate)(x)

    assert float(grad_at(FastSigmoid(slope=10.0), 0.1)) == pytest.approx(0.25)
    assert float(grad_at(FastSigmoid(slope=1.0), 0.1)) == pytest.approx(1 / 1.1**2)
    assert float(grad_at(FastSigmoid(slope=10.0), 0.2)) == pytest.approx(1 / 9)
    # Two traces: one per distinct slope; equal surrogates share a trace.
    assert len(calls) == 2
    assert jax.tree_util.tree_leaves(FastSigmoid()) == []


@pytest.mark.parametrize("case", CASES)
def test_derivatives_finite_everywhere(case, dtype):
    surrogate = ORACLES[case][0]
    x = jnp.asarray(
        [-np.inf, -1e30, -1e3, -1e-30, -0.0, 0.0, 1e-30, 1e3, 1e30, np.inf], dtype
    )
    first = jax.vmap(jax.grad(surrogate))(x)
    assert bool(jnp.all(jnp.isfinite(first)))
    assert bool(jnp.all(first >= 0))
    second = jax.vmap(jax.grad(jax.grad(surrogate)))(jnp.asarray(POINTS, dtype))
    assert bool(jnp.all(jnp.isfinite(second)))


def test_values_print_compare_and_hash():
    assert repr(FastSigmoid()) == "FastSigmoid(slope=10.0)"
    assert repr(Boxcar()) == "Boxcar(width=0.5, height=1.0)"
    assert FastSigmoid(10) == FastSigmoid(10.0)
    assert FastSigmoid(10) != FastSigmoid(5.0)
    assert FastSigmoid() != ArcTan(slope=10.0)
    assert hash(FastSigmoid(10)) == hash(FastSigmoid(10.0))
    assert isinstance(FastSigmoid(10).slope, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        FastSigmoid().slope = 3.0  # type: ignore[misc]
    leaves, treedef = jax.tree_util.tree_flatten(Gaussian(sigma=2.0))
    assert jax.tree_util.tree_unflatten(treedef, leaves) == Gaussian(sigma=2.0)


def test_defaults():
    assert FastSigmoid().slope == 10.0
    assert ArcTan().slope == 2.0
    assert Sigmoid().slope == 25.0
    assert Triangle().slope == 1.0
    assert (Boxcar().width, Boxcar().height) == (0.5, 1.0)
    assert Gaussian().sigma == 0.5


def test_registry_and_get_surrogate():
    expected = {
        "fast_sigmoid": FastSigmoid,
        "superspike": FastSigmoid,
        "arctan": ArcTan,
        "sigmoid": Sigmoid,
        "triangle": Triangle,
        "boxcar": Boxcar,
        "gaussian": Gaussian,
    }
    assert SURROGATES == expected
    for name, cls in expected.items():
        assert get_surrogate(name) == cls()
        assert isinstance(get_surrogate(name), AbstractSurrogate)
    assert get_surrogate("SuperSpike", slope=5) == FastSigmoid(slope=5.0)
    assert get_surrogate("fast-sigmoid") == FastSigmoid()
    obj = Boxcar(width=0.2)
    assert get_surrogate(obj) is obj
    assert get_surrogate(obj, height=3.0) == Boxcar(width=0.2, height=3.0)


def test_get_surrogate_errors():
    with pytest.raises(
        ValueError, match="unknown surrogate 'relu'.*'arctan'.*'superspike'"
    ):
        get_surrogate("relu")
    with pytest.raises(TypeError, match=r"no parameter\(s\) \['slope'\].*\['sigma'\]"):
        get_surrogate("gaussian", slope=2.0)
    with pytest.raises(TypeError, match="name from SURROGATES or a surrogate instance"):
        get_surrogate(FastSigmoid)  # the class, not an instance


@pytest.mark.parametrize(
    ("cls", "arg"),
    [
        (FastSigmoid, "slope"),
        (ArcTan, "slope"),
        (Sigmoid, "slope"),
        (Triangle, "slope"),
        (Boxcar, "width"),
        (Boxcar, "height"),
        (Gaussian, "sigma"),
    ],
)
@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_non_positive_parameters_raise(cls, arg, bad):
    with pytest.raises(ValueError, match=f"{cls.__name__}: `{arg}` must be a positive"):
        cls(**{arg: bad})
    with pytest.raises(ValueError, match=f"`{arg}` must be a positive"):
        get_surrogate(cls(), **{arg: bad})


def test_traced_slope_is_rejected():
    with pytest.raises(TypeError, match="`slope` must be a Python number"):
        jax.jit(lambda s: FastSigmoid(slope=s)(0.0))(3.0)


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match="floating-point `x`"):
        FastSigmoid()(jnp.array([0, 1]))


def test_heaviside_convenience():
    x = jnp.array(POINTS)
    np.testing.assert_array_equal(
        np.asarray(heaviside(x)), (np.array(POINTS) >= 0) * 1.0
    )
    assert float(jax.grad(heaviside)(0.0)) == 1.0  # default FastSigmoid(10)
    assert float(jax.grad(lambda y: heaviside(y, "sigmoid"))(0.0)) == 6.25
    assert float(jax.grad(lambda y: heaviside(y, Boxcar(height=2.0)))(0.4)) == 2.0
    with pytest.raises(ValueError, match="valid names"):
        heaviside(x, "nope")


def test_boxcar_edges_are_open():
    # Seed 000: grad * (|x| < 0.5); at |x| = width exactly the derivative is 0.
    grad = jax.vmap(jax.grad(Boxcar()))
    x = jnp.array([-0.5, -0.4999, 0.4999, 0.5])
    np.testing.assert_array_equal(np.asarray(grad(x)), [0.0, 1.0, 1.0, 0.0])
