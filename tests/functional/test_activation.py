"""Activations: what parity can't cover — errors, torch's implicit softmax dim, transformations."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import functional as F
from tests.helpers import assert_close


def test_implicit_softmax_dim_follows_torch_and_warns():
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    for shape in ((2, 3, 4), (3, 4), (4,)):  # torch: dim 0 for 0/1/3-D inputs, dim 1 otherwise
        xs = x.reshape(-1)[: int(np.prod(shape))].reshape(shape)
        with pytest.warns(UserWarning, match="softmax: dim=None takes dim="):
            mine = F.softmax(jnp.asarray(xs))
        with pytest.warns(UserWarning):
            ref = torch.nn.functional.softmax(torch.as_tensor(xs))
        assert_close(mine, ref)
        with pytest.warns(UserWarning, match="log_softmax"):
            mine = F.log_softmax(jnp.asarray(xs))
        with pytest.warns(UserWarning):
            ref = torch.nn.functional.log_softmax(torch.as_tensor(xs))
        assert_close(mine, ref)


def test_softmax_of_a_scalar_is_one():
    assert float(F.softmax(jnp.float32(3.0), 0)) == 1.0
    assert float(F.log_softmax(jnp.float32(3.0), -1)) == 0.0


def test_errors():
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match=r"dim must be in \[-2, 1\].*got 2"):
        F.softmax(x, 2)
    with pytest.raises(ValueError, match="approximate must be one of 'none', 'tanh'; got 'erf'"):
        F.gelu(x, approximate="erf")


def test_leaky_relu_kink_differs_from_jax_nn():
    # torch: derivative negative_slope at 0 (jax.nn.leaky_relu gives 1 there)
    assert float(jax.grad(F.leaky_relu)(0.0)) == pytest.approx(0.01)
    assert float(jax.grad(lambda v: F.leaky_relu(v, 0.3))(0.0)) == pytest.approx(0.3)
    assert float(jax.grad(F.relu)(0.0)) == 0.0


def test_jit_vmap_grad_scan():
    x = jax.random.normal(jax.random.key(1), (5, 4))

    def f(v):
        return jnp.sum(F.log_softmax(F.gelu(F.leaky_relu(v)), dim=-1) * F.softmax(F.silu(v), dim=-1)
                       + F.tanh(v) * F.sigmoid(v) + F.relu(v))

    eager = jax.vmap(f)(x)
    assert_close(jax.jit(jax.vmap(f))(x), eager)
    _, scanned = jax.lax.scan(lambda c, row: (c, f(row)), 0.0, x)
    assert_close(scanned, eager)
    g = jax.jit(jax.grad(lambda v: jnp.sum(jax.vmap(f)(v))))(x)
    assert g.shape == x.shape and bool(jnp.all(jnp.isfinite(g)))


def test_integer_inputs_raise_where_torch_raises_and_promote_where_torch_promotes():
    tF = torch.nn.functional
    xi = np.array([[1, -2, 3], [0, 2, -1]])
    float_only = {"leaky_relu": (F.leaky_relu, tF.leaky_relu), "gelu": (F.gelu, tF.gelu), "silu": (F.silu, tF.silu),
                  "softmax": (lambda a: F.softmax(a, 1), lambda a: tF.softmax(a, 1)),
                  "log_softmax": (lambda a: F.log_softmax(a, 1), lambda a: tF.log_softmax(a, 1))}
    for name, (mine, theirs) in float_only.items():
        with pytest.raises((RuntimeError, NotImplementedError)):
            theirs(torch.as_tensor(xi))
        with pytest.raises(TypeError, match=f"{name}: input must be a floating-point array.*got dtype int"):
            mine(jnp.asarray(xi))
    # an explicit float dtype= casts first, as in torch
    assert_close(F.softmax(jnp.asarray(xi), 1, dtype=jnp.float32),
                 tF.softmax(torch.as_tensor(xi), 1, dtype=torch.float32))
    for mine, theirs in ((F.sigmoid, torch.sigmoid), (F.tanh, torch.tanh)):  # torch: int -> float32
        out = mine(jnp.asarray(xi))
        assert out.dtype == jnp.float32
        assert_close(out, theirs(torch.as_tensor(xi)))
    assert F.relu(jnp.asarray(xi)).dtype == jnp.int32  # relu keeps integers, as torch.relu does


def test_half_precision_gelu_is_computed_in_float32_like_torch():
    # in float16, x² overflows for |x| ≥ 256: the tanh form's gradient was (1 − tanh²)·inf = NaN; torch: 0 / 1
    xs = np.array([-300.0, -41.0, -3.0, 0.0, 0.5, 41.0, 300.0, 6e4], np.float32)
    for jdt, tdt in ((jnp.float16, torch.float16), (jnp.bfloat16, torch.bfloat16)):
        for approximate in ("none", "tanh"):
            y, vjp = jax.vjp(lambda a: F.gelu(a, approximate), jnp.asarray(xs, jdt))
            g = vjp(jnp.ones_like(y))[0]
            tx = torch.tensor(xs, dtype=tdt, requires_grad=True)
            ty = torch.nn.functional.gelu(tx, approximate=approximate)
            ty.backward(torch.ones_like(ty))
            assert y.dtype == jdt and g.dtype == jdt
            np.testing.assert_array_equal(np.asarray(y, np.float32), ty.detach().float().numpy())
            np.testing.assert_array_equal(np.asarray(g, np.float32), tx.grad.float().numpy())


_NEW = ("elu", "selu", "celu", "softplus", "softsign", "logsigmoid", "mish", "hardtanh", "relu6", "hardsigmoid",
        "hardswish")


def test_nan_gradient_is_torchs_vectorized_kernel():
    """torch's NaN gradient depends on the kernel path; jaxdl gives the vectorized one (a 64-element tensor)."""
    x = np.full(64, np.nan, np.float32)
    for name in _NEW + ("relu",):
        xt = torch.tensor(x, requires_grad=True)
        (ref,) = torch.autograd.grad(getattr(torch.nn.functional, name)(xt).sum(), xt)
        mine = jax.grad(lambda v, n=name: jnp.sum(getattr(F, n)(v)))(jnp.asarray(x))
        assert_close(mine, ref)  # NaN matches NaN
    assert float(jax.grad(F.relu)(jnp.nan)) == 1.0  # issue 12: torch passes the cotangent through


def test_new_activation_errors():
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match="glu: dimension 1 is halved, so its size must be even; got 3"):
        F.glu(x)
    with pytest.raises(ValueError, match="alpha must be nonzero"):
        F.celu(x, 0.0)
    with pytest.raises(ValueError, match="parameter numbers = 2 and channel size = 3"):
        F.prelu(x, jnp.ones(2))
    with pytest.raises(TypeError, match="floating-point"):
        F.elu(jnp.arange(3))
    from jaxdl import nn
    with pytest.raises(ValueError, match="max_val must be greater than min_val"):
        nn.Hardtanh(1.0, -1.0)


def test_new_activations_transform():
    x = jax.random.normal(jax.random.key(2), (3, 4)) * 4

    def f(v):
        return sum(jnp.sum(getattr(F, n)(v)) for n in _NEW) + jnp.sum(F.glu(v)) + jnp.sum(F.prelu(v, jnp.ones(1)))

    assert_close(jax.jit(jax.vmap(f))(x), jax.vmap(f)(x))
    g = jax.jit(jax.grad(lambda v: jnp.sum(jax.vmap(f)(v))))(x)
    assert bool(jnp.all(jnp.isfinite(g)))
    assert F.hardswish(jnp.ones(2, jnp.bfloat16)).dtype == jnp.bfloat16  # computed in float32, rounded once


def test_hardtanh_and_relu6_clamp_integers_as_torch():
    x = np.array([-9, -1, 0, 3, 7])
    for mine, theirs in ((F.hardtanh(jnp.asarray(x), -2.5, 4.5),
                          torch.nn.functional.hardtanh(torch.tensor(x), -2.5, 4.5)),
                         (F.relu6(jnp.asarray(x)), torch.nn.functional.relu6(torch.tensor(x)))):
        np.testing.assert_array_equal(np.asarray(mine), theirs.numpy())
    from jaxdl import nn
    import dataclasses
    assert dataclasses.replace(nn.PReLU(2, init=0.1), num_parameters=3) == nn.PReLU(3, 0.1)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "silu", "leaky_relu", "softmax"])
def test_bfloat16_values_and_gradients_bit_equal_torch(name):
    # torch computes a bfloat16 activation in float32 and rounds once; sigmoid's and tanh's backward use the
    # rounded output (sigmoid_backward(grad, output)): autodiff of the float32 output differs by an ulp
    import torch

    rng = np.random.default_rng(0)
    x = (4 * rng.standard_normal((64, 100))).astype(np.float32)
    ct = rng.standard_normal(x.shape).astype(np.float32)
    xb = jnp.asarray(x, jnp.bfloat16)
    kw = {"dim": 1} if name == "softmax" else {}
    jf = lambda a: getattr(F, name)(a, **kw)  # noqa: E731
    out, vjp = jax.vjp(jf, xb)
    (grad,) = vjp(jnp.asarray(ct, jnp.bfloat16))
    tx = torch.tensor(x).bfloat16().requires_grad_()
    tout = getattr(torch.nn.functional, name)(tx, **kw) if name != "tanh" else torch.tanh(tx)
    tout.backward(torch.tensor(ct).bfloat16())
    assert out.dtype == jnp.bfloat16 and grad.dtype == jnp.bfloat16
    np.testing.assert_array_equal(np.asarray(out, np.float32), tout.detach().float().numpy())
    grad, want = np.asarray(grad, np.float32), tx.grad.float().numpy()
    if name == "softmax":  # Σ g·y is summed in another order: one element in 6400 lands an ulp away
        np.testing.assert_allclose(grad, want, rtol=2 ** -7)
        assert (grad != want).mean() < 1e-3
    else:
        np.testing.assert_array_equal(grad, want)


# torch's ops that take inplace=, with their nn modules (dropout: p=0 and eval, where torch's result has no draw)
_INPLACE = [("relu", "ReLU", ()), ("leaky_relu", "LeakyReLU", (0.2,)), ("silu", "SiLU", ()),
            ("elu", "ELU", (0.7,)), ("selu", "SELU", ()), ("celu", "CELU", (1.5,)), ("mish", "Mish", ()),
            ("hardtanh", "Hardtanh", (-0.5, 2.0)), ("relu6", "ReLU6", ()), ("hardsigmoid", "Hardsigmoid", ()),
            ("hardswish", "Hardswish", ()), ("dropout", "Dropout", (0.0, True)),
            ("dropout1d", "Dropout1d", (0.5, False)), ("dropout2d", "Dropout2d", (0.5, False))]


@pytest.mark.parametrize("name,module,args", _INPLACE, ids=[c[0] for c in _INPLACE])
def test_inplace_true_gives_torchs_result_in_f_and_nn(name, module, args):
    # one rule: inplace=True is accepted and changes nothing in jaxdl; the value is what torch's in-place op
    # writes, and the input array is left as it was
    from jaxdl import nn
    x = np.linspace(-8, 8, 2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    if name == "dropout1d":
        x = x.reshape(2, 3, 20)
    xt = torch.tensor(x)
    ref = getattr(torch.nn.functional, name)(xt, *args, inplace=True)
    assert ref.data_ptr() == xt.data_ptr()  # torch did write into its input
    before = jnp.asarray(x)
    assert_close(getattr(F, name)(before, *args, inplace=True), ref)
    np.testing.assert_array_equal(np.asarray(before), x)
    margs = args[:1] if name.startswith("dropout") else args
    training = name.startswith("dropout") and args[1]
    ref_mod = getattr(torch.nn, module)(*margs, inplace=True).train(training)(torch.tensor(x))
    y, _ = getattr(nn, module)(*margs, inplace=True).apply({}, {}, jnp.asarray(x), training=training)
    assert_close(y, ref_mod)


@pytest.mark.parametrize("name,module,args", _INPLACE, ids=[c[0] for c in _INPLACE])
def test_inplace_must_be_a_bool_in_f_and_nn(name, module, args):
    from jaxdl import nn
    x = jnp.ones((2, 3, 4) if name == "dropout1d" else (2, 3, 4, 5))
    with pytest.raises(TypeError, match=rf"{name}: inplace must be True or False; got 'yes' \(str\)"):
        getattr(F, name)(x, *args, inplace="yes")
    margs = args[:1] if name.startswith("dropout") else args
    with pytest.raises(TypeError, match=rf"{module}: inplace must be True or False; got 1 \(int\)"):
        getattr(nn, module)(*margs, inplace=1)


def test_float32_tanh_is_within_one_and_a_half_ulps_of_float64():
    """F.tanh's float32 error against float64 tanh (rounded output of torch's own is 0.5 ulp): every 256th float32
    of [0, 0.55] (the polynomial) and 2^20 bit patterns below 12 (the exponential form); ±0 and subnormals exact."""
    small = np.arange(0, np.float32(0.55).view(np.int32) + 1, 256, dtype=np.int32).view(np.float32)
    rest = np.random.default_rng(0).integers(0, np.float32(12).view(np.int32), 2**20, dtype=np.int32)
    x = np.concatenate([small, rest.view(np.float32)])
    x = np.concatenate([x, -x])
    y = np.asarray(jax.jit(F.tanh)(jnp.asarray(x)), np.float64)
    ref = np.tanh(x.astype(np.float64))
    ulps = np.abs(y - ref) / np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 1.5, f"max {ulps.max():.2f} ulps at x={x[ulps.argmax()]!r}"
    special = np.array([0.0, -0.0, 1e-45, -3e-39, 2e-38, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(np.asarray(F.tanh(jnp.asarray(special))), torch.tanh(torch.tensor(special)))
    assert np.signbit(np.asarray(F.tanh(jnp.asarray(special))))[1]
