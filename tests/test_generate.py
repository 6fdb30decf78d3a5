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
from jaxdl.generate import generate, top_k_logits
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
    assert "holds no GPT config and vocabulary" in capsys.readouterr().err


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
