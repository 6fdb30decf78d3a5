"""The Transformer family and the complete nn.MultiheadAttention: torch's layout and init, state_dicts both ways,
torch's eval zeros at padding, errors. Values and gradients for every option are in
jaxdl/parity/_cases_transformer.py and torch's module_db samples (tests/test_module_db.py)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from tests.helpers import assert_close
from jaxdl import nn
from jaxdl.interop import load_state_dict, state_dict


def _torch_encoder(norm_first=False, batch_first=True):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=batch_first, norm_first=norm_first)
    return torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(8)).double().eval()


def _jaxdl_encoder(norm_first=False, batch_first=True, nested=True):
    layer = nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=batch_first, norm_first=norm_first)
    return nn.TransformerEncoder(layer, 2, nn.LayerNorm(8), enable_nested_tensor=nested)


def test_state_dict_loads_both_ways_with_torch_names(key, x64):
    ref, enc = _torch_encoder(), _jaxdl_encoder()
    params, state = load_state_dict(enc, ref.state_dict())
    assert list(state_dict(params, state, module=enc)) == list(ref.state_dict())
    fresh = _torch_encoder()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(*enc.init(key), module=enc).items()})
    model = nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    want = list(torch.nn.Transformer(8, 2, 1, 1, 16, batch_first=True).state_dict())
    assert list(state_dict(*model.init(key), module=model)) == want


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage:UserWarning")
def test_eval_under_no_grad_returns_zeros_at_left_aligned_padding_as_torch_nested_tensors(key, x64):
    ref, enc = _torch_encoder(), _jaxdl_encoder()
    params, _ = load_state_dict(enc, ref.state_dict())
    x = np.asarray(jax.random.normal(key, (2, 4, 8), jnp.float64))
    for pad in ([[False, False, False, True], [False, True, True, True]],   # left-aligned: nested path, zeros
                [[True, False, False, False], [False, True, True, True]]):  # not left-aligned: values as training
        pad = np.asarray(pad)
        with torch.no_grad():
            want = ref(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
        got = enc.apply(params, {}, jnp.asarray(x), src_key_padding_mask=jnp.asarray(pad), no_grad=True)[0]
        assert_close(got, want)
        # with gradients enabled torch's eval keeps the layers' values at padding: jaxdl's default
        assert_close(enc.apply(params, {}, jnp.asarray(x), src_key_padding_mask=jnp.asarray(pad))[0],
                     ref(torch.tensor(x), src_key_padding_mask=torch.tensor(pad)))
    pad = np.asarray([[False, False, False, True], [False, True, True, True]])
    trained = enc.apply(params, {}, jnp.asarray(x), src_key_padding_mask=jnp.asarray(pad), training=True,
                        no_grad=True)[0]
    assert np.all(np.asarray(trained)[1, 1:] != 0)  # training (and enable_nested_tensor=False) keep the values
    plain = _jaxdl_encoder(nested=False).apply(params, {}, jnp.asarray(x), src_key_padding_mask=jnp.asarray(pad),
                                               no_grad=True)[0]
    assert_close(plain, trained)


def test_transformer_init_as_torch():
    params, _ = nn.Transformer(16, 4, 2, 2, 32, norm_first=True).init(jax.random.key(0))
    enc = params["encoder"]["layers"]
    w = np.asarray(enc["0"]["linear1"]["weight"])  # xavier_uniform (32, 16) by Transformer's reset
    bound = math.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not np.array_equal(w, np.asarray(enc["1"]["linear1"]["weight"]))  # drawn per layer
    assert np.array_equal(enc["0"]["linear1"]["bias"], enc["1"]["linear1"]["bias"])  # deep copies, as torch
    assert np.all(np.asarray(enc["0"]["self_attn"]["in_proj_bias"]) == 0)
    stack, _ = _jaxdl_encoder().init(jax.random.key(1))
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(stack["layers"]["0"]),
                                                    jax.tree_util.tree_leaves(stack["layers"]["1"])))


def test_generate_square_subsequent_mask_is_torch_s():
    assert_close(nn.Transformer.generate_square_subsequent_mask(4),
                 torch.nn.Transformer.generate_square_subsequent_mask(4))


def test_mha_parameters_for_kdim_vdim_and_bias_kv(key):
    mha = nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=5, vdim=3)
    params, _ = mha.init(key)
    ref = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True, kdim=5, vdim=3)
    assert {k: tuple(v.shape) for k, v in state_dict(params).items()} == \
           {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    assert float(jnp.std(nn.MultiheadAttention(256, 2, add_bias_kv=True).init(key)[0]["bias_k"])) == \
           pytest.approx(1 / 16, rel=0.2)  # xavier_normal on (1, 1, E): std 1/√E


def test_errors(key):
    with pytest.raises(ValueError, match="activation should be relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.TransformerDecoderLayer(8, 3)
    model = nn.Transformer(8, 2, 1, 1, 16, batch_first=True)
    params, _ = model.init(key)
    with pytest.raises(ValueError, match="same batch size"):
        model.apply(params, {}, jnp.zeros((2, 3, 8)), jnp.zeros((3, 3, 8)))
    with pytest.raises(ValueError, match="d_model=8"):
        model.apply(params, {}, jnp.zeros((2, 3, 4)), jnp.zeros((2, 3, 4)))
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    with pytest.raises(ValueError, match="needs attn_mask"):
        layer.apply(layer.init(key)[0], {}, jnp.zeros((2, 3, 8)), is_causal=True)


def test_dropout_is_keyed_and_jits(key):
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    params, _ = layer.init(key)
    x = jax.random.normal(key, (2, 3, 8))
    f = jax.jit(lambda k: layer.apply(params, {}, x, training=True, key=k)[0])
    assert_close(f(jax.random.key(1)), f(jax.random.key(1)))
    assert not np.allclose(f(jax.random.key(1)), f(jax.random.key(2)))
    assert_close(layer.apply(params, {}, x)[0], layer.apply(params, {}, x)[0])  # eval: no key needed
