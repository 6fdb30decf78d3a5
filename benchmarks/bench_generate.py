"""Greedy generation speed on CPU: jaxdl.generate with its KV cache, without it (the lecture's recomputation
of the whole window per token), and transformers' GPT2LMHeadModel.generate (torch eager, its own KV cache).

Run: python benchmarks/bench_generate.py [--layers 12] [--batches 1,8] [--prompt 32] [--new 64] [--repeats 2]
                                         [--no-cache-batches 1]

The model is GPT-2 small-shaped (vocab 50257, context 1024, emb 768, 12 heads; --layers blocks) with
transformers' random init (GPT2Config(), no download), moved into jaxdl with jaxdl.interop.load_gpt: the same
float32 weights everywhere. Per variant and batch: one untimed call (jaxdl: trace + compile), then the best of
--repeats timed calls; tokens/s = batch·new / seconds. Every variant's tokens are checked against transformers'
(the column "same tokens"). The no-cache path costs a full forward of prompt + new tokens per token, so by
default it runs at batch 1 only (--no-cache-batches 1,8 adds batch 8: several minutes on a 2-core machine).
"""
from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from _harness import machine, table
from jaxdl.generate import generate
from jaxdl.interop import load_gpt


def best_seconds(fn, repeats: int) -> tuple[float, np.ndarray]:
    out = fn()  # untimed: compile (jaxdl) / warm-up (torch)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--no-cache-batches", default="1")
    parser.add_argument("--prompt", type=int, default=32)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    no_cache_batches = {int(b) for b in args.no_cache_batches.split(",") if b}

    torch.manual_seed(0)
    ref = GPT2LMHeadModel(GPT2Config(n_layer=args.layers)).eval()
    model, params, _ = load_gpt(ref.state_dict(), source="huggingface", n_heads=12)
    print(f"{machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads)")
    print(f"GPT-2 small-shaped, {args.layers} layers, float32, greedy; prompt {args.prompt}, {args.new} new tokens")
    rows = []
    for batch in batches:
        prompt = np.random.default_rng(batch).integers(0, model.vocab_size, (batch, args.prompt))
        ids = torch.as_tensor(prompt)

        def hf():
            with torch.no_grad():
                return ref.generate(ids, max_new_tokens=args.new, do_sample=False, use_cache=True,
                                    pad_token_id=0, eos_token_id=None).numpy()

        def jaxdl(use_cache):
            return lambda: np.asarray(jax.block_until_ready(generate(
                model, params, jnp.asarray(prompt, jnp.int32), args.new, key=jax.random.key(0), temperature=0.0,
                use_cache=use_cache)))

        t_hf, want = best_seconds(hf, args.repeats)
        variants = [("jaxdl KV cache", jaxdl(True))]
        if batch in no_cache_batches:
            variants.append(("jaxdl no cache", jaxdl(False)))
        results = [("transformers generate (KV cache)", t_hf, want)]
        results += [(name, *best_seconds(fn, args.repeats)) for name, fn in variants]
        for name, seconds, out in results:
            same = np.array_equal(out, want)
            rows.append([name, batch, f"{seconds:.2f}", f"{batch * args.new / seconds:.1f}",
                         f"{t_hf / seconds:.2f}", "yes" if same else f"no (first at {np.argmax(out != want)})"])
            print(rows[-1], flush=True)
    print(table(["variant", "batch", "seconds", "tokens/s", "speed vs transformers", "same tokens"], rows))


if __name__ == "__main__":
    main()
