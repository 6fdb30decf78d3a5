"""nn.RNN / LSTM / GRU and the cells beyond the parity cases: torch's state_dict both ways, torch's init, dropout
between layers, the argument and input errors, and jaxdl.nn.utils.rnn's packing against torch.nn.utils.rnn."""
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.interop import load_state_dict, state_dict
from jaxdl.nn.utils import rnn as rnn_utils


@pytest.mark.parametrize("cls,kwargs", [("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}),
                                        ("GRU", {"num_layers": 2, "bias": False}),
                                        ("RNN", {"bidirectional": True, "nonlinearity": "relu"}),
                                        ("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {"bias": False})])
def test_state_dict_loads_both_ways_with_torchs_names_order_and_init(cls, kwargs, key):
    tm, jm = getattr(torch.nn, cls)(3, 4, **kwargs), getattr(nn, cls)(3, 4, **kwargs)
    tsd = tm.state_dict()
    params, state = jm.init(key)
    mine = state_dict(params, state, module=jm)
    assert list(mine) == list(tsd)  # torch's names, in torch's order
    assert {k: v.shape for k, v in mine.items()} == {k: tuple(v.shape) for k, v in tsd.items()}
    bound = 1 / math.sqrt(4)  # torch: every weight ~ U(±1/√hidden_size)
    values = np.abs(np.concatenate([v.ravel() for v in mine.values()]))
    assert values.max() <= bound and values.max() > 0.9 * bound and 0.35 * bound < values.mean() < 0.65 * bound
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in mine.items()})  # jaxdl -> torch, strict
    loaded, _ = load_state_dict(jm, tsd)  # torch -> jaxdl
    for k, v in state_dict(loaded, module=jm).items():
        np.testing.assert_array_equal(v, tsd[k].numpy())


def test_dropout_between_layers_needs_a_key_and_changes_only_training(key):
    jm = nn.LSTM(3, 5, num_layers=2, dropout=0.5)
    params, state = jm.init(key)
    x = jax.random.normal(key, (6, 2, 3))
    with pytest.raises(ValueError, match="key"):
        jm.apply(params, state, x, training=True)
    (y_eval, _), _ = jm.apply(params, state, x)
    (y_train, _), _ = jm.apply(params, state, x, training=True, key=jax.random.key(1))
    (y_other, _), _ = jm.apply(params, state, x, training=True, key=jax.random.key(2))
    assert not np.allclose(y_train, y_eval) and not np.allclose(y_train, y_other)
    tm = torch.nn.LSTM(3, 5, num_layers=2, dropout=0.5).eval()  # eval: no dropout, torch's values
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(params, module=jm).items()})
    np.testing.assert_allclose(y_eval, tm(torch.tensor(np.asarray(x)))[0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_with_one_layer_warns_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


@pytest.mark.parametrize("make,message", [
    (lambda: nn.LSTM(3, 4, proj_size=4), "proj_size has to be smaller than hidden_size"),
    (lambda: nn.LSTM(3, 4, proj_size=-1), "proj_size should be a positive integer"),
    (lambda: nn.RNN(3, 4, nonlinearity="gelu"), "Unknown nonlinearity 'gelu'"),
    (lambda: nn.GRU(3, 0), "hidden_size must be an integer greater than zero"),
    (lambda: nn.RNN(3, 4, num_layers=0), "num_layers must be an integer greater than zero"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), "dropout should be a number in range"),
    (lambda: nn.GRUCell(3, -1), "hidden_size must be an integer greater than zero"),
])
def test_constructor_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_input_errors(key):
    jm = nn.LSTM(3, 4)
    params, state = jm.init(key)
    with pytest.raises(ValueError, match="Expected input to be 2D or 3D, got 4D"):
        jm.apply(params, state, jnp.zeros((1, 2, 3, 3)))
    with pytest.raises(ValueError, match="must be equal to input_size. Expected 3, got 5"):
        jm.apply(params, state, jnp.zeros((2, 1, 5)))
    with pytest.raises(ValueError, match=r"Expected hidden size \(1, 2, 4\), got \(1, 3, 4\)"):
        jm.apply(params, state, jnp.zeros((5, 2, 3)), (jnp.zeros((1, 3, 4)), jnp.zeros((1, 2, 4))))
    with pytest.raises(ValueError, match="hx should also be 2-D"):
        jm.apply(params, state, jnp.zeros((5, 3)), (jnp.zeros((1, 1, 4)), jnp.zeros((1, 1, 4))))
    with pytest.raises(ValueError, match="inconsistent input_size"):
        nn.GRUCell(3, 4).apply(nn.GRUCell(3, 4).init(key)[0], {}, jnp.zeros((2, 5)))


def test_jit_and_vmap(key):
    jm = nn.GRU(3, 4, batch_first=True)
    params, state = jm.init(key)
    x = jax.random.normal(key, (2, 5, 3))
    (y, h), _ = jax.jit(lambda p, x: jm.apply(p, state, x))(params, x)
    (yv, hv), _ = jax.vmap(lambda x: jm.apply(params, state, x))(x)  # unbatched (T, F) per example
    np.testing.assert_allclose(yv, y, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(hv[:, 0], h[0], rtol=1e-6, atol=1e-6)


def test_pad_and_pack_as_torch():
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2)).astype(np.float32) for n in (3, 5, 1, 5)]
    tseqs = [torch.from_numpy(s) for s in seqs]
    for batch_first in (False, True):
        for side in ("right", "left"):
            np.testing.assert_array_equal(
                rnn_utils.pad_sequence(seqs, batch_first, -1.0, side),
                torch.nn.utils.rnn.pad_sequence(tseqs, batch_first, -1.0, side).numpy())
    packed = rnn_utils.pack_sequence(seqs, enforce_sorted=False)
    tpacked = torch.nn.utils.rnn.pack_sequence(tseqs, enforce_sorted=False)
    np.testing.assert_array_equal(packed.batch_sizes, tpacked.batch_sizes.numpy())
    np.testing.assert_array_equal(packed.sorted_indices, tpacked.sorted_indices.numpy())
    np.testing.assert_array_equal(packed.unsorted_indices, tpacked.unsorted_indices.numpy())
    padded, lengths = rnn_utils.pad_packed_sequence(packed, batch_first=True, padding_value=7.0, total_length=6)
    tpadded, tlengths = torch.nn.utils.rnn.pad_packed_sequence(tpacked, True, 7.0, total_length=6)
    np.testing.assert_array_equal(padded, tpadded.numpy())
    np.testing.assert_array_equal(lengths, tlengths.numpy())
    assert rnn_utils.pack_sequence(sorted(seqs, key=len, reverse=True)).sorted_indices is None
    with pytest.raises(ValueError, match="must be sorted in decreasing order"):
        rnn_utils.pack_sequence(seqs)
    with pytest.raises(ValueError, match="at least the length of the longest"):
        rnn_utils.pad_packed_sequence(packed, total_length=2)


CELLS = [("lstm_cell", 4), ("gru_cell", 3), ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)]


def _cell_inputs(name, gates, seed=0):
    rng = np.random.default_rng(seed)
    r = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    x, h, c = r(3, 5), r(3, 4), r(3, 4)
    return [x, (h, c) if name == "lstm_cell" else h, r(gates * 4, 5), r(gates * 4, 4), r(gates * 4), r(gates * 4)]


def _torch_cell(name, args, low=None):
    t = lambda a: tuple(map(t, a)) if isinstance(a, tuple) else torch.tensor(a, requires_grad=True)  # noqa: E731
    targs = [t(a) for a in args]
    with torch.autocast("cpu", dtype=low or torch.bfloat16, enabled=low is not None, cache_enabled=False):
        out = getattr(torch, name)(*targs)
    return targs, out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("low", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize("name,gates", CELLS)
def test_cells_under_cpu_autocast_equal_torch(name, gates, low):
    # torch's CPU list does not name the cells: their linears run in the low dtype, the gate math in what the
    # dtypes promote to (a float32 c or h makes c', h' float32); torch's gradients too
    from jaxdl import amp
    from jaxdl import functional as F

    args = _cell_inputs(name, gates)
    targs, tout = _torch_cell(name, args, low)
    cts = [np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32) for _ in tout]
    sum((o.float() * torch.tensor(c)).sum() for o, c in zip(tout, cts)).backward()
    jlow = {torch.bfloat16: jnp.bfloat16, torch.float16: jnp.float16}[low]

    def objective(*a):
        with amp.autocast("cpu", jlow):
            out = getattr(F, name)(*a)
        out = out if isinstance(out, tuple) else (out,)
        return sum(jnp.sum(o.astype(jnp.float32) * c) for o, c in zip(out, cts)), out

    (_, out), grads = jax.jit(jax.value_and_grad(objective, argnums=tuple(range(6)), has_aux=True),
                              compiler_options=amp.EXACT_ROUNDING)(*args)
    for mine, theirs in zip(out, tout):
        assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
        if mine.dtype == jnp.float32:  # computed in float32 from the same low-dtype gates: float32 tanh's ulps
            np.testing.assert_allclose(np.asarray(mine), theirs.detach().numpy(), rtol=4e-7, atol=1e-7)
        else:
            np.testing.assert_array_equal(np.asarray(mine, np.float32), theirs.detach().float().numpy())
    flat = lambda a: list(a) if isinstance(a, tuple) else [a]  # noqa: E731
    for g, t in zip([x for a in grads for x in flat(a)], [x for a in targs for x in flat(a)]):
        np.testing.assert_allclose(np.asarray(g), t.grad.numpy(), rtol=2e-2, atol=2e-2 * np.abs(t.grad.numpy()).max())


@pytest.mark.parametrize("name,gates", CELLS)
def test_cells_under_cuda_autocast_follow_torchs_cuda_list(name, gates):
    # torch's CUDA list names the cells (this CPU torch cannot run it): every input in the low dtype, the output
    # low; LSTM/GRU as its fused kernels (gate products rounded to the low dtype, gate math in float32, rounded
    # once), here against that formula run by torch in float32 on the rounded products
    from jaxdl import amp
    from jaxdl import functional as F

    args = _cell_inputs(name, gates)
    with amp.autocast("cuda", jnp.bfloat16):
        out = getattr(F, name)(*args)
    out = out if isinstance(out, tuple) else (out,)
    assert all(o.dtype == jnp.bfloat16 for o in out)
    b = lambda a: torch.tensor(a).bfloat16()  # noqa: E731
    x, hx, wi, wh, bi, bh = args
    h = hx[0] if name == "lstm_cell" else hx
    gi, gh = (b(x) @ b(wi).T).float() + b(bi).float(), (b(h) @ b(wh).T).float() + b(bh).float()
    if name == "lstm_cell":
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = f.sigmoid() * b(hx[1]).float() + i.sigmoid() * g.tanh()
        want = (o.sigmoid() * c.tanh(), c)
    elif name == "gru_cell":
        (ri, zi, ni), (rh, zh, nh) = gi.chunk(3, 1), gh.chunk(3, 1)
        r, z = (ri + rh).sigmoid(), (zi + zh).sigmoid()
        n = (ni + r * nh).tanh()
        want = (n + z * (b(h).float() - n),)
    else:
        act = torch.tanh if name == "rnn_tanh_cell" else torch.relu
        want = (act(torch.nn.functional.linear(b(x), b(wi), b(bi)) + torch.nn.functional.linear(b(h), b(wh), b(bh))),)
    for mine, w in zip(out, want):
        np.testing.assert_allclose(np.asarray(mine, np.float32), w.bfloat16().float().numpy(), rtol=2**-7, atol=1e-2)


@pytest.mark.parametrize("cls", ["GRU", "RNN"])
def test_gru_and_rnn_modules_under_cpu_autocast_equal_torch(cls, key):
    # torch's CPU GRU/RNN decompose into the cells' ops (the LSTM module runs oneDNN's bfloat16 kernel instead)
    from jaxdl import amp

    torch.manual_seed(0)
    tm, jm = getattr(torch.nn, cls)(4, 6, num_layers=2), getattr(nn, cls)(4, 6, num_layers=2)
    params, _ = load_state_dict(jm, {k: v.numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        tout, th = tm(torch.tensor(x))

    def forward(p, x):
        with amp.autocast("cpu", jnp.bfloat16):
            return jm.apply(p, {}, x)[0]

    out, h = jax.jit(forward, compiler_options=amp.EXACT_ROUNDING)(params, x)
    assert (out.dtype, h.dtype) == ((jnp.bfloat16,) * 2 if cls == "RNN" else (jnp.float32,) * 2)
    for mine, theirs in ((out, tout), (h, th)):
        if cls == "RNN":  # bfloat16 throughout: bit for bit
            np.testing.assert_array_equal(np.asarray(mine, np.float32), theirs.detach().float().numpy())
        else:  # float32 gate math on the same bfloat16 products: float32 tanh's ulps
            np.testing.assert_allclose(np.asarray(mine), theirs.detach().numpy(), rtol=4e-7, atol=1e-7)


@pytest.mark.parametrize("kwargs,dtypes", [
    ({}, ("bfloat16",) * 3),
    ({"num_layers": 2, "bidirectional": True, "batch_first": True}, ("bfloat16",) * 3),
    ({"bias": False}, ("bfloat16",) * 3),
    ({"proj_size": 3}, ("bfloat16", "bfloat16", "float32")),  # torch: "not supported with oneDNN", the cells' path
    ({"packed": True}, ("float32",) * 3),  # a PackedSequence: the cells' path (float32 c promotes h)
])
def test_lstm_module_under_cpu_autocast_has_torchs_dtypes(kwargs, dtypes):
    # torch's CPU nn.LSTM runs oneDNN's layer op mkldnn_rnn_layer, on its CPU lower-precision list: output, h_n and
    # c_n bfloat16 (jaxdl computed float32 before); its projected and packed LSTMs decompose into the cells' ops
    from jaxdl import amp

    kwargs = dict(kwargs)
    packed = kwargs.pop("packed", False)
    torch.manual_seed(0)
    tm, jm = torch.nn.LSTM(4, 6, **kwargs), nn.LSTM(4, 6, **kwargs)
    params, _ = load_state_dict(jm, {k: v.numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)
    lengths = [5, 4, 2]
    pack = lambda mod, x: mod.pack_padded_sequence(x, lengths) if packed else x  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: "LSTM with projections is not supported with oneDNN"
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            tout, (th, tc) = tm(pack(torch.nn.utils.rnn, torch.tensor(x)))

    def forward(p, x):
        with amp.autocast("cpu", jnp.bfloat16):
            return jm.apply(p, {}, pack(rnn_utils, x))[0]

    out, (h, c) = jax.jit(forward, compiler_options=amp.EXACT_ROUNDING)(params, x)
    if packed:
        out, tout = out.data, tout.data
    assert (str(tout.dtype), str(th.dtype), str(tc.dtype)) == tuple(f"torch.{d}" for d in dtypes)
    assert (out.dtype, h.dtype, c.dtype) == tuple(jnp.dtype(d) for d in dtypes)


def test_lstm_module_under_cpu_autocast_equals_torch_by_the_bf16_rule():
    # values and gradients (input, states, every parameter) of the oneDNN path, judged as the bf16-mixed parity
    # rows are: within 4x torch's own bfloat16 error against torch-float64 (oneDNN's exp/tanh are its own)
    from jaxdl.parity._core import MIXED, Case, run_case
    from jaxdl.parity._module_db import compare_module

    def case(env):
        kwargs = {"num_layers": 2, "bidirectional": True}
        tm, jm = torch.nn.LSTM(3, 4, **kwargs), nn.LSTM(3, 4, **kwargs)
        x, h, c = (env.torch.from_numpy(env.randn(*s)) for s in ((5, 2, 3), (4, 2, 4), (4, 2, 4)))
        return compare_module(env, tm, jm, [x, (h, c)])

    row = run_case(Case("nn.LSTM under CPU autocast", "rnn", case, dtypes=(MIXED,)), MIXED, torch, "cpu",
                   raise_errors=True)
    assert row.passed, row
