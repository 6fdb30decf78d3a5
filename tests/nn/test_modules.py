"""jaxdl.nn modules: torch's init distributions and state_dict names, keys per child, transforms, errors.
Values and gradients against torch are parity cases (jaxdl/parity/_cases_nn.py)."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.interop import flatten


def _mlp(nn_):
    return nn_.Sequential(nn_.Linear(5, 8), nn_.BatchNorm1d(8), nn_.ReLU(), nn_.Dropout(0.5), nn_.Linear(8, 3))


def test_linear_init_is_uniform_one_over_sqrt_fan_in(key):
    params, state = nn.Linear(400, 300).init(key)
    bound = 1 / np.sqrt(400)
    for name, n in (("weight", 120_000), ("bias", 300)):
        v = np.asarray(params[name])
        assert np.all(np.abs(v) <= bound) and np.abs(v).max() > 0.95 * bound
        assert abs(v.mean()) < 4 * bound / np.sqrt(3 * n)  # mean of U(±b): 0 ± 4 standard errors
    np.testing.assert_allclose(np.asarray(params["weight"]).std(), bound / np.sqrt(3), rtol=0.01)
    assert state == {} and "bias" not in nn.Linear(4, 3, bias=False).init(key)[0]


def test_embedding_init_is_standard_normal_with_zero_padding_row(key):
    w = np.asarray(nn.Embedding(1000, 50, padding_idx=3).init(key)[0]["weight"])
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # 50k samples: standard error ~0.005
    assert np.all(w[3] == 0)


def test_norm_init_ones_zeros(key):
    params, state = nn.BatchNorm1d(4).init(key)
    np.testing.assert_array_equal(params["weight"], np.ones(4))
    np.testing.assert_array_equal(params["bias"], np.zeros(4))
    np.testing.assert_array_equal(state["running_mean"], np.zeros(4))
    np.testing.assert_array_equal(state["running_var"], np.ones(4))
    assert int(state["num_batches_tracked"]) == 0 and jnp.issubdtype(state["num_batches_tracked"].dtype, jnp.integer)
    params, _ = nn.LayerNorm((2, 3)).init(key)
    np.testing.assert_array_equal(params["weight"], np.ones((2, 3)))
    np.testing.assert_array_equal(params["bias"], np.zeros((2, 3)))


def test_init_dtype(key, x64):
    params, state = _mlp(nn).init(key, dtype=jnp.float64)
    assert {a.dtype for a in jax.tree_util.tree_leaves(params)} == {jnp.dtype("float64")}
    assert state["1"]["running_var"].dtype == jnp.float64


def test_key_paths_and_shapes_equal_torch_state_dict(key):
    def both(name, *args, **kwargs):
        return getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)

    specs = [both("Linear", 5, 8), both("Linear", 5, 8, bias=False), both("BatchNorm1d", 8),
             both("BatchNorm1d", 8, affine=False), both("BatchNorm1d", 8, track_running_stats=False),
             both("LayerNorm", 8, bias=False), both("Embedding", 7, 4), (_mlp(nn), _mlp(torch.nn)),
             (nn.Sequential(*[nn.Linear(2, 2)] * 11), torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(11)]))]
    for jm, tm in specs:
        params, state = jm.init(key)
        flat = {**flatten(params), **flatten(state)}
        ref = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
        assert sorted(flat) == sorted(ref), jm
        assert {k: tuple(v.shape) for k, v in flat.items()} == ref, jm
        assert list(flatten(params)) == [k for k, _ in tm.named_parameters()], jm  # and torch's order
        assert list(flatten(state)) == [k for k, _ in tm.named_buffers()], jm


def test_sequential_gives_each_dropout_its_own_key(key):
    model = nn.Sequential(nn.Dropout(0.5), nn.Dropout(0.5))
    x = jnp.ones(4000)
    y, _ = model.apply({"0": {}, "1": {}}, {"0": {}, "1": {}}, x, training=True, key=key)
    k0, k1 = jax.random.split(key)
    np.testing.assert_array_equal(y, F.dropout(F.dropout(x, 0.5, key=k0), 0.5, key=k1))
    kept = float(jnp.mean(y != 0))
    assert 0.2 < kept < 0.3, kept  # independent masks keep 1/4; a shared key would keep 1/2
    assert set(np.unique(np.asarray(y))) == {0.0, 4.0}


def test_jit_vmap_scan_and_eval_keeps_state(key):
    model = _mlp(nn)
    params, state = model.init(key)
    xs = jax.random.normal(key, (3, 6, 5))
    apply = jax.jit(model.apply, static_argnames="training")

    y, new_state = apply(params, state, xs[0], training=False)
    assert y.shape == (6, 3)
    jax.tree_util.tree_map(np.testing.assert_array_equal, new_state, state)  # eval: state unchanged

    # vmap over an extra leading axis (eval) equals one call per slice
    ys = jax.vmap(lambda x: model.apply(params, state, x)[0])(xs)
    np.testing.assert_allclose(ys, np.stack([apply(params, state, x)[0] for x in xs]), rtol=1e-6, atol=1e-6)

    # lax.scan threading the state through training steps equals a Python loop
    keys = jax.random.split(key, 3)

    def body(s, xk):
        y, s = model.apply(params, s, xk[0], training=True, key=xk[1])
        return s, y

    s_scan, ys_scan = jax.lax.scan(body, state, (xs, keys))
    s_loop = state
    for x, k in zip(xs, keys):
        y_loop, s_loop = apply(params, s_loop, x, training=True, key=k)
    np.testing.assert_allclose(ys_scan[-1], y_loop, rtol=1e-5, atol=1e-6)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), s_scan, s_loop)
    assert int(s_scan["1"]["num_batches_tracked"]) == 3

    # gradients flow through apply
    g = jax.grad(lambda p: jnp.sum(model.apply(p, state, xs[0])[0]))(params)
    assert jax.tree_util.tree_structure(g) == jax.tree_util.tree_structure(params)


def test_bad_inputs_raise(key):
    with pytest.raises(ValueError, match=r"(?s)(4.*5|5.*4)"):
        nn.Linear(4, 3).apply(nn.Linear(4, 3).init(key)[0], {}, jnp.ones((2, 5)))
    bn = nn.BatchNorm1d(3)
    params, state = bn.init(key)
    with pytest.raises(ValueError, match=r"3 channels.*\(2, 4\)"):
        bn.apply(params, state, jnp.ones((2, 4)))
    with pytest.raises(ValueError, match="2D or 3D"):
        bn.apply(params, state, jnp.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="at least 2 values per channel"):
        bn.apply(params, state, jnp.ones((1, 3)), training=True)
    bn.apply(params, state, jnp.ones((1, 3)))  # eval with one sample is fine, as in torch
    with pytest.raises(ValueError, match="PRNG key"):
        nn.Dropout(0.5).apply({}, {}, jnp.ones(3), training=True)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]; got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(TypeError, match="argument 1"):
        nn.Sequential(nn.ReLU(), torch.nn.ReLU())
    with pytest.raises(TypeError, match="spec"):
        nn.ReLU()(jnp.ones(3))
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(4).apply(nn.LayerNorm(4).init(key)[0], {}, jnp.ones((2, 5)))


def test_modules_are_hashable_specs():
    assert hash(_mlp(nn)) == hash(_mlp(nn)) and _mlp(nn) == _mlp(nn)
    with pytest.raises(dataclasses.FrozenInstanceError):
        nn.Linear(4, 3).in_features = 5


def test_flatten_dims_checked_like_torch():
    for (start, end), shape in (((1, -1), (5,)), ((5, -1), (2, 3, 4)), ((-5, -1), (2, 3, 4)), ((0, 3), (2, 3, 4))):
        with pytest.raises(IndexError, match="Dimension out of range"):  # torch refuses, never wraps around
            torch.nn.Flatten(start, end)(torch.ones(shape))
        with pytest.raises(ValueError, match=r"Dimension out of range \(expected to be in range of"):
            nn.Flatten(start, end).apply({}, {}, jnp.ones(shape))
    for (start, end), shape in (((1, -1), (2, 3, 4)), ((0, -1), (2, 3)), ((-2, 2), (2, 3, 4)), ((0, -1), ())):
        ref = torch.nn.Flatten(start, end)(torch.ones(shape)).shape
        assert nn.Flatten(start, end).apply({}, {}, jnp.ones(shape))[0].shape == tuple(ref)


@pytest.mark.parametrize("name", ["Embedding", "EmbeddingBag"])
def test_embedding_padding_idx_checked_at_construction(key, name):
    with pytest.raises(AssertionError, match="(?i)padding_idx must be within num_embeddings"):
        getattr(torch.nn, name)(6, 3, padding_idx=6)
    for bad in (6, -7):  # an out-of-range row would be dropped silently by .at[].set
        with pytest.raises(ValueError, match=rf"{name}: padding_idx must be within num_embeddings, in \[-6, 6\); "
                                             rf"got {bad}"):
            getattr(nn, name)(6, 3, padding_idx=bad)
    with pytest.raises(NotImplementedError, match=f"{name}: max_norm=2.0 renormalises rows"):
        getattr(nn, name)(6, 3, max_norm=2.0)
    w = getattr(nn, name)(6, 3, padding_idx=-2).init(key)[0]["weight"]  # torch: row 6 - 2 = 4
    np.testing.assert_array_equal(np.asarray(w[4]), np.zeros(3))
    assert getattr(torch.nn, name)(6, 3, padding_idx=-2).padding_idx == 4


def test_batchnorm_half_input_with_float32_buffers_matches_torch(key):
    # torch's CPU "mixed type": bfloat16/float16 activations, float32 parameters and buffers. Statistics are
    # computed in float32 and the output rounded back to the input's dtype (jaxdl used to return float32 and
    # bfloat16-rounded running stats); momentum=None's 1/num_batches_tracked is not rounded to bfloat16 either.
    rng = np.random.default_rng(0)
    for tdtype, jdtype in ((torch.bfloat16, jnp.bfloat16), (torch.float16, jnp.float16)):
        for momentum in (0.1, None):
            tm, jm = torch.nn.BatchNorm1d(4, momentum=momentum), nn.BatchNorm1d(4, momentum=momentum)
            params, state = jm.init(key)
            for _ in range(3):
                x = torch.tensor(rng.normal(size=(16, 4, 5)) * 3 + 10, dtype=tdtype)
                ty = tm.train()(x)
                y, state = jm.apply(params, state, jnp.asarray(x.float().numpy(), jdtype), training=True)
                assert y.dtype == jdtype and state["running_var"].dtype == jnp.float32
                np.testing.assert_allclose(np.asarray(y, np.float32), ty.detach().float().numpy(), atol=2e-3)
            for name in ("running_mean", "running_var"):
                np.testing.assert_allclose(np.asarray(state[name]), getattr(tm, name).numpy(), rtol=1e-5)
            x = torch.tensor(rng.normal(size=(16, 4, 5)), dtype=tdtype)
            y, _ = jm.apply(params, state, jnp.asarray(x.float().numpy(), jdtype))
            assert y.dtype == jdtype
            np.testing.assert_allclose(np.asarray(y, np.float32), tm.eval()(x).detach().float().numpy(), atol=2e-3)


def test_loss_modules_are_hashable_specs_usable_as_static_jit_args():
    w = np.array([1.0, 2.0, 0.5], np.float32)
    criterion = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)
    assert criterion == nn.CrossEntropyLoss(weight=jnp.asarray(w), label_smoothing=0.1)
    assert hash(criterion) == hash(nn.CrossEntropyLoss(weight=tuple(w.tolist()), label_smoothing=0.1))
    x, y = jax.random.normal(jax.random.key(0), (4, 3)), jnp.array([0, 2, 1, 1])
    step = jax.jit(lambda c, a, t: jax.value_and_grad(lambda a: c(a, t))(a), static_argnums=0)
    loss, grad = step(criterion, x, y)
    assert_close_ = np.testing.assert_allclose
    assert_close_(loss, F.cross_entropy(x, y, jnp.asarray(w), label_smoothing=0.1), rtol=1e-6)
    assert grad.shape == x.shape
    assert float(nn.MSELoss()(jnp.ones(2), jnp.zeros(2))) == 1.0
    with pytest.raises(ValueError, match="size_average and reduce are deprecated"):
        nn.MSELoss(size_average=True)
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.L1Loss(reduction="avg")
    assert nn.KLDivLoss(reduction="batchmean").reduction == "batchmean"
