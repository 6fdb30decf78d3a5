"""load_gpt / export_gpt against the three sources' layouts: the book's GPTModel and nanoGPT's GPT (re-implemented
for these tests in tests/gpt_sources) and transformers' GPT2LMHeadModel (built from a GPT2Config, no download).

Each direction is checked: the source's weights loaded into jaxdl give the source's logits (float64 ≤ 1e-10;
float32 within a few times torch's own float32 error, both against torch in float64) and greedy tokens, and
jaxdl's export loads into the source's class with strict=True and gives back the same logits.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.generate import generate
from jaxdl.interop import export_gpt, load_gpt, load_state_dict
from tests.gpt_sources import nanogpt_model, rasbt_gpt

V, CTX, E, H, LAYERS = 50, 16, 32, 4, 2


def rasbt(qkv_bias=True, **_):
    return rasbt_gpt.GPTModel({"vocab_size": V, "context_length": CTX, "emb_dim": E, "n_heads": H,
                               "n_layers": LAYERS, "drop_rate": 0.0, "qkv_bias": qkv_bias})


def nanogpt(bias=True, **_):
    return nanogpt_model.GPT(nanogpt_model.GPTConfig(block_size=CTX, vocab_size=V, n_layer=LAYERS, n_head=H,
                                                     n_embd=E, dropout=0.0, bias=bias))


def huggingface(tie=True, **_):
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=V, n_positions=CTX, n_embd=E, n_layer=LAYERS, n_head=H, resid_pdrop=0.0,
                     embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0, tie_word_embeddings=tie)
    return GPT2LMHeadModel(cfg)


BUILD = {"rasbt": rasbt, "nanogpt": nanogpt, "huggingface": huggingface}


def logits_of(source, model, idx):
    with torch.no_grad():
        if source == "nanogpt":  # with targets nanoGPT returns every position's logits
            return model(idx, targets=torch.zeros_like(idx))[0]
        if source == "huggingface":
            return model(idx).logits
        return model(idx)


def reference(source, seed=0, **kw):
    """The source's model with random weights around its init (LayerNorm affine and biases too), in eval."""
    torch.manual_seed(seed)
    model = BUILD[source](**kw).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model


def greedy_torch(source, model, idx, n):
    for _ in range(n):
        nxt = logits_of(source, model, idx)[:, -1].argmax(-1, keepdim=True)
        idx = torch.cat([idx, nxt], dim=1)
    return idx.numpy()


def state_dict_np(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def idx_batch(seed=1, shape=(3, 10)):
    return torch.as_tensor(np.random.default_rng(seed).integers(0, V, shape))


@pytest.fixture
def torch_float64():
    """torch's default dtype float64 for one test: the book's GELU builds its √(2/π) with torch.tensor, which
    is float32 otherwise (a 3e-8 relative change of the constant, that much in a float64 model's logits)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.mark.parametrize("source", BUILD)
def test_float64_logits_greedy_tokens_and_export_round_trip(source, x64, torch_float64):
    ref = reference(source)
    model, params, state = load_gpt(ref.state_dict(), source=source, n_heads=H)
    assert (model.vocab_size, model.context_length, model.emb_dim, model.n_layers) == (V, CTX, E, LAYERS)
    assert params["tok_emb"]["weight"].dtype == jnp.float64
    idx = idx_batch()
    want = logits_of(source, ref, idx).numpy()
    got = np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
    tokens = generate(model, params, jnp.asarray(idx.numpy()[:, :4]), 8, key=jax.random.key(0), temperature=0.0)
    np.testing.assert_array_equal(np.asarray(tokens), greedy_torch(source, ref, idx[:, :4], 8))
    # jaxdl -> source: a fresh model of the source's own class takes the export with strict=True
    back = BUILD[source]().eval()
    back.load_state_dict({k: torch.from_numpy(v) for k, v in export_gpt(model, params, target=source).items()},
                         strict=True)
    np.testing.assert_array_equal(logits_of(source, back, idx).numpy(), want)


@pytest.mark.parametrize("source", BUILD)
def test_float32_logits_within_torchs_own_float32_error(source):
    ref32 = reference(source)
    model, params, state = load_gpt(ref32.state_dict(), source=source, n_heads=H)
    idx = idx_batch()
    ref64 = reference(source).double()
    exact = logits_of(source, ref64, idx).numpy()
    torch_err = np.max(np.abs(logits_of(source, ref32, idx).numpy() - exact))
    ours_err = np.max(np.abs(np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0]) - exact))
    assert 0 < torch_err < 1e-4 and ours_err <= 4 * torch_err, (ours_err, torch_err)


def test_options_the_weights_tell():
    for source, kw, want in [("rasbt", {"qkv_bias": False}, {"qkv_bias": False, "bias": True, "tie_weights": False}),
                             ("nanogpt", {"bias": False}, {"qkv_bias": False, "bias": False, "tie_weights": True}),
                             ("huggingface", {"tie": False}, {"qkv_bias": True, "bias": True, "tie_weights": False})]:
        ref = reference(source, **kw)
        model, params, state = load_gpt(ref.state_dict(), source=source, n_heads=H)
        assert {k: getattr(model, k) for k in want} == want, source
        assert model.activation == ("gelu" if source == "nanogpt" else "gelu_tanh")
        idx = idx_batch(2, (2, 7))
        np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0]),
                                   logits_of(source, ref, idx).numpy(), rtol=1e-4, atol=1e-4)
        back = BUILD[source](**kw).eval()
        back.load_state_dict({k: torch.from_numpy(v) for k, v in export_gpt(model, params, target=source).items()},
                             strict=True)


def test_huggingface_hub_layout_without_prefix_with_old_buffers():
    """The hub's gpt2 files: GPT2Model names (no "transformer."), no lm_head, attn.bias/masked_bias buffers."""
    ref = reference("huggingface")
    sd = {k.removeprefix("transformer."): v for k, v in ref.state_dict().items() if k != "lm_head.weight"}
    for i in range(LAYERS):
        sd[f"h.{i}.attn.bias"] = torch.tril(torch.ones(CTX, CTX, dtype=torch.bool)).view(1, 1, CTX, CTX)
        sd[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    model, params, state = load_gpt(sd, source="huggingface", n_heads=H, drop_rate=0.1)
    assert model.tie_weights and model.drop_rate == 0.1
    idx = idx_batch()
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0]),
                               logits_of("huggingface", ref, idx).numpy(), rtol=1e-4, atol=1e-4)


def test_one_error_lists_everything_that_does_not_fit():
    sd = state_dict_np(reference("rasbt"))
    with pytest.raises(ValueError) as err:
        load_gpt(sd, source="nanogpt", n_heads=H)
    msg = str(err.value)
    assert "problem(s)" in msg and "unexpected key 'tok_emb.weight'" in msg and "trf_blocks.1.norm2.scale" in msg
    sd["trf_blocks.1.att.W_key.weight"] = sd["trf_blocks.1.att.W_key.weight"][:, :5]
    with pytest.raises(ValueError) as err:
        load_gpt(sd, source="rasbt", n_heads=H, vocab_size=99, n_layer=2)
    msg = str(err.value)
    assert "3 problem(s)" in msg and "vocab_size=99 contradicts" in msg and "unknown config override n_layer" in msg
    with pytest.raises(ValueError, match=r"expected shape \(32, 32\), got \(32, 5\)"):
        load_gpt({**sd, "trf_blocks.1.att.W_key.weight": sd["trf_blocks.0.att.W_key.weight"][:, :5]},
                 source="rasbt", n_heads=H)
    with pytest.raises(ValueError, match="divisible by n_heads"):
        load_gpt(state_dict_np(reference("rasbt")), source="rasbt", n_heads=5)
    with pytest.raises(ValueError, match="source must be one of"):
        load_gpt(sd, source="gpt2", n_heads=H)


def test_export_refuses_what_the_target_cannot_compute(key):
    exact = nn.GPT(V, CTX, E, H, LAYERS, activation="gelu", tie_weights=True)
    params = exact.init(key)[0]
    with pytest.raises(ValueError, match="'activation': 'gelu'"):
        export_gpt(exact, params, target="rasbt")
    untied = nn.GPT(V, CTX, E, H, LAYERS, activation="gelu")
    with pytest.raises(ValueError, match="'tie_weights': False"):
        export_gpt(untied, untied.init(key)[0], target="nanogpt")
    nobias = nn.GPT(V, CTX, E, H, LAYERS, bias=False)
    with pytest.raises(ValueError, match="'bias': False"):
        export_gpt(nobias, nobias.init(key)[0], target="huggingface")


def test_book_state_dict_into_jaxdl_names_strict_false_reports_keys(key):
    """The issue's trap: strict=False used to keep every LayerNorm at ones/zeros silently."""
    sd = state_dict_np(reference("rasbt"))
    model = nn.GPT(V, CTX, E, H, LAYERS, qkv_bias=True)
    with pytest.raises(ValueError, match="missing key 'trf_blocks.0.norm1.weight'"):
        load_state_dict(model, sd)
    params, state, incompatible = load_state_dict(model, sd, strict=False, key=key)
    assert "final_norm.weight" in incompatible.missing_keys and len(incompatible.missing_keys) == 4 * LAYERS + 2
    assert "trf_blocks.0.att.mask" in incompatible.unexpected_keys
    assert len(incompatible.unexpected_keys) == 5 * LAYERS + 2  # scale/shift of 2L+1 norms and L masks
    assert incompatible._fields == ("missing_keys", "unexpected_keys")  # torch's NamedTuple


def test_nanogpt_checkpoint_of_a_compiled_model():
    """nanoGPT's train.py saves the torch.compile wrapper's state_dict: every name starts with "_orig_mod."."""
    ref = reference("nanogpt")
    sd = {f"_orig_mod.{k}": v for k, v in ref.state_dict().items()}
    model, params, state = load_gpt(sd, source="nanogpt", n_heads=H)
    idx = idx_batch()
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0]),
                               logits_of("nanogpt", ref, idx).numpy(), rtol=1e-4, atol=1e-4)


# --- the head count from the metadata that travels with the weights (issue 22) ----------------------------------
def nanogpt_checkpoint(**model_args):
    """nanoGPT's ckpt.pt as torch.load gives it: train.py saves {"model", "optimizer", "model_args", ...}."""
    ref = reference("nanogpt")
    args = {"n_layer": LAYERS, "n_head": H, "n_embd": E, "block_size": CTX, "bias": True, "vocab_size": V,
            "dropout": 0.1, **model_args}
    return ref, {"model": {f"_orig_mod.{k}": v for k, v in ref.state_dict().items()}, "model_args": args,
                 "iter_num": 10, "best_val_loss": 1.5, "config": {}}


def test_nanogpt_checkpoint_gives_the_head_count_and_refuses_another():
    ref, ckpt = nanogpt_checkpoint()
    model, params, state = load_gpt(ckpt, source="nanogpt")  # no n_heads: model_args has it
    assert (model.n_heads, model.drop_rate, model.bias, model.qkv_bias) == (H, 0.0, True, True)
    idx = idx_batch()
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0]),
                               logits_of("nanogpt", ref, idx).numpy(), rtol=1e-4, atol=1e-4)
    assert load_gpt(ckpt, source="nanogpt", n_heads=H)[0] == model
    with pytest.raises(ValueError, match="n_heads=8 contradicts model_args, which gives n_heads=4"):
        load_gpt(ckpt, source="nanogpt", n_heads=8)
    with pytest.raises(ValueError, match="model_args gives emb_dim=64 but the weights give emb_dim=32"):
        load_gpt(nanogpt_checkpoint(n_embd=64)[1], source="nanogpt")
    with pytest.raises(ValueError, match=r"a nanoGPT checkpoint \(model, model_args\) given with source='rasbt'"):
        load_gpt(ckpt, source="rasbt")


def test_a_bare_state_dict_cannot_tell_the_head_count():
    """The issue's case: n_heads=8 on 4-head weights fits every shape, so without metadata n_heads is required."""
    sd = reference("nanogpt").state_dict()
    with pytest.raises(ValueError, match="n_heads is needed: the weights cannot tell the head count"):
        load_gpt(sd, source="nanogpt")
    assert load_gpt(sd, source="nanogpt", n_heads=8)[0].n_heads == 8  # its docstring says so


def test_huggingface_directory_and_file_read_config_json(tmp_path):
    import json

    ref = reference("huggingface")
    ref.save_pretrained(tmp_path)  # model.safetensors + config.json, the hub's layout
    idx = idx_batch()
    for where in (tmp_path, tmp_path / "model.safetensors", str(tmp_path)):
        model, params, state = load_gpt(where, source="huggingface")
        assert (model.n_heads, model.activation, model.tie_weights) == (H, "gelu_tanh", True)
        np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0]),
                                   logits_of("huggingface", ref, idx).numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="n_heads=8 contradicts .*config.json, which gives n_heads=4"):
        load_gpt(tmp_path, source="huggingface", n_heads=8)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "activation_function": "relu", "n_inner": 7}))
    with pytest.raises(ValueError) as err:
        load_gpt(tmp_path, source="huggingface")
    assert "activation_function 'relu' is not one jaxdl's GPT computes" in str(err.value)
    assert "n_inner=7 is not supported" in str(err.value)
    (tmp_path / "config.json").unlink()  # weights alone: the head count must be given
    with pytest.raises(ValueError, match="n_heads is needed"):
        load_gpt(tmp_path, source="huggingface")
    assert load_gpt(tmp_path, source="huggingface", n_heads=H)[0].n_heads == H
    with pytest.raises(ValueError, match="must be a .safetensors file or a directory holding model.safetensors"):
        load_gpt(tmp_path / "missing", source="huggingface")
