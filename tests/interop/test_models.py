"""Issue 24's models through ``from_torch`` (each has a custom forward, so it is captured with torch.export and
replayed with jaxdl's ops) against torch: values and the gradients of every parameter and float input, and
BatchNorm buffers after a training-mode call, judged by the parity package's rules (float64: rtol 1e-10;
float32: torch's own rounding against torch-float64; tests/interop/exported.py). The LSTM classifier, the
Transformer-encoder classifier with a key padding mask, a small U-Net, the book's GPTModel, transformers'
GPT2LMHeadModel (built from a small GPT2Config, no download) and a model holding a weighted loss module; the
ResNet-style CNN, the lecture MLP and the kinks-and-ties model (abs, clamp, torch.where, max at ties) are
test_export.py's. Then: tied parameters back to torch with strict=True, and converted models trained with ``fit``
(torch's SGD steps, and a resume from the checkpoint bit for bit).

CI runs the LSTM classifier's float64 case, the loss module's buffer and the tied weights of a small model
(torch.export costs seconds per model, fit's three runs ~10 s: the other models, their float32 cases and the fit
runs of the ResNet and the LSTM classifier run with ``pytest --parity-all``); the lecture MLP (BatchNorm) trains with
fit in CI, in test_export.py.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import interop
from jaxdl.parity._core import Case, run_case
from tests.gpt_sources import rasbt_gpt
from tests.interop import torch_models as tm
from tests.interop.exported import case, convert, each_case, fit_like_torch_and_resume

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


def recurrent_inputs(env):
    return [env.randn(6, 3, 4), env.randn(1, 3, 5)]  # (time, batch, features), GRU's h0


def weighted_loss_inputs(env):
    return [env.randn(5, 4), env.randint(0, 3, (5,))]


def logits(out):
    return out["logits"]  # transformers' CausalLMOutput (a dict subclass) comes back as a plain dict


CASES = [
    Case("models/LSTM classifier train", "interop", case(tm.LSTMClassifier, tokens(tm.VOCAB, (4, tm.SEQ)),
                                                         training=True)),
    Case("models/GRU, RNN and projected LSTM train", "interop", case(tm.Recurrent, recurrent_inputs, training=True)),
    Case("models/Transformer classifier train", "interop", case(tm.TransformerClassifier, padded, training=True)),
    Case("models/Transformer classifier eval", "interop", case(tm.TransformerClassifier, padded, training=False)),
    Case("models/U-Net train (BatchNorm statistics)", "interop",
         case(tm.UNet, (2, 1, 8, 8), training=True, buffers=True)),
    Case("models/U-Net eval", "interop", case(tm.UNet, (2, 1, 8, 8), training=False)),
    Case("models/book GPTModel train", "interop", default_float64(case(book_gpt, tokens(GPT_V, (2, 10)),
                                                                                 training=True))),
    Case("models/GPT2LMHeadModel train", "interop", case(hf_gpt2, tokens(GPT_V, (2, 10)), training=True,
                                                         pick=logits)),
    Case("models/GPT2LMHeadModel eval", "interop", case(hf_gpt2, tokens(GPT_V, (2, 10)), training=False,
                                                        pick=logits)),
    Case("models/weighted CrossEntropyLoss inside", "interop", case(tm.WeightedLoss, weighted_loss_inputs,
                                                                    training=True)),
]
# CI runs the LSTM (the recurrent mapping is this file's own); ``pytest --parity-all`` every pair
IN_CI = {("models/LSTM classifier train", "float64")}


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN:UserWarning")  # torch's note
@each_case(CASES, IN_CI)
def test_matches_torch(parity_case, dtype):
    result = run_case(parity_case, dtype, raise_errors=True)
    assert result.passed, result


@pytest.mark.parity_all
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


@pytest.mark.parametrize("make,alias,name,pick", [
    pytest.param(tm.TiedLM, "head.weight", "emb.weight", lambda out: out, id="TiedLM"),
    pytest.param(hf_gpt2, "lm_head.weight", "transformer.wte.weight", logits, id="GPT2LMHeadModel",
                 marks=pytest.mark.parity_all)])
def test_tied_parameters_are_one_entry_and_go_back_to_torch_tied(make, alias, name, pick, x64):
    """A tied weight (GPT2LMHeadModel's lm_head.weight is transformer.wte.weight) is one entry of params (torch's
    named_parameters() name) whose gradient sums both uses, as torch's; the exported state_dict has both names,
    loads into the original with strict=True and keeps the tie; load_state_dict refuses two different values."""
    torch.manual_seed(0)
    module = make().double()
    vocab = module.emb.num_embeddings if make is tm.TiedLM else GPT_V
    idx = torch.randint(0, vocab, (2, 10))
    model, params, state = convert(module, (((2, 10), "int64"),), torch.float64, make)  # from_torch's export
    assert isinstance(model, interop.ExportedModel)
    assert model.tied == ((alias, name),) and alias not in interop.flatten(params)
    assert list(interop.flatten(params)) == [n for n, _ in module.named_parameters()]
    ct = np.random.default_rng(0).standard_normal((2, 10, vocab))
    pick(module(idx)).mul(torch.from_numpy(ct)).sum().backward()
    grads = jax.grad(lambda p: jnp.sum(pick(model.apply(p, state, jnp.asarray(idx.numpy()))[0]) * ct))(params)
    for n, p in module.named_parameters():
        np.testing.assert_allclose(np.asarray(interop.flatten(grads)[n]), p.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=n)
    stepped = jax.tree_util.tree_map(lambda p, g: p - 0.5 * g, params, grads)
    sd = interop.state_dict(stepped, state, module=model)
    assert set(sd) == set(module.state_dict())
    module.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    assert module.get_parameter(alias) is module.get_parameter(name)
    with torch.no_grad():
        want = pick(module(idx)).numpy()
    np.testing.assert_allclose(np.asarray(pick(model.apply(stepped, state, jnp.asarray(idx.numpy()))[0])), want,
                               rtol=1e-10, atol=1e-12)
    back, _ = interop.load_state_dict(model, module.state_dict())
    np.testing.assert_array_equal(interop.flatten(back)[name], sd[name])
    apart = {**module.state_dict(), alias: torch.zeros_like(module.get_parameter(alias))}
    with pytest.raises(ValueError, match=f"{alias}: tied to {name}"):
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


# --- training with fit: test_export.py's ResNet in CI, the LSTM classifier here ----------------------------------
@pytest.mark.parity_all
def test_fit_trains_lstm_classifier_as_torch_and_resumes_bit_exactly(tmp_path, x64):
    torch.manual_seed(0)
    module = tm.LSTMClassifier().double()
    xs = np.random.default_rng(0).integers(0, tm.VOCAB, (8, tm.SEQ))
    fit_like_torch_and_resume(module, convert(module, (((4, tm.SEQ), "int64"),), torch.float64), xs, tmp_path)


@pytest.mark.parity_all
def test_lstm_dropout_between_layers_follows_the_key():
    """nn.LSTM(dropout=p) drops between layers in training only: the replay takes apply's key (a new mask per key,
    the same for the same key) and, in eval, equals torch's."""
    torch.manual_seed(0)
    module = torch.nn.LSTM(4, 8, num_layers=2, dropout=0.5)
    x = torch.randn(5, 3, 4)
    model, params, state = interop.from_torch(_LastStep(module), x)
    xj = jnp.asarray(x.numpy())
    with torch.no_grad():
        want = _LastStep(module).eval()(x).numpy()
    np.testing.assert_allclose(np.asarray(model.apply(params, state, xj)[0]), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="key"):
        model.apply(params, state, xj, training=True)
    a, b, c = (np.asarray(model.apply(params, state, xj, training=True, key=jax.random.key(k))[0]) for k in (1, 1, 2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a, want)


class _LastStep(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0][-1]
