"""nn.GPT: config handling, parameter count vs the torch reference (CLI too), names, dropout, errors, text data.

The full forward and loss gradients are compared with torch in jaxdl/parity/_cases_gpt.py.
"""
import math
import pathlib
import tomllib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.cli import main as cli_main
from jaxdl.data._text import CharVocab, char_lm_data, next_token_windows, stdlib_corpus, unigram_entropy
from jaxdl.parity._torch_gpt import torch_gpt

CONFIG = pathlib.Path(__file__).resolve().parents[2] / "configs" / "gpt2_124m.toml"
TINY = {"vocab_size": 11, "context_length": 8, "emb_dim": 8, "n_heads": 2, "n_layers": 2, "drop_rate": 0.5,
        "qkv_bias": False}


def _flatten(tree, prefix=""):
    out = {}
    for k, v in tree.items():
        out.update(_flatten(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": tuple(v.shape)})
    return out


@pytest.mark.parametrize("tie", [False, True])
def test_params_cli_matches_torch_count(tie, tmp_path, capsys):
    text = CONFIG.read_text().replace("tie_weights = false", f"tie_weights = {str(tie).lower()}")
    path = tmp_path / "gpt.toml"
    path.write_text(text)
    assert cli_main(["params", str(path)]) == 0
    printed = int(capsys.readouterr().out.split(":")[1].split("parameters")[0].replace(",", ""))
    cfg = nn.GPT.from_config({k: v for k, v in tomllib.loads(text)["model"].items() if k != "kind"})
    with torch.device("meta"):  # shapes only: nothing allocated
        ref = torch_gpt(cfg.config())
    assert printed == sum(p.numel() for p in ref.parameters()) == nn.count_parameters(cfg)
    assert printed == (124_412_160 if tie else 163_009_536)  # the lecture's figures


def test_param_names_and_shapes_equal_torch_state_dict(key):
    for tie in (False, True):
        cfg = {**TINY, "qkv_bias": tie, "tie_weights": tie}
        ref = {k: tuple(v.shape) for k, v in torch_gpt(cfg).state_dict().items()}
        if tie:
            ref.pop("out_head.weight")  # the same tensor as tok_emb.weight
        assert _flatten(nn.GPT.from_config(cfg).init(key)[0]) == ref


def test_init_distributions_are_torch_defaults(key):
    model = nn.GPT(vocab_size=500, context_length=64, emb_dim=64, n_heads=4, n_layers=1)
    p = model.init(key)[0]
    assert abs(float(jnp.std(p["tok_emb"]["weight"])) - 1.0) < 0.03  # nn.Embedding: N(0, 1)
    w = p["trf_blocks"]["0"]["ff"]["layers"]["2"]["weight"]  # nn.Linear(256, 64): U(±1/16)
    assert float(jnp.max(jnp.abs(w))) <= 1 / 16 and abs(float(jnp.std(w)) - 1 / 16 / math.sqrt(3)) < 0.003
    assert np.all(np.asarray(p["final_norm"]["weight"]) == 1) and np.all(np.asarray(p["final_norm"]["bias"]) == 0)


def test_config_and_input_errors(key):
    with pytest.raises(ValueError, match=r"unknown keys \['n_head'\], missing keys \['n_heads'\]"):
        nn.GPT.from_config({**{k: v for k, v in TINY.items() if k != "n_heads"}, "n_head": 2})
    with pytest.raises(ValueError, match="divisible by n_heads"):
        nn.GPT.from_config({**TINY, "n_heads": 3})
    with pytest.raises(ValueError, match="drop_rate"):
        nn.GPT.from_config({**TINY, "drop_rate": 2.0})
    model = nn.GPT.from_config(TINY)
    params, state = model.init(key)
    with pytest.raises(ValueError, match="exceeds context_length=8"):
        model.apply(params, state, jnp.zeros((1, 9), jnp.int32))
    with pytest.raises(ValueError, match="integer token ids"):
        model.apply(params, state, jnp.zeros((1, 4)))
    with pytest.raises(ValueError, match="needs a PRNG key"):
        model.apply(params, state, jnp.zeros((1, 4), jnp.int32), training=True)
    with pytest.raises(ValueError, match=r"logits \(B, T, V\) and target \(B, T\)"):
        nn.lm_loss(jnp.zeros((2, 3, 11)), jnp.zeros((2, 4), jnp.int32))


def test_dropout_only_when_training_and_causal(key):
    model = nn.GPT.from_config(TINY)
    params, state = model.init(key)
    f = jax.jit(lambda x, training, k: model.apply(params, state, x, training=training, key=k)[0],
                static_argnums=1)
    x = jax.random.randint(key, (2, 8), 0, 11)
    assert_eq = lambda a, b: np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert_eq(f(x, False, None), f(x, False, None))
    assert not np.allclose(f(x, True, jax.random.key(1)), f(x, True, jax.random.key(2)))
    # causal: changing the last token leaves every earlier position's logits unchanged
    y = x.at[:, -1].set((x[:, -1] + 1) % 11)
    np.testing.assert_allclose(np.asarray(f(x, False, None)[:, :-1]), np.asarray(f(y, False, None)[:, :-1]),
                               rtol=1e-6, atol=1e-6)


def test_text_data():
    text = stdlib_corpus(5000)
    assert len(text) == 5000 and text == stdlib_corpus(5000)  # fixed file order: reproducible
    vocab = CharVocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CharVocab("ab").encode("abc")
    x, y = next_token_windows(np.arange(10), 4)
    np.testing.assert_array_equal(x, [[0, 1, 2, 3], [4, 5, 6, 7]])
    np.testing.assert_array_equal(y, [[1, 2, 3, 4], [5, 6, 7, 8]])
    assert next_token_windows(np.arange(10), 4, stride=1)[0].shape == (6, 4)
    assert unigram_entropy(np.array([0, 0, 1, 1]), 3) == pytest.approx(math.log(2))
    vocab, (xt, yt), (xv, yv) = char_lm_data(text, 16, val_fraction=0.2)
    assert xt.shape[1] == 16 and xv.shape[1] == 16 and len(xt) == (4000 - 1) // 16  # the last target needs one more id


def test_vmap_and_scan_over_batches_equal_direct(key):
    model = nn.GPT.from_config(TINY)
    params, state = model.init(key)
    x = jax.random.randint(key, (3, 2, 8), 0, 11)  # 3 groups of (B=2, T=8)
    direct = model.apply(params, state, x.reshape(6, 8))[0].reshape(3, 2, 8, 11)
    vm = jax.vmap(lambda xb: model.apply(params, state, xb)[0])(x)
    _, sc = jax.lax.scan(lambda c, xb: (c, model.apply(params, state, xb)[0]), 0, x)
    np.testing.assert_allclose(np.asarray(vm), np.asarray(direct), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(sc), np.asarray(direct), rtol=1e-5, atol=1e-5)


def test_layer_norm_custom_jvp_equals_the_differentiated_formula(key):
    """F.layer_norm (a custom JVP for speed) equals autodiff through the textbook formula: value, gradient and
    forward mode, over one and over two trailing axes."""
    from jaxdl import functional as F

    def textbook(x, w, b, axes):
        mean = jnp.mean(x, axis=axes, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
        return (x - mean) / jnp.sqrt(var + 1e-5) * w + b

    kx, kw, kb = jax.random.split(key, 3)
    for shape in ((16,), (4, 4)):
        axes = tuple(range(-len(shape), 0))
        x = jax.random.normal(kx, (6, *shape)) * 3.0 + 1.0
        w, b = jax.random.normal(kw, shape), jax.random.normal(kb, shape)
        ours = lambda x, w, b: F.layer_norm(x, shape, w, b)
        ref = lambda x, w, b: textbook(x, w[None], b[None], axes)
        np.testing.assert_allclose(ours(x, w, b), ref(x, w, b), rtol=1e-5, atol=1e-6)
        weights = jnp.arange(16.0).reshape(shape)[None]
        loss = lambda f: lambda *a: jnp.sum(jnp.sin(f(*a)) * weights)
        grads = [jax.grad(loss(f), argnums=(0, 1, 2))(x, w, b) for f in (ours, ref)]
        for g1, g2 in zip(*grads):
            np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-5)
        tangents = (jnp.cos(x), jnp.ones(shape), weights[0])
        np.testing.assert_allclose(jax.jvp(ours, (x, w, b), tangents)[1], jax.jvp(ref, (x, w, b), tangents)[1],
                                   rtol=1e-5, atol=1e-5)


def test_gpt2_hf_config_counts_released_gpt2_small(capsys):
    from transformers import GPT2Config, GPT2LMHeadModel

    path = CONFIG.parent / "gpt2_hf.toml"
    assert cli_main(["params", str(path)]) == 0
    printed = int(capsys.readouterr().out.split(":")[1].split("parameters")[0].replace(",", ""))
    with torch.device("meta"):  # transformers' GPT-2 small, shapes only
        ref = GPT2LMHeadModel(GPT2Config())
    assert printed == sum(p.numel() for p in ref.parameters()) == 124_439_808


def test_option_errors():
    with pytest.raises(ValueError, match=r"activation must be one of \['gelu', 'gelu_tanh'\]"):
        nn.GPT.from_config({**TINY, "activation": "relu"})
    with pytest.raises(ValueError, match="qkv_bias=True needs bias=True"):
        nn.GPT.from_config({**TINY, "qkv_bias": True, "bias": False})
    with pytest.raises(ValueError, match="layer_norm_eps must be a positive"):
        nn.GPT.from_config({**TINY, "layer_norm_eps": 0.0})


def test_lm_loss_ignore_index_like_torch():
    logits = np.random.default_rng(0).normal(size=(2, 3, 5)).astype(np.float32)
    target = np.array([[1, -1, 4], [-1, 0, 2]])
    want = torch.nn.functional.cross_entropy(torch.tensor(logits).flatten(0, 1), torch.tensor(target).flatten(),
                                             ignore_index=-1)
    np.testing.assert_allclose(nn.lm_loss(jnp.asarray(logits), jnp.asarray(target), ignore_index=-1), want.numpy(),
                               rtol=1e-6)
