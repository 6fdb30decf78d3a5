"""Recurrent and attention training speed, jaxdl (jitted) against torch eager and torch.compile, in one process.

1. The char-LSTM's training step: ``nn.CharLSTM`` (embedding 64 → 2-layer LSTM, hidden 256 → linear head over 65
   characters; batch 32, sequence 64), jaxdl (nn.LSTM: a lax.scan of the LSTM cell, jitted, in loop and scan
   mode) against torch eager (oneDNN's fused LSTM kernel) and torch.compile, Adam(lr=1e-3), float32, the same
   weights and batches (benchmarks/_harness.py: first call, the equal-loss check, interleaved rounds, median
   ms/step).
2. A Transformer-encoder layer step: ``nn.TransformerEncoderLayer(256, 4, 1024, 0.1, batch_first=True)`` on
   (32, 64, 256), the value and parameter gradients of mean(output · r) in training mode (dropout on, a fresh
   key per jaxdl step; r a fixed random (32, 64, 256) weight: the layer ends in a LayerNorm, so the plain mean of
   its output is 0 up to rounding and its gradients are noise), jaxdl jitted against torch eager and
   torch.compile from torch's state_dict; before timing, values and gradients are checked equal with dropout 0.

Run: python benchmarks/bench_rnn.py [--rounds N] [--steps S] [--quick] [--only lstm|encoder]
"""
from __future__ import annotations

import argparse
import sys

import jax
import jax.numpy as jnp
import numpy as np

from _harness import JaxdlVariant, TorchVariant, Variant, first_call, fmt, machine, run_rounds, table, time_variants

VOCAB, EMB, HIDDEN, LAYERS, SEQ, BATCH, LR = 65, 64, 256, 2, 64, 32, 1e-3
D_MODEL, NHEAD, FFN, DROPOUT = 256, 4, 1024, 0.1


def jaxdl_model():
    from jaxdl import nn  # noqa: PLC0415

    return nn.CharLSTM(vocab_size=VOCAB, context_length=SEQ, emb_dim=EMB, hidden_size=HIDDEN, num_layers=LAYERS)


def torch_model():
    """torch's twin of nn.CharLSTM, with its state_dict names (embedding.*, lstm.*, head.*)."""
    import torch  # noqa: PLC0415

    class CharLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMB)
            self.lstm = torch.nn.LSTM(EMB, HIDDEN, LAYERS, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            return self.head(self.lstm(self.embedding(x))[0])

    return CharLSTM()


def tokens(steps, seed):
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, VOCAB, (steps, BATCH, SEQ)).astype(np.int32)
    return xs, np.roll(xs, -1, axis=2)


def bench_lstm(rounds, steps):
    import torch  # noqa: PLC0415

    from jaxdl import nn  # noqa: PLC0415

    torch.manual_seed(0)
    tm = torch_model()
    sd = {k: v.detach().numpy().copy() for k, v in tm.state_dict().items()}

    def loss(logits, y):
        return torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())

    objs = {"torch eager": TorchVariant(tm, loss, sd, LR),
            "torch.compile": TorchVariant(torch_model(), loss, sd, LR, compile=True),
            "jaxdl loop": JaxdlVariant(jaxdl_model(), nn.lm_loss, sd, LR, accuracy=False),
            "jaxdl scan": JaxdlVariant(jaxdl_model(), nn.lm_loss, sd, LR, scan=True, accuracy=False)}
    print(f"## char-LSTM: vocab {VOCAB}, emb {EMB}, LSTM {LAYERS}×{HIDDEN}, batch {BATCH}, seq {SEQ}; Adam(lr={LR}), "
          f"float32; {steps} steps per block, {rounds} rounds")
    variants, med = time_variants(objs, *tokens(steps, seed=0), tokens(10, seed=1), rounds)
    rows = [[v.name, fmt(v.median_ms, ".1f"), f"{min(v.times_ms):.1f}–{max(v.times_ms):.1f}",
             fmt(BATCH * SEQ / v.median_ms * 1e3, ",.0f"), fmt(v.first_call_s),
             fmt(v.median_ms / med["torch eager"])] for v in variants]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "tokens/s", "first call s", "× torch eager"],
                rows))
    return med


def encoder_pair(dropout):
    """(torch layer in training mode, jaxdl layer, jaxdl params from torch's state_dict)."""
    import torch  # noqa: PLC0415

    from jaxdl import nn  # noqa: PLC0415
    from jaxdl.interop import load_state_dict  # noqa: PLC0415

    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(D_MODEL, NHEAD, FFN, dropout, batch_first=True).train()
    jl = nn.TransformerEncoderLayer(D_MODEL, NHEAD, FFN, dropout, batch_first=True)
    params, _ = load_state_dict(jl, {k: v.detach().numpy() for k, v in tl.state_dict().items()})
    return tl, jl, params


def weight():
    """The fixed r of the objective mean(output · r)."""
    return np.random.default_rng(2).standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)


def jaxdl_encoder_grad(jl):
    """jit(value_and_grad) of mean(output · r) in training mode: params first, then the input and a dropout key."""
    r = jnp.asarray(weight())

    def objective(params, x, key):
        return jnp.mean(jl.apply(params, {}, x, training=True, key=key)[0] * r)
    return jax.jit(jax.value_and_grad(objective))


def torch_encoder_grad(tl, compile=False):
    import torch  # noqa: PLC0415

    fwd, r = torch.compile(tl) if compile else tl, torch.from_numpy(weight())

    def run(x):
        tl.zero_grad(set_to_none=True)
        loss = (fwd(x) * r).mean()
        loss.backward()
        return loss, {k: p.grad for k, p in tl.named_parameters()}
    return run


def check_encoder(x):
    """With dropout 0: jaxdl's value and every parameter gradient against torch eager's (rtol 1e-4 of the
    largest entry, as the harness's equal-loss check); the run stops otherwise."""
    import torch  # noqa: PLC0415

    from jaxdl.interop import flatten  # noqa: PLC0415

    tl, jl, params = encoder_pair(0.0)
    tv, tg = torch_encoder_grad(tl)(torch.from_numpy(x))
    jv, jg = jaxdl_encoder_grad(jl)(params, jnp.asarray(x), jax.random.key(0))
    jg = flatten(jg)
    worst = max(float(np.max(np.abs(np.asarray(jg[k]) - g.numpy())) / np.max(np.abs(g.numpy())))
                for k, g in tg.items())
    print(f"dropout 0: mean(output · r) torch {tv.item():.8f}, jaxdl {float(jv):.8f}; largest gradient error / "
          f"largest |gradient| {worst:.1e} over {len(tg)} tensors")
    if abs(float(jv) - tv.item()) > 1e-4 * abs(tv.item()) + 1e-6 or worst > 1e-4 or set(jg) != set(tg):
        raise SystemExit("encoder check failed: jaxdl's value or gradients differ from torch's")


def bench_encoder(rounds, steps):
    import torch  # noqa: PLC0415

    x = np.random.default_rng(0).standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)
    print(f"## TransformerEncoderLayer({D_MODEL}, {NHEAD}, {FFN}, {DROPOUT}, batch_first=True), input "
          f"{x.shape}, value_and_grad of mean(output · r), training mode, float32; {steps} steps per block, "
          f"{rounds} rounds")
    check_encoder(x)
    tl, jl, params = encoder_pair(DROPOUT)
    xt, xj = torch.from_numpy(x), jnp.asarray(x)
    keys = jax.random.split(jax.random.key(1), steps)
    fn = jaxdl_encoder_grad(jl)

    def torch_block(run):
        def block():
            for _ in range(steps):
                loss, _ = run(xt)
            return loss.item()
        return block

    def jaxdl_block():
        for k in keys:
            out = fn(params, xj, k)
        return jax.block_until_ready(out)

    variants = [Variant("torch eager", steps, torch_block(torch_encoder_grad(tl))),
                Variant("torch.compile", steps, torch_block(torch_encoder_grad(tl, compile=True))),
                Variant("jaxdl jit", steps, jaxdl_block)]
    for v in variants:
        first_call(v)
    run_rounds(variants, rounds)
    eager = next(v.median_ms for v in variants if v.name == "torch eager")
    rows = [[v.name, fmt(v.median_ms, ".1f"), f"{min(v.times_ms):.1f}–{max(v.times_ms):.1f}",
             fmt(v.first_call_s), fmt(v.median_ms / eager)] for v in variants]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "first call s (block)", "× torch eager"],
                rows))
    return {v.name: v.median_ms for v in variants}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 steps")
    parser.add_argument("--only", choices=("lstm", "encoder"))
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    steps = args.steps or (2 if args.quick else 5)

    import torch  # noqa: PLC0415

    print(f"# bench_rnn on {machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads)")
    med = {}
    if args.only in (None, "lstm"):
        med["lstm"] = bench_lstm(rounds, steps)
        print()
    if args.only in (None, "encoder"):
        med["encoder"] = bench_encoder(rounds, steps)
    return med


if __name__ == "__main__":
    sys.exit(main() and None)
