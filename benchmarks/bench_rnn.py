"""Recurrent training speed: the char-LSTM's training step (embedding 64 → 2-layer LSTM, hidden 256 → linear
head over 65 characters; batch 32, sequence 64), jaxdl (nn.CharLSTM, whose nn.LSTM is a lax.scan of the LSTM
cell, jitted, in loop and scan mode) against torch eager (oneDNN's fused LSTM kernel) and torch.compile, in one
process, Adam(lr=1e-3), float32, the same weights and batches (benchmarks/_harness.py: first call, the equal-loss
check, interleaved rounds, median ms/step).

Run: python benchmarks/bench_rnn.py [--rounds N] [--steps S] [--quick]

The Transformer-encoder-layer step the issue asks for beside it waits for nn.TransformerEncoderLayer.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from _harness import JaxdlVariant, TorchVariant, fmt, machine, table, time_variants

VOCAB, EMB, HIDDEN, LAYERS, SEQ, BATCH, LR = 65, 64, 256, 2, 64, 32, 1e-3


def jaxdl_model():
    from jaxdl import nn  # noqa: PLC0415

    return nn.CharLSTM(vocab_size=VOCAB, context_length=SEQ, emb_dim=EMB, hidden_size=HIDDEN, num_layers=LAYERS)


def torch_model():
    import torch  # noqa: PLC0415

    class CharLSTM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMB)  # nn.CharLSTM's state_dict names
            self.lstm = torch.nn.LSTM(EMB, HIDDEN, LAYERS, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            return self.head(self.lstm(self.embedding(x))[0])

    return CharLSTM()


def tokens(steps, seed):
    rng = np.random.default_rng(seed)
    xs = rng.integers(0, VOCAB, (steps, BATCH, SEQ)).astype(np.int32)
    return xs, np.roll(xs, -1, axis=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 2 steps")
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    steps = args.steps or (2 if args.quick else 5)

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
    print(f"# bench_rnn on {machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads)")
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


if __name__ == "__main__":
    sys.exit(main() and None)
