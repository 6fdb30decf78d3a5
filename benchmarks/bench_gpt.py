"""GPT training speed (workload w4): jaxdl (loop and scan) side by side with torch eager, torch.compile,
flax.linen + optax and plain JAX (jit loop and lax.scan), all in one process, Adam(lr=1e-3), float32, the
same weights and data.

Run: python benchmarks/bench_gpt.py [--rounds N] [--steps S] [--quick] [--variants "jaxdl loop,torch eager"]
                                    [--malloc-retain]

Model w4: vocab 65, context 64, emb_dim 128, 4 layers, 4 heads, batch 32, drop_rate 0.0, qkv_bias False — the
lecture's GPT (jaxdl.nn.GPT, and its torch twin jaxdl/parity/_torch_gpt.py). Every variant starts from the torch
model's default init (state_dict copied into each framework) and trains on the same token batches. Per variant:
the first call (one step from cold: trace + compile + run), then a check that every variant's loss after 10 steps
equals torch eager's, then ``rounds`` interleaved rounds of ``steps`` steps (benchmarks/_harness.py); the table
shows the median ms/step, tokens/s, GFLOP/s and the ratios to torch eager and to the best non-jaxdl peer.

FLOPs per step: 6·P·tokens (P = all 816,640 parameters, tokens = 32·64 = 2048) plus attention's
12·n_layers·B·T²·E (QKᵀ and AV: 2·T²·E each forward, ×3 for forward + backward; the causal half is not
discounted, as no variant skips it) = 10.03 + 0.81 = 10.84 GFLOP.

``--malloc-retain`` re-runs the script with glibc told to keep freed memory (MALLOC_ARENA_MAX=1,
MALLOC_MMAP_MAX_=0, MALLOC_TRIM_THRESHOLD_=4 GiB), for every variant alike. By default each call of a jitted
step gets its ~129 MiB temp buffer from a fresh mmap and page-faults it in (~32,000 minor faults, ~30 ms per
w4 step on this 2-core machine); a lax.scan of S steps pays that once per S steps.
"""
from __future__ import annotations

import argparse
import math
import os
import sys

RETAIN_ENV = {"MALLOC_ARENA_MAX": "1", "MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(4 << 30)}
if "--malloc-retain" in sys.argv[1:] and any(os.environ.get(k) != v for k, v in RETAIN_ENV.items()):
    # glibc reads these at start-up only, so re-execute before anything (jax, torch) allocates
    os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **RETAIN_ENV})

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from _harness import JaxdlVariant, PlainJaxVariant, TorchVariant, fmt, jax_batches, machine, table, time_variants

CFG = {"vocab_size": 65, "context_length": 64, "emb_dim": 128, "n_heads": 4, "n_layers": 4, "drop_rate": 0.0,
       "qkv_bias": False}
BATCH, LR = 32, 1e-3
JAXDL = ("jaxdl loop", "jaxdl scan")


def n_params(cfg=CFG) -> int:
    V, T, E, L = cfg["vocab_size"], cfg["context_length"], cfg["emb_dim"], cfg["n_layers"]
    block = 3 * E * E + (E * E + E) + (E * 4 * E + 4 * E) + (4 * E * E + E) + 4 * E  # qkv, out, ff, 2 LN
    return V * E + T * E + L * block + 2 * E + E * V  # tok, pos, blocks, final LN, head


def step_gflop(cfg=CFG, batch=BATCH) -> float:
    T, E, L = cfg["context_length"], cfg["emb_dim"], cfg["n_layers"]
    return (6 * n_params(cfg) * batch * T + 12 * L * batch * T * T * E) / 1e9


def state_dict_numpy(cfg=CFG, seed=0):
    """torch's default init of the reference GPT as float32 numpy arrays, the start for every variant."""
    import torch  # noqa: PLC0415

    from jaxdl.parity import torch_gpt  # noqa: PLC0415

    torch.manual_seed(seed)
    return {k: np.array(v.detach().numpy(), copy=True) for k, v in torch_gpt(cfg).state_dict().items()}


# ---------------------------------------------------------------- torch eager / torch.compile
def torch_gpt_variant(sd, compile=False, *, cfg=CFG, lr=LR, sdpa=False, **torch_kwargs):
    """torch eager / torch.compile: the lecture's GPTModel (``sdpa``: attention by F.scaled_dot_product_attention)
    with cross-entropy over (B·T, V); ``torch_kwargs`` (device, autocast) go to TorchVariant."""
    import torch  # noqa: PLC0415

    from jaxdl.parity import torch_gpt  # noqa: PLC0415

    loss = lambda logits, y: torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())  # noqa: E731
    return TorchVariant(torch_gpt(cfg, sdpa=sdpa), loss, sd, lr, compile=compile, **torch_kwargs)


# ---------------------------------------------------------------- jaxdl: nn.GPT + jaxdl.train steps
def jaxdl_gpt(sd, scan=False, *, cfg=CFG, lr=LR, precision="fp32"):
    from jaxdl import nn  # noqa: PLC0415

    return JaxdlVariant(nn.GPT.from_config(cfg), nn.lm_loss, sd, lr, scan=scan, accuracy=False, precision=precision)


# ---------------------------------------------------------------- plain JAX: dict of arrays named as torch's
def plain_forward(p, idx, cfg=CFG):
    """The GPT forward written as one would by hand in JAX: (B, T, E) activations, per-head einsums."""
    B, T = idx.shape
    E, H, L = cfg["emb_dim"], cfg["n_heads"], cfg["n_layers"]

    def ln(x, name):
        mean = x.mean(-1, keepdims=True)
        var = jnp.square(x - mean).mean(-1, keepdims=True)
        return (x - mean) * lax.rsqrt(var + 1e-5) * p[f"{name}.weight"] + p[f"{name}.bias"]

    def lin(x, name, bias=True):
        y = x @ p[f"{name}.weight"].T
        return y + p[f"{name}.bias"] if bias else y

    mask = jnp.tril(jnp.ones((T, T), bool))
    x = p["tok_emb.weight"][idx] + p["pos_emb.weight"][:T]
    for i in range(L):
        b = f"trf_blocks.{i}"
        h = ln(x, f"{b}.norm1")
        q, k, v = (lin(h, f"{b}.att.{n}", cfg["qkv_bias"]).reshape(B, T, H, E // H)
                   for n in ("W_query", "W_key", "W_value"))
        s = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(E // H)
        w = jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1)
        ctx = jnp.einsum("bhqk,bkhd->bqhd", w, v).reshape(B, T, E)
        x = x + lin(ctx, f"{b}.att.out_proj")
        h = ln(x, f"{b}.norm2")
        x = x + lin(jax.nn.gelu(lin(h, f"{b}.ff.layers.0"), approximate=True), f"{b}.ff.layers.2")
    return lin(ln(x, "final_norm"), "out_head", bias=False)


class PlainJax(PlainJaxVariant):
    def __init__(self, sd, scan=False):
        self.sd, self.tx = sd, optax.adam(LR)

        def step(carry, batch):
            params, opt_state = carry
            x, y = batch

            def objective(p):
                return optax.softmax_cross_entropy_with_integer_labels(plain_forward(p, x), y).mean()

            loss, grads = jax.value_and_grad(objective)(params)
            updates, opt_state = self.tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        super().__init__(step, scan)

    def reset(self):
        params = {k: jnp.asarray(v) for k, v in self.sd.items()}
        self.carry = (params, self.tx.init(params))


# ---------------------------------------------------------------- flax.linen
class FlaxLinen:
    def __init__(self, sd, cfg=CFG):
        import flax.linen as fnn  # noqa: PLC0415

        E, H, L, V, C = cfg["emb_dim"], cfg["n_heads"], cfg["n_layers"], cfg["vocab_size"], cfg["context_length"]
        qkv_bias = cfg["qkv_bias"]

        class Attention(fnn.Module):
            @fnn.compact
            def __call__(self, x):
                B, T, _ = x.shape
                q, k, v = (fnn.Dense(E, use_bias=qkv_bias, name=n)(x).reshape(B, T, H, E // H)
                           for n in ("W_query", "W_key", "W_value"))
                mask = fnn.make_causal_mask(jnp.ones((B, T), bool))  # (B, 1, T, T)
                ctx = fnn.dot_product_attention(q, k, v, mask=mask)  # (B, T, H, d), softmax in float32
                return fnn.Dense(E, name="out_proj")(ctx.reshape(B, T, E))

        class Block(fnn.Module):
            @fnn.compact
            def __call__(self, x):
                x = x + Attention(name="att")(fnn.LayerNorm(epsilon=1e-5, name="norm1")(x))
                h = fnn.LayerNorm(epsilon=1e-5, name="norm2")(x)
                h = fnn.Dense(E, name="ff2")(fnn.gelu(fnn.Dense(4 * E, name="ff0")(h), approximate=True))
                return x + h

        class GPT(fnn.Module):
            @fnn.compact
            def __call__(self, idx):
                T = idx.shape[1]
                x = fnn.Embed(V, E, name="tok_emb")(idx) + fnn.Embed(C, E, name="pos_emb")(jnp.arange(T))
                for i in range(L):
                    x = Block(name=f"b{i}")(x)
                return fnn.Dense(V, use_bias=False, name="out_head")(fnn.LayerNorm(epsilon=1e-5, name="final_norm")(x))

        self.module, self.sd, self.tx, self.cfg = GPT(), sd, optax.adam(LR), cfg

        def step(params, opt_state, x, y):
            def objective(p):
                return optax.softmax_cross_entropy_with_integer_labels(self.module.apply({"params": p}, x), y).mean()

            loss, grads = jax.value_and_grad(objective)(params)
            updates, opt_state = self.tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        self.fn = jax.jit(step, donate_argnums=(0, 1))
        self.prepare = jax_batches
        self.reset()

    def reset(self):
        sd, a = self.sd, jnp.asarray
        dense = lambda n, bias=True: {"kernel": a(sd[f"{n}.weight"].T),
                                      **({"bias": a(sd[f"{n}.bias"])} if bias else {})}
        norm = lambda n: {"scale": a(sd[f"{n}.weight"]), "bias": a(sd[f"{n}.bias"])}
        params = {"tok_emb": {"embedding": a(sd["tok_emb.weight"])}, "pos_emb": {"embedding": a(sd["pos_emb.weight"])},
                  "final_norm": norm("final_norm"), "out_head": dense("out_head", bias=False)}
        for i in range(self.cfg["n_layers"]):
            b = f"trf_blocks.{i}"
            att = {n: dense(f"{b}.att.{n}", self.cfg["qkv_bias"]) for n in ("W_query", "W_key", "W_value")}
            att["out_proj"] = dense(f"{b}.att.out_proj")
            params[f"b{i}"] = {"att": att, "norm1": norm(f"{b}.norm1"), "norm2": norm(f"{b}.norm2"),
                               "ff0": dense(f"{b}.ff.layers.0"), "ff2": dense(f"{b}.ff.layers.2")}
        self.carry = (params, self.tx.init(params))

    def run(self, data):
        for x, y in data:
            *self.carry, loss = self.fn(*self.carry, x, y)
        return float(loss)


VARIANTS = {
    "jaxdl loop": lambda sd: jaxdl_gpt(sd, scan=False),
    "jaxdl scan": lambda sd: jaxdl_gpt(sd, scan=True),
    "torch eager": lambda sd: torch_gpt_variant(sd),
    "torch.compile": lambda sd: torch_gpt_variant(sd, compile=True),
    "flax.linen jit loop": FlaxLinen,
    "plain JAX jit loop": lambda sd: PlainJax(sd, scan=False),
    "plain JAX lax.scan": lambda sd: PlainJax(sd, scan=True),
}


def tokens(steps, seed):
    """``steps`` batches of next-token pairs: x = seq[:, :-1], y = seq[:, 1:] of random token sequences."""
    seq = np.random.default_rng(seed).integers(0, CFG["vocab_size"], (steps, BATCH, CFG["context_length"] + 1))
    return seq[:, :, :-1].astype(np.int32), seq[:, :, 1:].astype(np.int32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 7, --quick 2)")
    parser.add_argument("--steps", type=int, default=None, help="steps per timed block (default 5, --quick 2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps and rounds")
    parser.add_argument("--malloc-retain", action="store_true", help="keep freed memory in glibc malloc (no "
                        "per-step page faults for XLA's temp buffer); set before start-up by re-executing")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset (torch eager is "
                        "always included: the loss check and the ratios refer to it)")
    args = parser.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 7)
    steps = args.steps if args.steps is not None else (2 if args.quick else 5)
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        parser.error(f"--variants: unknown {unknown}; expected names from {list(VARIANTS)}")
    if rounds < 1 or steps < 1:
        parser.error("--rounds and --steps must be ≥ 1")
    names = ["torch eager"] + [n for n in VARIANTS if n in names and n != "torch eager"]

    import torch  # noqa: PLC0415

    tok = BATCH * CFG["context_length"]
    gflop = step_gflop()
    print(f"# bench_gpt on {machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads)"
          + ("; malloc: " + " ".join(f"{k}={v}" for k, v in RETAIN_ENV.items()) if args.malloc_retain else ""))
    print(f"## w4: GPT {CFG}, batch {BATCH} ({n_params():,} params, {tok} tokens and {gflop:.2f} GFLOP per step), "
          f"Adam(lr={LR}), float32; {steps} steps per block, {rounds} rounds")
    sd = state_dict_numpy()
    objs = {n: VARIANTS[n](sd) for n in names}

    variants, med = time_variants(objs, *tokens(steps, seed=0), tokens(10, seed=1), rounds)
    peers = [m for n, m in med.items() if n not in JAXDL]
    best_peer = min(peers)
    rows = [[v.name, fmt(v.median_ms, ".1f"), f"{min(v.times_ms):.1f}–{max(v.times_ms):.1f}",
             fmt(tok / v.median_ms * 1e3, ",.0f"), fmt(gflop / v.median_ms * 1e3, ".1f"), fmt(v.first_call_s),
             fmt(v.median_ms / med["torch eager"]), fmt(v.median_ms / best_peer)] for v in variants]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "tokens/s", "GFLOP/s", "first call s",
                 "× torch eager", "× best peer"], rows))
    if "torch.compile" in med:
        print("\n## target (ratio within this run)")
        trows = [[n, "≤ 0.85× torch.compile", f"{med[n] / med['torch.compile']:.2f}×",
                  "yes" if med[n] / med["torch.compile"] <= 0.85 else "NO"] for n in JAXDL if n in med]
        print(table(["variant", "target", "measured", "met"], trows))
    return med


if __name__ == "__main__":
    sys.exit(main() and None)
