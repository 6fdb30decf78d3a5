"""jaxdl.amp against torch.autocast: the op lists (output dtypes), bit-equal products and gradients, float32
master weights in training, the jit cache, and the errors. The bf16-mixed parity cases (tests/test_parity.py)
compare values and gradients of whole modules, the GPT and fit."""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import amp, nn, optim
from jaxdl import functional as F
from jaxdl.interop import load_state_dict
from jaxdl.train import TrainState, fit, make_train_step

BF16 = jnp.dtype(jnp.bfloat16)
TORCH_DTYPES = {torch.float32: jnp.dtype(jnp.float32), torch.bfloat16: BF16, torch.float16: jnp.dtype(jnp.float16)}


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    return {"x": r(4, 8), "w": r(6, 8), "b": r(6), "img": r(2, 3, 6, 6), "k": r(5, 3, 3, 3), "q": r(2, 2, 5, 4),
            "ln_w": r(8), "y": rng.integers(0, 8, 4), "t": r(4, 8), "seq": r(2, 3, 7)}


# (name, jaxdl op, torch op, input names, cast to bfloat16 first): the input dtype decides the output dtype of a
# fallthrough op, so norms and activations also see a bfloat16 input, as after a Linear under autocast
OPS = [
    ("linear", lambda x, w, b: F.linear(x, w, b), torch.nn.functional.linear, ("x", "w", "b"), False),
    ("conv2d", lambda x, k: F.conv2d(x, k), torch.nn.functional.conv2d, ("img", "k"), False),
    ("sdpa", lambda q: F.scaled_dot_product_attention(q, q, q), lambda q: torch.nn.functional.
     scaled_dot_product_attention(q, q, q), ("q",), False),
    ("softmax", lambda x: F.softmax(x, 1), lambda x: torch.softmax(x, 1), ("x",), True),
    ("log_softmax", lambda x: F.log_softmax(x, 1), lambda x: torch.log_softmax(x, 1), ("x",), True),
    ("layer_norm", lambda x, w: F.layer_norm(x, (8,), w), lambda x, w: torch.nn.functional.layer_norm(x, (8,), w),
     ("x", "ln_w"), True),
    ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True)[0],
     lambda x: torch.nn.functional.batch_norm(x, None, None, training=True), ("x",), True),
    ("gelu", F.gelu, torch.nn.functional.gelu, ("x",), True),
    ("softplus", F.softplus, torch.nn.functional.softplus, ("x",), True),
    ("cosine_similarity", F.cosine_similarity, torch.nn.functional.cosine_similarity, ("x", "t"), True),
    ("cross_entropy", F.cross_entropy, torch.nn.functional.cross_entropy, ("x", "y"), True),
    ("mse_loss", F.mse_loss, torch.nn.functional.mse_loss, ("x", "t"), True),
    ("bce_with_logits", F.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits,
     ("x", "t"), True),
    ("pad reflect", lambda s: F.pad(s, (2, 1), mode="reflect"), lambda s: torch.nn.functional.pad(s, (2, 1),
                                                                                                   mode="reflect"),
     ("seq",), True),
    ("pad constant", lambda s: F.pad(s, (2, 1)), lambda s: torch.nn.functional.pad(s, (2, 1)), ("seq",), True),
]


@pytest.mark.parametrize("low", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("name,jax_op,torch_op,names,to_bf16", OPS, ids=[o[0] for o in OPS])
def test_output_dtype_follows_torch_cpu_autocast(name, jax_op, torch_op, names, to_bf16, low):
    data = _inputs()
    args = [data[n] for n in names]
    floats = [a.dtype.kind == "f" for a in args]
    jlow = TORCH_DTYPES[low]
    jargs = [jnp.asarray(a, jlow) if f and to_bf16 and i == 0 else jnp.asarray(a) for i, (a, f) in
             enumerate(zip(args, floats))]
    targs = [torch.tensor(a).to(low) if f and to_bf16 and i == 0 else torch.tensor(a) for i, (a, f) in
             enumerate(zip(args, floats))]
    with amp.autocast("cpu", jlow):
        out = jax.jit(jax_op)(*jargs)
    with torch.autocast("cpu", dtype=low):
        expected = torch_op(*targs)
    assert out.dtype == TORCH_DTYPES[expected.dtype], (name, out.dtype, expected.dtype)


# torch's CUDA lists (aten/src/ATen/autocast_mode.h, AT_FORALL_FP32 / _FP32_SET_OPT_DTYPE / LOWER_PRECISION_FP):
# this CPU torch cannot run them, so the figures are the lists' own entries for a bfloat16 input
CUDA_FIGURES = [
    (lambda x: F.softmax(x, 1), jnp.float32), (lambda x: F.log_softmax(x, 1), jnp.float32),
    (lambda x: F.layer_norm(x, (8,)), jnp.float32), (lambda x: F.group_norm(x, 2), jnp.float32),
    (F.softplus, jnp.float32), (lambda x: F.mse_loss(x, x), jnp.float32),
    (lambda x: F.batch_norm(x, None, None, training=True)[0], BF16),  # batch_norm is on no list: input dtype
    (F.gelu, BF16), (lambda x: F.linear(x, jnp.ones((3, 8))), BF16),
    (lambda x: F.pad(x[None], (1, 1), mode="reflect"), BF16),  # reflection_pad is on the CPU list only
]


@pytest.mark.parametrize("fn,dtype", CUDA_FIGURES)
def test_cuda_op_lists(fn, dtype):
    x = jnp.asarray(_inputs()["x"], BF16)
    with amp.autocast("cuda", jnp.bfloat16):
        assert fn(x).dtype == jnp.dtype(dtype)


def test_binary_cross_entropy_is_banned_under_cuda_autocast_as_torch():
    p = jnp.full((3,), 0.5)
    with amp.autocast("cuda", jnp.bfloat16), pytest.raises(ValueError, match="binary_cross_entropy_with_logits"):
        F.binary_cross_entropy(p, p)
    with amp.autocast("cpu"):  # CPU autocast runs it in float32
        assert F.binary_cross_entropy(p, p).dtype == jnp.float32


def _exact(fn):
    return jax.jit(fn, compiler_options=amp.EXACT_ROUNDING)


@pytest.mark.parametrize("low", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("op", ["linear", "conv2d"])
def test_products_and_gradients_bit_equal_torch_cpu_autocast(op, low):
    d = _inputs(1)
    if op == "linear":
        args, jop, top = (d["x"], d["w"], d["b"]), F.linear, torch.nn.functional.linear
    else:
        args, jop, top = (d["img"], d["k"], d["b"][:5]), F.conv2d, torch.nn.functional.conv2d
    ct = np.random.default_rng(2).standard_normal(jax.eval_shape(jop, *args).shape).astype(np.float32)

    def objective(*a):
        with amp.autocast("cpu", TORCH_DTYPES[low]):
            out = jop(*a)
        return jnp.sum(out.astype(jnp.float32) * ct), out

    (_, out), grads = _exact(jax.value_and_grad(objective, argnums=(0, 1, 2), has_aux=True))(*args)
    targs = [torch.tensor(a, requires_grad=True) for a in args]
    with torch.autocast("cpu", dtype=low, cache_enabled=False):
        tout = top(*targs)
    (tout.float() * torch.tensor(ct)).sum().backward()
    if (op, low) == ("conv2d", torch.float16):
        # torch's CPU float16 convolution kernels do not round once (its output with a bias is 1 ulp off in
        # places, its input gradient sums partly in float16: up to ~30 ulps off); jaxdl's output and gradients are
        # the float64 results of the float16 inputs and cotangent rounded once to float16 (what torch's CUDA
        # float16 kernels, summing in float32, compute: only a GPU can show it), torch's within float16 noise
        exact_args = [torch.tensor(a).to(low).double().requires_grad_(True) for a in args]
        exact = top(*exact_args)
        exact.backward(torch.tensor(ct).to(low).double())
        for mine, want, theirs in zip((out, *grads), (exact, *(a.grad for a in exact_args)), (tout, *targs)):
            theirs = theirs.grad if theirs is not tout else tout
            np.testing.assert_array_equal(np.asarray(mine, np.float32), want.to(low).float().detach().numpy())
            np.testing.assert_allclose(np.asarray(mine, np.float32), theirs.detach().float().numpy(),
                                       rtol=2.0**-5, atol=2.0**-8)
        return
    np.testing.assert_array_equal(np.asarray(out, np.float32), tout.detach().float().numpy())
    for g, t in zip(grads, targs):
        assert g.dtype == jnp.float32  # the float32 parameter's gradient, as torch's .grad
        np.testing.assert_array_equal(np.asarray(g), t.grad.numpy())


def test_train_step_keeps_float32_master_weights_like_torch():
    """One SGD step under bf16-mixed: params, gradients and the optimizer's momentum stay float32, and an update
    smaller than a bfloat16 ulp of the weight is kept, equal to torch's autocast step on a float32 model."""
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    tx = optim.sgd(lr=1e-4, momentum=0.9)
    state = TrainState.create(model, tx, jax.random.key(0))
    params, _ = load_state_dict(model, {k: v.numpy() for k, v in tm.state_dict().items()})
    state = state.replace(params=params, opt_state=tx.init(params))
    d = _inputs(3)
    x, y = d["x"], d["y"] % 4
    step = _exact(make_train_step(model, tx, F.cross_entropy, precision="bf16-mixed"))
    new, metrics = step(state, x, y)
    assert metrics["loss"].dtype == jnp.float32
    floats = [leaf.dtype for leaf in jax.tree.leaves((new.params, new.opt_state)) if leaf.dtype != jnp.int32]
    assert len(floats) == 9 and set(floats) == {jnp.dtype(jnp.float32)}  # 4 params, 4 momenta, the lr
    w0, w1 = params["0"]["weight"], new.params["0"]["weight"]
    moved = np.asarray(w1 != w0)
    lost_in_bf16 = np.asarray(w1.astype(BF16) == w0.astype(BF16)) & moved
    assert moved.mean() > 0.5 and lost_in_bf16.mean() > 0.5  # a bfloat16 master copy would have dropped these

    opt = torch.optim.SGD(tm.parameters(), lr=1e-4, momentum=0.9)
    with torch.autocast("cpu", dtype=torch.bfloat16, cache_enabled=False):
        loss = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y).long())
    loss.backward()
    opt.step()
    assert loss.dtype == torch.float32 and tm[0].weight.dtype == torch.float32
    np.testing.assert_allclose(float(metrics["loss"]), loss.item(), rtol=1e-6)
    for i in ("0", "2"):
        for k in ("weight", "bias"):
            np.testing.assert_allclose(np.asarray(new.params[i][k]), getattr(tm[int(i)], k).detach().numpy(),
                                       rtol=0, atol=1e-7)


def test_fit_bf16_mixed_returns_float32_state_and_learns():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    res = fit(model, optim.adam(lr=1e-2), (x, y), (x, y), epochs=5, batch_size=16, key=jax.random.key(0),
              progress=False, precision="bf16-mixed")
    leaves = jax.tree.leaves((res.state.params, res.state.model_state, res.state.opt_state))
    assert all(leaf.dtype in (jnp.float32, jnp.int32) for leaf in leaves)
    assert res.history[-1]["val_loss"] < res.history[0]["val_loss"]


def test_the_jit_cache_tells_autocast_regions_apart():
    d = _inputs()
    f = jax.jit(lambda x: F.linear(x, d["w"]))
    assert f(d["x"]).dtype == jnp.float32
    with amp.autocast("cpu"):
        assert f(d["x"]).dtype == BF16
        with amp.autocast("cpu", enabled=False):  # torch: enabled=False turns it off inside
            assert f(d["x"]).dtype == jnp.float32
    assert f(d["x"]).dtype == jnp.float32


def test_autocast_as_a_decorator_and_float64_left_alone():
    @amp.autocast("cpu")
    def g(x, w):
        return F.linear(x, w)

    d = _inputs()
    assert g(d["x"], d["w"]).dtype == BF16
    with jax.enable_x64():  # torch: float64 tensors are not eligible for autocast
        assert g(d["x"].astype(np.float64), d["w"].astype(np.float64)).dtype == jnp.float64


def test_precision_fp32_adds_nothing():
    d = _inputs()
    assert F.linear(d["x"], d["w"]).dtype == jnp.float32
    with amp.precision_context("fp32"):
        assert F.linear(d["x"], d["w"]).dtype == jnp.float32


@pytest.mark.parametrize("kwargs,match", [
    ({"device_type": "tpu"}, "device_type must be one of"),
    ({"device_type": "cpu", "dtype": jnp.float32}, "dtype must be bfloat16 or float16; got float32"),
])
def test_autocast_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        amp.autocast(**kwargs)


def test_autocast_defaults_are_torchs():
    assert amp.autocast("cpu").policy.dtype == "bfloat16"
    assert amp.autocast("cuda").policy.dtype == "float16"
    assert amp.autocast("cpu", enabled=False).policy is None


def test_fit_precision_errors_name_the_value():
    x, y = np.zeros((8, 2), np.float32), np.zeros(8, np.int32)
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"precision must be one of \('fp32', 'bf16-mixed', 'fp16-mixed'\); "
                                         r"got 'bf16'"):
        fit(model, optim.sgd(lr=0.1), (x, y), epochs=1, batch_size=4, key=jax.random.key(0), precision="bf16")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # x64 off: float64 would be truncated; the check fires first anyway
        with pytest.raises(ValueError, match="keeps float32 master weights: dtype must be float32; got float64"):
            fit(model, optim.sgd(lr=0.1), (x, y), epochs=1, batch_size=4, key=jax.random.key(0),
                precision="bf16-mixed", dtype=jnp.float64)


def test_rnn_cells_are_lowered_on_cudas_list_only():
    # autocast_mode.h's AT_FORALL_LOWER_PRECISION_FP (CUDA) lists lstm_cell, gru_cell, rnn_tanh_cell, rnn_relu_cell;
    # the CPU list has none of them (its LSTM goes through mkldnn_rnn_layer)
    x = jnp.ones((2, 3))
    for cell in ("lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"):
        with amp.autocast("cuda", jnp.float16):
            assert amp.cast(cell, x)[0].dtype == jnp.float16
        with amp.autocast("cpu", jnp.float16):
            assert amp.cast(cell, x)[0].dtype == jnp.float32
