"""nn.RNN / LSTM / GRU and the cells beyond the parity cases: torch's state_dict both ways, torch's init, dropout
between layers, the argument and input errors, and jaxdl.nn.utils.rnn's packing against torch.nn.utils.rnn."""
import math

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
