"""F.scaled_dot_product_attention and nn.MultiheadAttention: errors, edge semantics, transforms, layouts.

Values and gradients for every mask kind are compared with torch in jaxdl/parity/_cases_gpt.py.
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from tests.helpers import assert_close
from jaxdl import functional as F
from jaxdl import nn
from jaxdl.parity import TOLERANCES


def _qkv(key, shape_q=(2, 3, 5, 4), s=6):
    kq, kk, kv = jax.random.split(key, 3)
    shape_k = shape_q[:-2] + (s, shape_q[-1])
    return jax.random.normal(kq, shape_q), jax.random.normal(kk, shape_k), jax.random.normal(kv, shape_k)


def test_sdpa_errors(key):
    q, k, v = _qkv(key)
    with pytest.raises(ValueError, match="same embedding size"):
        F.scaled_dot_product_attention(q, k[..., :3], v)
    with pytest.raises(ValueError, match="same length S"):
        F.scaled_dot_product_attention(q, k, v[..., :4, :])
    with pytest.raises(ValueError, match=r"does not broadcast to \(\.\.\., L, S\) = \(2, 3, 5, 6\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=jnp.ones((5, 5), bool))
    with pytest.raises(TypeError, match="boolean .* or float"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=jnp.ones((5, 6), jnp.int32))
    with pytest.raises(ValueError, match="is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=jnp.ones((5, 6), bool), is_causal=True)
    with pytest.raises(ValueError, match="dropout_key"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=0.1)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]; got"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5, dropout_key=key)


def test_sdpa_scale_and_causal_rectangular_match_torch(key):
    q, k, v = _qkv(key)
    t = [torch.tensor(np.asarray(a)) for a in (q, k, v)]
    got = F.scaled_dot_product_attention(q, k, v, scale=0.3, is_causal=True)  # L=5 < S=6: top-left triangle
    want = torch.nn.functional.scaled_dot_product_attention(*t, scale=0.3, is_causal=True)
    assert_close(got, want)


def test_sdpa_fully_masked_row_is_zero_with_zero_grad(key):
    q, k, v = _qkv(key)
    mask = jnp.ones((5, 6), bool).at[1].set(False)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert np.all(np.asarray(out[..., 1, :]) == 0.0)
    g = jax.grad(lambda q: jnp.sum(F.scaled_dot_product_attention(q, k, v, attn_mask=mask)))(q)
    assert np.all(np.isfinite(np.asarray(g))) and np.all(np.asarray(g[..., 1, :]) == 0.0)


def test_sdpa_dropout_is_keyed_and_inverted(key):
    q, k, v = _qkv(key, (1, 1, 4, 3), s=200)
    v = jnp.ones_like(v)  # every row of weights·1 sums to 1 before dropout
    f = jax.jit(lambda dk: F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, dropout_key=dk))
    a, b = f(jax.random.key(1)), f(jax.random.key(2))
    assert_close(a, f(jax.random.key(1)))
    assert not np.allclose(a, b)
    assert abs(float(jnp.mean(a)) - 1.0) < 0.25  # E[dropout(w)/(1-p)] = w: the mean row sum stays near 1


def test_sdpa_vmap_and_scan_equal_batched(key):
    q, k, v = _qkv(key)
    full = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    vm = jax.vmap(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True))(q, k, v)
    _, sc = jax.lax.scan(lambda c, a: (c, F.scaled_dot_product_attention(*a, is_causal=True)), 0, (q, k, v))
    assert_close(vm, full)
    assert_close(sc, full)


def _mha_from_torch(ref):
    p = {k: jnp.asarray(v.detach().numpy()) for k, v in ref.state_dict().items()}
    return {"in_proj_weight": p["in_proj_weight"], "in_proj_bias": p["in_proj_bias"],
            "out_proj": {"weight": p["out_proj.weight"], "bias": p["out_proj.bias"]}}


def test_mha_init_matches_torch_layout_and_distribution(key):
    mha = nn.MultiheadAttention(64, 4)
    params, state = mha.init(key)
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(64, 4)
    shapes = {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    flat = {"in_proj_weight": params["in_proj_weight"].shape, "in_proj_bias": params["in_proj_bias"].shape,
            "out_proj.weight": params["out_proj"]["weight"].shape, "out_proj.bias": params["out_proj"]["bias"].shape}
    assert flat == shapes and state == {}
    bound = math.sqrt(6 / (64 + 192))  # xavier_uniform on (192, 64)
    w = np.asarray(params["in_proj_weight"])
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01
    assert np.all(np.asarray(params["in_proj_bias"]) == 0) and np.all(np.asarray(params["out_proj"]["bias"]) == 0)
    assert np.abs(np.asarray(params["out_proj"]["weight"])).max() <= 1 / 8
    assert nn.MultiheadAttention(4, 2, bias=False).init(key)[0].keys() == {"in_proj_weight", "out_proj"}


def test_mha_seq_first_and_unbatched_match_torch(key):
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=False)
    params = _mha_from_torch(ref)
    x = np.asarray(jax.random.normal(key, (5, 2, 8)))  # (L, N, E)
    got = nn.MultiheadAttention(8, 2).apply(params, {}, jnp.asarray(x))[0]  # torch's default: batch_first=False
    assert_close(got, ref(*(torch.tensor(x),) * 3))
    got1 = nn.MultiheadAttention(8, 2).apply(params, {}, jnp.asarray(x[:, 0]), key_padding_mask=jnp.arange(5) > 3)[0]
    t = torch.tensor(x[:, 0])
    assert_close(got1, ref(t, t, t, key_padding_mask=torch.arange(5) > 3))


def test_mha_fully_padded_batch_element_as_torch(key):
    torch.manual_seed(0)
    ref = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    params = _mha_from_torch(ref)
    x = np.asarray(jax.random.normal(key, (2, 3, 8)))
    pad = np.zeros((2, 3), bool)
    pad[1] = True
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    t = torch.tensor(x)
    for need_weights in (True, False):
        got = mha.apply(params, {}, jnp.asarray(x), key_padding_mask=jnp.asarray(pad), need_weights=need_weights)[0]
        want = ref(t, t, t, key_padding_mask=torch.tensor(pad), need_weights=need_weights)
        np.testing.assert_allclose(np.asarray(got[0]), want[0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_mha_errors(key):
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    params, state = mha.init(key)
    x = jnp.zeros((2, 3, 8))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\); got \(3, 2\)"):
        mha.apply(params, state, x, key_padding_mask=jnp.zeros((3, 2), bool))
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(3, 3\); got \(2, 3\)"):
        mha.apply(params, state, x, attn_mask=jnp.zeros((2, 3), bool))
    with pytest.raises(ValueError, match="expected query's embedding dim 8; got 4"):
        mha.apply(params, state, jnp.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="needs attn_mask"):
        mha.apply(params, state, x, is_causal=True)
    with pytest.raises(ValueError, match="PRNG key"):
        mha.apply(params, state, x, training=True)
    (out, w), _ = jax.jit(lambda p, x, k: mha.apply(p, {}, x, training=True, key=k))(params, x + 1.0, key)
    assert out.shape == (2, 3, 8) and w.shape == (2, 3, 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mha_saturated_softmax_gradients_are_torchs(dtype):
    # scores in the hundreds (inputs and weights ~U(−9, 9), as torch's OpInfo samples): every softmax row is
    # one-hot, and torch's backward y·(g − Σ g·y) gives q/k gradients that are exact zeros (float32) or ~1e-90
    # (float64); autodiff through JAX's exp/sum/divide left rounding noise there (1e-12 in float64)
    rng = np.random.default_rng(3)
    E, H, L, S, N = 2, 2, 3, 5, 2
    u = lambda *shape: rng.uniform(-9, 9, shape).astype(dtype)  # noqa: E731
    args = [u(L, N, E), u(S, N, E), u(S, N, E), u(3 * E, E), u(3 * E), u(E, E), u(E)]
    cts = [rng.standard_normal((L, N, E)).astype(dtype), rng.standard_normal((N, L, S)).astype(dtype)]

    def mine(q, k, v, w, b, ow, ob):
        out = F.multi_head_attention_forward(q, k, v, E, H, w, b, None, None, False, 0.0, ow, ob, training=False)
        return sum(jnp.sum(o * c) for o, c in zip(out, cts))

    with jax.enable_x64(dtype == "float64"):
        grads = jax.grad(mine, argnums=tuple(range(7)))(*map(jnp.asarray, args))
    def torch_grads(torch_dtype):
        targs = [torch.tensor(a, dtype=torch_dtype, requires_grad=True) for a in args]
        q, k, v, w, b, ow, ob = targs
        out = torch.nn.functional.multi_head_attention_forward(q, k, v, E, H, w, b, None, None, False, 0.0, ow, ob,
                                                               training=False)
        sum((o * torch.tensor(c, dtype=torch_dtype)).sum() for o, c in zip(out, cts)).backward()
        return [t.grad.numpy().astype(np.float64) for t in targs]

    theirs = torch_grads(getattr(torch, dtype))
    saturated = np.abs(theirs[0]) < 1e-30  # the query rows whose softmax is one-hot in every head
    assert saturated.sum() >= 4
    if dtype == "float64":
        for g, t in zip(grads, theirs):
            np.testing.assert_allclose(np.asarray(g), t, rtol=1e-10, atol=1e-12)
        return
    # float32 by the float32 rule: torch in float64 on the same inputs is the reference, and jaxdl's error within
    # the rule's factor of torch-float32's (jaxdl's second pass over a nearly saturated row is the more accurate)
    rule, eps = TOLERANCES["float32"], np.finfo(np.float32).eps
    for g, t, r in zip(grads, theirs, torch_grads(torch.float64)):
        mine, torchs = np.abs(np.asarray(g, np.float64) - r).max(), np.abs(t - r).max()
        assert mine <= rule["factor"] * torchs + rule["ulps"] * eps * np.abs(r).max(), (mine, torchs)
    np.testing.assert_array_equal(np.asarray(grads[0])[saturated], 0.0)  # torch's exact zeros


@pytest.mark.parametrize("index", [68, 160])
def test_multi_head_attention_forward_rounds_as_torch_in_float64(index):
    # torch's need_weights path scales q by √(1/d) before baddbmm(mask, q, kᵀ), and softmax's backward is
    # y·(g − Σ g·y); jaxdl scaled the scores after QKᵀ by 1/√d (another last bit for d = 2) and its reverse mode
    # computed y·g − y·Σ g·y: these OpInfo samples' gradients missed float64's elementwise rule (~1e-12 apart)
    from jaxdl.parity._core import run_case
    from jaxdl.parity._op_db import op_db_case

    row = run_case(op_db_case("nn.functional.multi_head_attention_forward", index), "float64", torch, "cpu",
                   raise_errors=True)
    assert row.passed, row


def _dots(fn, *args) -> int:
    return str(jax.make_jaxpr(fn)(*args)).count("dot_general")


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_in_projection_is_one_matmul_per_shared_input_as_torch(key, batch_first):
    # torch's _in_projection_packed: one linear with the packed (3E, E) weight when query is key is value, one for
    # query and one for key/value together when key is value; jaxdl made three, which XLA rounds otherwise
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    params = mha.init(key)[0]
    x, m = jax.random.normal(key, (5, 2, 8)), jax.random.normal(jax.random.key(1), (5, 2, 8))
    run = lambda q, k, v: mha.apply(params, {}, q, k, v, need_weights=False)[0][0]
    assert _dots(lambda x: run(x, x, x), x) == 4  # in-projection, QKᵀ, weights·V, out-projection
    assert _dots(lambda x, m: run(x, m, m), x, m) == 5
    assert _dots(lambda x, m: run(x, m, x), x, m) == 6
    for q, k in ((x, x), (x, m)):  # the packed product's split equals the three projections
        assert_close(run(q, k, k), run(q, k + 0.0, k * 1.0), atol=1e-5, rtol=1e-5)
    unbatched = lambda x: mha.apply(params, {}, x, x, x, need_weights=False)[0][0]
    assert _dots(unbatched, x[:, 0]) == 4


def test_transformer_encoder_layer_sample_34_value_rounds_within_torchs_rule():
    # module_db's TransformerEncoderLayer eval #34 (unbatched, d_model 4, 2 heads): head 0's scores (~25) make its
    # output sensitive to q/k's rounding; with three XLA matmuls (sequential FMA for this shape) the value's error
    # was 1.5e-6 against 1.44e-6 allowed, with the packed one 6.9e-7 (its gradients pass as probed: test_module_db)
    from jaxdl.parity._core import _comparisons, _judge_rounding, _reference
    from jaxdl.parity._module_db import module_db_case

    case = module_db_case("TransformerEncoderLayer", False, 34)
    mine, ref = _comparisons(case, "float32", torch, "cpu")[0], _reference(case, torch, "cpu")[0]
    assert _judge_rounding(mine.values, ref.values[1], case.tol("float32"))[3]
