"""Issue 24's models through ``from_torch`` (each has a custom forward, so it is captured with torch.export and
replayed with jaxdl's ops) against torch: values and the gradients of every parameter and float input, and
BatchNorm buffers after a training-mode call, judged by the parity package's rules (float64: rtol 1e-10;
float32: torch's own rounding against torch-float64; tests/interop/exported.py). The LSTM classifier, the
Transformer-encoder classifier with a key padding mask, a small U-Net, the book's GPTModel, transformers'
GPT2LMHeadModel (built from a small GPT2Config, no download) and a model holding a weighted loss module; the
ResNet-style CNN, the lecture MLP and the kinks-and-ties model (abs, clamp, torch.where, max at ties) are
test_export.py's. Then: tied parameters back to torch with strict=True, and converted models trained with ``fit``
(torch's SGD steps, and a resume from the checkpoint bit for bit).

CI runs one case of each model (``IN_CI``); ``pytest --parity-all`` runs every (case, dtype).
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import interop, optim, train
from jaxdl.parity._core import Case, run_case
from tests.gpt_sources import rasbt_gpt
from tests.interop import torch_models as tm
from tests.interop.exported import case, convert
from tests.interop.test_export import ResNet

GPT_V, GPT_CTX = 50, 16


def book_gpt():
    return rasbt_gpt.GPTModel({"vocab_size": GPT_V, "context_length": GPT_CTX, "emb_dim": 16, "n_heads": 2,
                               "n_layers": 2, "drop_rate": 0.0, "qkv_bias": True})


def hf_gpt2():
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(vocab_size=GPT_V, n_positions=GPT_CTX, n_embd=16, n_layer=2, n_head=2, resid_pdrop=0.0,
                     embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0, use_cache=False)
    return GPT2LMHeadModel(cfg)  # lm_head.weight is transformer.wte.weight (tie_word_embeddings)


def default_float64(fn):
    """The case run with torch's default dtype float64: the book's GELU builds its √(2/π) with torch.tensor at
    every call, in the default dtype, and torch's float32 sqrt of 2/π is 1 ulp from the correctly rounded one
    (0.79788458 against 0.79788452, which XLA gives): 5e-8 relative in a float64 model (as test_gpt_sources)."""

    def run(env):
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            return fn(env)
        finally:
            torch.set_default_dtype(old)

    return run


def tokens(vocab, shape):
    return lambda env: [env.randint(0, vocab, shape)]


def padded(env):
    """Tokens and a key padding mask (True: padding) with every sequence at least 2 long."""
    lengths = env.rng.integers(2, tm.SEQ + 1, 4)
    return [env.randint(0, tm.VOCAB, (4, tm.SEQ)), np.arange(tm.SEQ)[None, :] >= lengths[:, None]]


def weighted_loss_inputs(env):
    return [env.randn(5, 4), env.randint(0, 3, (5,))]


def logits(out):
    return out["logits"]  # transformers' CausalLMOutput (a dict subclass) comes back as a plain dict


CASES = [
    Case("models/LSTM classifier train", "interop", case(tm.LSTMClassifier, tokens(tm.VOCAB, (4, tm.SEQ)),
                                                         training=True)),
    Case("models/Transformer classifier train", "interop", case(tm.TransformerClassifier, padded, training=True)),
    Case("models/Transformer classifier eval", "interop", case(tm.TransformerClassifier, padded, training=False)),
    Case("models/U-Net train (BatchNorm statistics)", "interop",
         case(tm.UNet, (2, 1, 8, 8), training=True, buffers=True)),
    Case("models/U-Net eval", "interop", case(tm.UNet, (2, 1, 8, 8), training=False)),
    Case("models/book GPTModel train", "interop", default_float64(case(book_gpt, tokens(GPT_V, (2, 10)),
                                                                                 training=True))),
    Case("models/GPT2LMHeadModel eval", "interop", case(hf_gpt2, tokens(GPT_V, (2, 10)), training=False,
                                                        pick=logits)),
    Case("models/weighted CrossEntropyLoss inside", "interop", case(tm.WeightedLoss, weighted_loss_inputs,
                                                                    training=True)),
]
# CI runs one (case, dtype) per model; ``pytest --parity-all`` every pair
IN_CI = {("models/LSTM classifier train", "float64"), ("models/Transformer classifier train", "float64"),
         ("models/U-Net train (BatchNorm statistics)", "float64"), ("models/book GPTModel train", "float64"),
         ("models/GPT2LMHeadModel eval", "float64"), ("models/weighted CrossEntropyLoss inside", "float64")}


@pytest.mark.parametrize("parity_case,dtype", [
    pytest.param(c, d, id=f"{c.name}-{d}", marks=() if (c.name, d) in IN_CI else pytest.mark.parity_all)
    for c in CASES for d in ("float64", "float32")])
def test_matches_torch(parity_case, dtype):
    result = run_case(parity_case, dtype, raise_errors=True)
    assert result.passed, result


def test_transformer_eval_equals_torchs_fast_path(x64):
    """Under torch.no_grad an eval-mode nn.TransformerEncoderLayer takes torch's fused fast path
    (torch._transformer_encoder_layer_fwd); the export traces the slow path with autograd on: the same numbers."""
    torch.manual_seed(0)
    module = tm.TransformerClassifier().double().eval()
    tok = torch.randint(0, tm.VOCAB, (4, tm.SEQ))
    pad = torch.arange(tm.SEQ)[None, :] >= torch.tensor([7, 5, 3, 2])[:, None]
    fused = []
    slow = torch._transformer_encoder_layer_fwd
    try:
        torch._transformer_encoder_layer_fwd = lambda *a, **k: fused.append(1) or slow(*a, **k)
        with torch.no_grad():
            want = module(tok, pad).numpy()
    finally:
        torch._transformer_encoder_layer_fwd = slow
    assert len(fused) == 2  # both layers took the fast path
    model, params, state = convert(module, (((4, tm.SEQ), "int64"), ((4, tm.SEQ), "bool")), torch.float64)
    got, _ = model.apply(params, state, jnp.asarray(tok.numpy()), jnp.asarray(pad.numpy()))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)


def test_tied_parameters_are_one_entry_and_go_back_to_torch_tied(x64):
    """GPT2LMHeadModel's lm_head.weight is transformer.wte.weight: one entry of params (torch's
    named_parameters() name) whose gradient sums both uses, as torch's; the exported state_dict has both names,
    loads into the original with strict=True and keeps the tie; load_state_dict refuses two different values."""
    torch.manual_seed(0)
    module = hf_gpt2().double()
    idx = torch.randint(0, GPT_V, (2, 10))
    model, params, state = convert(module, (((2, 10), "int64"),), torch.float64, hf_gpt2)  # from_torch's export
    assert isinstance(model, interop.ExportedModel)
    assert model.tied == (("lm_head.weight", "transformer.wte.weight"),) and "lm_head" not in params
    assert list(interop.flatten(params)) == [n for n, _ in module.named_parameters()]
    ct = np.random.default_rng(0).standard_normal((2, 10, GPT_V))
    module(idx).logits.mul(torch.from_numpy(ct)).sum().backward()
    grads = jax.grad(lambda p: jnp.sum(model.apply(p, state, jnp.asarray(idx.numpy()))[0]["logits"] * ct))(params)
    for name, p in module.named_parameters():
        np.testing.assert_allclose(np.asarray(interop.flatten(grads)[name]), p.grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)
    stepped = jax.tree_util.tree_map(lambda p, g: p - 0.5 * g, params, grads)
    sd = interop.state_dict(stepped, state, module=model)
    assert set(sd) == set(module.state_dict())
    module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    assert module.lm_head.weight is module.transformer.wte.weight
    with torch.no_grad():
        want = module(idx).logits.numpy()
    np.testing.assert_allclose(np.asarray(model.apply(stepped, state, jnp.asarray(idx.numpy()))[0]["logits"]),
                               want, rtol=1e-10, atol=1e-12)
    back, _ = interop.load_state_dict(model, module.state_dict())
    np.testing.assert_array_equal(back["transformer"]["wte"]["weight"], sd["transformer.wte.weight"])
    apart = {**module.state_dict(), "lm_head.weight": torch.zeros(GPT_V, 16, dtype=torch.float64)}
    with pytest.raises(ValueError, match="lm_head.weight: tied to transformer.wte.weight"):
        interop.load_state_dict(model, apart)


def test_a_loss_module_inside_keeps_its_weight_buffer(x64):
    torch.manual_seed(0)
    module = tm.WeightedLoss().double()
    model, params, state = convert(module, (((5, 4), "float32"), ((5,), "int64")), torch.float64)
    assert isinstance(model, interop.ExportedModel) and "loss" not in params
    np.testing.assert_array_equal(interop.flatten(state)["loss.weight"], module.loss.weight.numpy())
    sd = interop.state_dict(params, state, module=model)
    assert list(sd) == list(module.state_dict())
    module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    x, y = torch.randn(5, 4, dtype=torch.float64), torch.tensor([0, 1, 2, 2, 0])
    for weight in (torch.tensor([0.2, 1.0, 3.0]), torch.tensor([1.0, 0.5, 0.0])):  # the buffer's values count
        module.loss.weight.copy_(weight)
        got, _ = model.apply(params, {"loss": {"weight": jnp.asarray(weight.double().numpy())}},
                             jnp.asarray(x.numpy()), jnp.asarray(y.numpy()))
        np.testing.assert_allclose(float(got), float(module(x, y).detach()), rtol=1e-10)


# --- training with fit ----------------------------------------------------------------------------------------
def _train_state(model, params, state, tx):
    """A fresh TrainState holding copies (fit donates the state's buffers)."""
    params, state = jax.tree.map(jnp.copy, (params, state))
    return train.TrainState.create(model, tx, jax.random.key(0)).replace(params=params, model_state=state,
                                                                       opt_state=tx.init(params))


def _bits_equal(a, b):
    for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v), strict=True)


@pytest.mark.parametrize("make,x", [
    pytest.param(ResNet, lambda rng: rng.standard_normal((8, 1, 8, 8)).astype(np.float32), id="ResNet"),
    pytest.param(tm.LSTMClassifier, lambda rng: rng.integers(0, tm.VOCAB, (8, tm.SEQ)).astype(np.int32),
                 id="LSTM classifier", marks=pytest.mark.parity_all)])
def test_fit_trains_as_torch_and_resumes_bit_exactly(make, x, tmp_path):
    """fit on the converted model takes torch's SGD steps (one full batch per epoch, so the shuffle does not
    matter; BatchNorm's running statistics too), and a run resumed from its epoch-1 checkpoint ends bit for bit
    where the uninterrupted run does."""
    torch.manual_seed(0)
    module = make()
    rng = np.random.default_rng(0)
    xs = x(rng)
    ys = rng.integers(0, 3, 8).astype(np.int32)
    model, params, state = interop.from_torch(module, torch.from_numpy(xs).long() if xs.dtype.kind == "i"
                                              else torch.from_numpy(xs))
    tx = optim.sgd(lr=0.1, momentum=0.9)
    kw = dict(batch_size=8, progress=False)
    full = train.fit(model, tx, (jnp.asarray(xs), jnp.asarray(ys)), epochs=3,
                     state=_train_state(model, params, state, tx), **kw)
    opt = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
    module.train()
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module(torch.from_numpy(xs).long() if xs.dtype.kind == "i"
                                                 else torch.from_numpy(xs)), torch.from_numpy(ys).long()).backward()
        opt.step()
    got = interop.state_dict(full.state.params, full.state.model_state, module=model)
    for name, value in module.state_dict().items():
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    train.fit(model, tx, (jnp.asarray(xs), jnp.asarray(ys)), epochs=1, out_dir=tmp_path,
              state=_train_state(model, params, state, tx), **kw)
    restored, _ = train.load_checkpoint(tmp_path / "checkpoint.msgpack", _train_state(model, params, state, tx))
    resumed = train.fit(model, tx, (jnp.asarray(xs), jnp.asarray(ys)), epochs=3, out_dir=tmp_path, resume=True,
                        state=restored, **kw)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    _bits_equal(full.state.params, resumed.state.params)
    _bits_equal(full.state.model_state, resumed.state.model_state)
    _bits_equal(full.state.opt_state, resumed.state.opt_state)
