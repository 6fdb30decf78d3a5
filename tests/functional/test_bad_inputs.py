"""Dtypes torch's kernels refuse, and values jit cannot read in Python (issue 22): each refused as torch refuses,
each computed where torch computes."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from jax.experimental import checkify

from jaxdl import checks, nn
from jaxdl import functional as F

tF = torch.nn.functional


def torch_raises(fn, *arrays):
    with pytest.raises((RuntimeError, NotImplementedError)):
        fn(*[None if a is None else torch.from_numpy(np.asarray(a)) for a in arrays])


@pytest.mark.parametrize("x_dtype, w_dtype, b_dtype", [
    ("float16", "float32", "float32"), ("float32", "float16", "float16"), ("float32", "float32", "float16"),
    ("int32", "float32", "float32"), ("bool", "bool", "bool")])
def test_linear_and_conv_refuse_mixed_or_bool_operands_as_torch(x_dtype, w_dtype, b_dtype):
    rng = np.random.default_rng(0)
    shapes = [("linear", (2, 4), (3, 4)), ("conv1d", (2, 4, 5), (3, 4, 2)), ("conv2d", (1, 4, 3, 3), (3, 4, 2, 2))]
    for op, xs, ws in shapes:
        x, w, b = (rng.standard_normal(s).astype(d) for s, d in [(xs, x_dtype), (ws, w_dtype), ((3,), b_dtype)])
        torch_raises(getattr(tF, op), x, w, b)
        refused = rf"^{op}: (input, weight, bias must have the same dtype|bool input/weight/bias)"
        with pytest.raises(TypeError, match=refused):
            getattr(F, op)(jnp.asarray(x), jnp.asarray(w), jnp.asarray(b))


def test_nn_linear_on_float16_input_raises_as_torch(key):
    x = np.ones((2, 10), np.float16)
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.Linear(10, 3)(torch.from_numpy(x))
    model = nn.Linear(10, 3)
    params, state = model.init(key)
    with pytest.raises(TypeError, match="^linear: .*got input float16, weight float32, bias float32$"):
        model.apply(params, state, jnp.asarray(x))


def test_what_torch_computes_still_computes(x64):
    """Integer linear/conv of one dtype, softsign of integers (float32), relu of integers: torch computes them."""
    rng = np.random.default_rng(1)
    x, w, b = rng.integers(-3, 4, (2, 4)), rng.integers(-3, 4, (3, 4)), rng.integers(-3, 4, (3,))
    np.testing.assert_array_equal(F.linear(jnp.asarray(x), jnp.asarray(w), jnp.asarray(b)),
                                  tF.linear(*map(torch.from_numpy, (x, w, b))).numpy())
    xi = np.array([[1, -2, 3]])
    got, want = F.softsign(jnp.asarray(xi)), tF.softsign(torch.from_numpy(xi))
    assert got.dtype == jnp.float32 and str(want.dtype) == "torch.float32"
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(F.relu(jnp.asarray(xi)), tF.relu(torch.from_numpy(xi)).numpy())
    u = np.array([0, 3, 9], np.uint8)
    np.testing.assert_array_equal(F.relu6(jnp.asarray(u)), tF.relu6(torch.from_numpy(u)).numpy())


def test_bool_activations_and_unsigned_hardtanh_raise_as_torch():
    xb = np.array([True, False])
    for mine, theirs in [(F.relu, tF.relu), (F.softsign, tF.softsign)]:
        torch_raises(theirs, xb)
        with pytest.raises(TypeError, match=r"^(relu|softsign): bool input is not supported"):
            mine(jnp.asarray(xb))
    u = np.array([0, 3], np.uint8)
    torch_raises(tF.hardtanh, u)
    with pytest.raises(ValueError, match="^hardtanh: cannot do hardtanh on an unsigned type with negative limits"):
        F.hardtanh(jnp.asarray(u))


# --- values jit cannot read: NaN under jax.jit, raised under checks.validated --------------------------------------
def test_cross_entropy_label_out_of_range_eager_jit_and_validated():
    logits, bad, good = jnp.zeros((2, 3)), jnp.array([0, 3]), jnp.array([0, 2])
    with pytest.raises(IndexError):
        tF.cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match=r"cross_entropy: Target 3 is out of bounds: class indices must be in \[0, "):
        F.cross_entropy(logits, bad)
    assert np.isnan(jax.jit(F.cross_entropy)(logits, bad))  # the documented fallback
    loss = checks.validated(F.cross_entropy)
    with pytest.raises(checkify.JaxRuntimeError, match=r"cross_entropy: Target 3 is out of bounds"):
        loss(logits, bad)
    with pytest.raises(ValueError, match=r"nll_loss: Target -2 is out of bounds"):
        checks.validated(F.nll_loss)(logits, jnp.array([-2, 1]))
    np.testing.assert_allclose(loss(logits, good), F.cross_entropy(logits, good), rtol=1e-6)
    ignored = checks.validated(lambda x, y: F.cross_entropy(x, y, ignore_index=-1))
    np.testing.assert_allclose(ignored(logits, jnp.array([-1, 2])), np.log(3), rtol=1e-6)
    grad = jax.grad(lambda x: loss(x, good))(logits)  # differentiable, as the plain function
    np.testing.assert_allclose(grad, jax.grad(F.cross_entropy)(logits, good), rtol=1e-6)


def test_embedding_index_out_of_range_eager_and_validated():
    weight = jnp.ones((4, 2))
    with pytest.raises(IndexError, match=r"embedding: indices must be in \[0, 4\); got values in \[0, 5\]"):
        F.embedding(jnp.array([0, 5]), weight)
    with pytest.raises(checkify.JaxRuntimeError, match=r"embedding: indices must be in \[0, 4\); got values in \[0, 5"):
        checks.validated(F.embedding)(jnp.array([0, 5]), weight)
    np.testing.assert_array_equal(checks.validated(F.embedding)(jnp.array([3, 0]), weight), np.ones((2, 2)))


def test_a_float_dim_is_refused_in_one_line_as_torch():
    x = np.ones((2, 4), np.float32)
    for mine, theirs, name in [(F.softmax, tF.softmax, "softmax"), (F.glu, tF.glu, "glu")]:
        with pytest.raises(TypeError, match="must be int, not float"):
            theirs(torch.from_numpy(x), 1.5)
        with pytest.raises(TypeError, match=rf"^{name}: dim must be an int; got 1.5 \(float\)$"):
            mine(jnp.asarray(x), 1.5)
