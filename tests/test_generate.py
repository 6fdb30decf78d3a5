"""jaxdl.generate: greedy decoding equals the lecture's torch loop, one trace for all tokens, top-k, the CLI."""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.cli import main as cli_main
from jaxdl.data._text import CharVocab
from jaxdl.generate import generate, top_k_logits, top_p_logits
from jaxdl.interop import load_state_dict
from jaxdl.parity._torch_gpt import torch_gpt, torch_state_dict_to_jax
from jaxdl.train import TrainState, save_checkpoint

CFG = {"vocab_size": 7, "context_length": 6, "emb_dim": 8, "n_heads": 2, "n_layers": 1, "drop_rate": 0.0,
       "qkv_bias": True}


@pytest.fixture(scope="module")
def torch_and_jax():
    torch.manual_seed(0)
    ref = torch_gpt(CFG).eval()
    model = nn.GPT.from_config(CFG)
    return ref, model, load_state_dict(model, torch_state_dict_to_jax(ref, False))[0]


def test_greedy_equals_lecture_generate_in_torch(torch_and_jax):
    ref, model, params = torch_and_jax
    prompt = np.array([[1, 2, 3], [4, 0, 6]])
    idx = torch.tensor(prompt)
    with torch.no_grad():  # the lecture's generate_text_simple: crop to the context, argmax, append
        for _ in range(9):  # 3 + 9 > context_length 6: the window slides
            nxt = ref(idx[:, -CFG["context_length"]:])[:, -1].argmax(-1, keepdim=True)
            idx = torch.cat([idx, nxt], dim=1)
    got = generate(model, params, jnp.asarray(prompt, jnp.int32), 9, key=jax.random.key(0), temperature=0.0)
    np.testing.assert_array_equal(np.asarray(got), idx.numpy())
    top1 = generate(model, params, jnp.asarray(prompt, jnp.int32), 9, key=jax.random.key(3), top_k=1)
    np.testing.assert_array_equal(np.asarray(top1), idx.numpy())  # top_k=1 sampling is greedy


@dataclasses.dataclass(frozen=True)
class CountingGPT(nn.GPT):
    """A GPT whose apply records each trace in a list outside jit."""

    def apply(self, params, state, input, *, training=False, key=None):
        TRACES.append(jnp.shape(input))
        return super().apply(params, state, input, training=training, key=key)


TRACES = []


def test_one_trace_for_all_tokens(torch_and_jax):
    _, model, params = torch_and_jax
    counting = CountingGPT(**model.config())
    TRACES.clear()
    a = generate(counting, params, jnp.array([1, 2], jnp.int32), 20, key=jax.random.key(0), top_k=3)
    b = generate(counting, params, jnp.array([5, 3], jnp.int32), 20, key=jax.random.key(1), top_k=3)
    assert TRACES == [(1, 6)] and a.shape == b.shape == (22,)  # one trace: no per-token (or per-call) compile
    c = generate(counting, params, jnp.array([1, 2], jnp.int32), 20, key=jax.random.key(0), top_k=3)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(c))  # same key, same text
    assert not np.array_equal(np.asarray(a), np.asarray(b))


def test_top_k_logits_like_torch_topk():
    logits = jnp.array([[1.0, 3.0, 2.0, 3.0, -1.0], [0.0, 0.5, 0.25, 0.1, 0.2]])
    t = torch.tensor(np.asarray(logits))
    kth = torch.topk(t, 2).values[:, -1:]
    want = torch.where(t < kth, torch.tensor(-torch.inf), t)
    np.testing.assert_array_equal(np.asarray(top_k_logits(logits, 2)), want.numpy())


def test_generate_errors(torch_and_jax):
    _, model, params = torch_and_jax
    idx = jnp.array([1, 2], jnp.int32)
    with pytest.raises(ValueError, match="top_k must be in"):
        generate(model, params, idx, 3, key=jax.random.key(0), top_k=8)
    with pytest.raises(ValueError, match="temperature"):
        generate(model, params, idx, 3, key=jax.random.key(0), temperature=-1.0)
    with pytest.raises(ValueError, match="integer ids"):
        generate(model, params, jnp.zeros((2,)), 3, key=jax.random.key(0))
    with pytest.raises(ValueError, match="key="):
        generate(model, params, idx, 3, key=None)


def test_sample_cli_reads_checkpoint(torch_and_jax, tmp_path, capsys):
    _, model, _ = torch_and_jax
    import optax

    state = TrainState.create(model, optax.sgd(0.1), jax.random.key(0))
    path = tmp_path / "checkpoint.msgpack"
    save_checkpoint(path, state, metadata={"model": model.config(), "vocab": "abcdefg"})  # no side-car file
    args = ["sample", str(path), "--prompt", "ab", "--max-new-tokens", "5", "--temperature", "0.5", "--top-k", "3"]
    assert cli_main(args) == 0
    text = capsys.readouterr().out.strip()
    assert len(text) == 7 and text.startswith("ab") and set(text) <= set("abcdefg")
    assert cli_main(args[:3] + ["xyz"]) == 2  # characters outside the vocabulary
    assert "not in the vocabulary" in capsys.readouterr().err
    assert CharVocab("abcdefg").size == model.vocab_size


def test_sample_cli_goes_through_the_checked_reader(torch_and_jax, tmp_path, capsys):
    # main generated text from a bit-flipped checkpoint (exit 0) and named gpt.json for a missing one
    _, model, _ = torch_and_jax
    import optax

    state = TrainState.create(model, optax.sgd(0.1), jax.random.key(0))
    path = tmp_path / "checkpoint.msgpack"
    assert cli_main(["sample", str(path)]) == 2
    assert capsys.readouterr().err == f"jaxdl: error: checkpoint {path} not found\n"
    save_checkpoint(path, state, metadata={"model": model.config(), "vocab": "abcdefg"})
    data = bytearray(path.read_bytes())
    weight = np.asarray(state.params["tok_emb"]["weight"])
    i = data.find(weight.tobytes())
    data[i + 5] ^= 0x01  # one bit of one weight: the file still parses
    path.write_bytes(bytes(data))
    assert cli_main(["sample", str(path), "--max-new-tokens", "3"]) == 1
    out = capsys.readouterr()
    assert out.out == "" and "SHA-256 does not match" in out.err and str(path) in out.err
    assert out.err.count("\n") == 1, out.err
    save_checkpoint(path, state)  # a checkpoint without a GPT's metadata
    assert cli_main(["sample", str(path)]) == 1
    assert "holds no language-model config and vocabulary" in capsys.readouterr().err


def test_train_char_gpt_beats_the_unigram_entropy_then_sample(tmp_path, capsys):
    # A shortened configs/gpt_char.toml (README: 1.44 nats vs 2.96 after 5 full epochs): seconds, same path.
    config = tmp_path / "small.toml"
    config.write_text(
        '[model]\nkind = "gpt"\ncontext_length = 16\nemb_dim = 32\nn_heads = 2\nn_layers = 1\ndrop_rate = 0.1\n'
        'qkv_bias = false\n[data]\nnum_chars = 40000\nval_fraction = 0.2\n'
        '[optim]\nname = "adamw"\nlr = 3e-3\nweight_decay = 0.1\n[train]\nepochs = 2\nbatch_size = 16\nseed = 0\n')
    assert cli_main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "unigram entropy" in ln]
    assert len(lines) == 2 and "val_loss" in lines[-1]
    first, last = (float(ln.split("train_loss ")[1].split()[0]) for ln in (lines[0], lines[-1]))
    assert last < first  # learning
    val_loss = float(lines[-1].split("val_loss ")[1].split()[0])
    entropy = float(lines[-1].split("validation text: ")[1].split()[0])
    assert val_loss < entropy - 0.4, (val_loss, entropy)  # it uses the context
    assert cli_main(["sample", str(tmp_path / "run" / "checkpoint.msgpack"), "--prompt", "de",
                     "--max-new-tokens", "10"]) == 0
    assert capsys.readouterr().out.startswith("de")
    assert cli_main(["train", str(tmp_path / "missing.toml")]) == 2


def test_gpt_config_resumes_and_refuses_another_model(tmp_path, capsys):
    import json

    config = tmp_path / "tiny.toml"
    config.write_text(
        '[model]\nkind = "gpt"\ncontext_length = 8\nemb_dim = 16\nn_heads = 2\nn_layers = 1\ndrop_rate = 0.0\n'
        'qkv_bias = false\n[data]\nnum_chars = 6000\nval_fraction = 0.2\n'
        '[optim]\nname = "adamw"\nlr = 3e-3\nweight_decay = 0.1\n[train]\nepochs = 1\nbatch_size = 16\nseed = 0\n')
    out = tmp_path / "run"
    args = ["train", str(config), "--out", str(out), "--no-progress"]
    assert cli_main(args) == 0
    saved, first = (out / "checkpoint.msgpack").read_bytes(), (out / "metrics.jsonl").read_text()
    capsys.readouterr()
    # another model into the same folder: refused before anything there is touched
    assert cli_main(args + ["--set", "model.emb_dim=32", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "model.emb_dim 16 -> 32" in err and err.count("\n") == 1, err
    assert (out / "checkpoint.msgpack").read_bytes() == saved
    assert not (out / "gpt.json").exists()  # the config and vocabulary live in the checkpoint
    assert cli_main(args + ["--set", "train.epochs=2", "--resume"]) == 0
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2] and lines[0] == first.strip()
    # --resume reads the checkpoint: a damaged one stops the run with one line
    ckpt = out / "checkpoint.msgpack"
    ckpt.write_bytes(ckpt.read_bytes()[:100])
    capsys.readouterr()
    assert cli_main(args + ["--set", "train.epochs=3", "--resume"]) == 1
    err = capsys.readouterr().err
    assert "is truncated or corrupt" in err and err.count("\n") == 1, err


BIG = {"vocab_size": 29, "context_length": 24, "emb_dim": 16, "n_heads": 2, "n_layers": 2, "drop_rate": 0.0,
       "qkv_bias": True}


def test_kv_cache_greedy_equals_full_recomputation(x64):
    model = nn.GPT.from_config(BIG)
    params, state = model.init(jax.random.key(0), jnp.float64)
    prompt = jax.random.randint(jax.random.key(1), (3, 5), 0, 29)
    cached = generate(model, params, prompt, 12, key=jax.random.key(0), temperature=0.0, use_cache=True)
    full = generate(model, params, prompt, 12, key=jax.random.key(0), temperature=0.0, use_cache=False)
    np.testing.assert_array_equal(np.asarray(cached), np.asarray(full))  # (full: the lecture's loop, above)


def test_cache_decode_step_by_step_equals_apply(x64):
    model = nn.GPT.from_config(BIG)
    params, state = model.init(jax.random.key(2), jnp.float64)
    idx = jax.random.randint(jax.random.key(3), (2, 9), 0, 29)
    cache = model.init_cache(2, 9, jnp.float64)
    decode = jax.jit(lambda x, cache, pos: model.decode(params, state, x, cache, pos))
    logits, cache = decode(idx[:, :4], cache, 0)
    got = [logits]
    for t in range(4, 9):
        logits, cache = decode(idx[:, t:t + 1], cache, t)
        got.append(logits)
    np.testing.assert_allclose(np.concatenate(got, 1), model.apply(params, state, idx)[0], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="length must be in"):
        model.init_cache(2, 25)


def test_eos_stops_each_row_and_pads_with_eos():
    model = nn.GPT.from_config(BIG)
    params, _ = model.init(jax.random.key(0))
    prompt = jax.random.randint(jax.random.key(1), (4, 3), 0, 29)
    free = np.asarray(generate(model, params, prompt, 15, key=jax.random.key(5), top_k=5))
    eos = int(free[0, 5])  # a token row 0 emits
    got = np.asarray(generate(model, params, prompt, 15, key=jax.random.key(5), top_k=5, eos_id=eos))
    for row_free, row in zip(free, got):
        hits = np.flatnonzero(row_free[3:] == eos)
        end = 3 + (hits[0] + 1 if len(hits) else 15)
        np.testing.assert_array_equal(row[:end], row_free[:end])  # the same draws up to the first eos
        assert np.all(row[end:] == eos)


def test_top_p_logits_like_transformers_top_p_warper():
    from transformers.generation.logits_process import TopPLogitsWarper

    logits = np.random.default_rng(0).normal(size=(4, 30)).astype(np.float32) * 2
    for p in (0.05, 0.3, 0.9, 0.999):
        want = TopPLogitsWarper(p)(None, torch.tensor(logits)).numpy()
        np.testing.assert_array_equal(np.asarray(top_p_logits(jnp.asarray(logits), p)), want)


def test_sampling_options_and_errors(torch_and_jax):
    _, model, params = torch_and_jax
    idx = jnp.array([[1, 2], [3, 4]], jnp.int32)
    greedy = generate(model, params, idx, 4, key=jax.random.key(0), temperature=0.0)
    tiny_p = generate(model, params, idx, 4, key=jax.random.key(1), top_p=1e-6)  # only the most probable token
    np.testing.assert_array_equal(np.asarray(tiny_p), np.asarray(greedy))
    with pytest.raises(ValueError, match="top_p must be in"):
        generate(model, params, idx, 3, key=jax.random.key(0), top_p=0.0)
    with pytest.raises(ValueError, match="use_cache=True needs"):
        generate(model, params, idx, 5, key=jax.random.key(0), use_cache=True)  # 2 + 5 > context_length 6
    with pytest.raises(ValueError, match="eos_id must be in"):
        generate(model, params, idx, 3, key=jax.random.key(0), eos_id=7)


def test_sample_cli_weights_from_another_codebase(tmp_path, capsys):
    """`jaxdl sample --weights` on a Hugging Face GPT-2 saved as the hub does (no lm_head, no prefix)."""
    import safetensors.torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    ref = GPT2LMHeadModel(GPT2Config(vocab_size=40, n_positions=16, n_embd=16, n_layer=1, n_head=2,
                                     bos_token_id=0, eos_token_id=0)).eval()
    sd = {k.removeprefix("transformer."): v.contiguous() for k, v in ref.state_dict().items() if k != "lm_head.weight"}
    safetensors.torch.save_file(sd, tmp_path / "gpt2.safetensors")
    args = ["sample", "--weights", str(tmp_path / "gpt2.safetensors"), "--source", "huggingface", "--n-heads", "2",
            "--prompt-ids", "3,5,7", "--max-new-tokens", "6", "--temperature", "0"]
    assert cli_main(args) == 0
    ids = torch.tensor([[3, 5, 7]])
    with torch.no_grad():
        want = ref.generate(ids, max_new_tokens=6, do_sample=False, pad_token_id=0, eos_token_id=None)
    assert capsys.readouterr().out.strip() == ",".join(map(str, want[0].tolist()))
    assert cli_main(args[:5] + ["--n-heads", "3", "--prompt-ids", "3"]) == 2
    assert "divisible by n_heads" in capsys.readouterr().err
