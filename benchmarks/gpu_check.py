"""The prepared GPU run: GPT-2 small training speed in bfloat16 mixed precision, then jaxdl's parity on the GPU.

Run on the GPU machine as ONE command from the checkout (its python3 has jax[cuda], torch, optax, flax, chex):
    PYTHONPATH=. python3 benchmarks/gpu_check.py            # writes $OUT/gpu_check.txt (or --out PATH)
and on CPU, tiny sizes through the same code paths (tests/test_gpu_check.py runs it):
    python benchmarks/gpu_check.py --dry-run --out /tmp/gpu_check.txt

1. GPT-2 small (124M: vocab 50257, context 1024, 12 layers, 12 heads, emb 768, tied head, GELU-tanh, no
   dropout), batch 8 × 1024 tokens, Adam(lr=1e-4), ``precision="bf16-mixed"``: jaxdl's ``make_train_step`` in a
   ``lax.scan`` of 5 steps and jitted step by step (both compiled as fit compiles them), against torch eager
   and torch.compile with ``torch.autocast("cuda", torch.bfloat16)`` and F.scaled_dot_product_attention (the
   torch twin in jaxdl/parity/_torch_gpt.py). Per variant: the first block (compile + 5 steps), then every
   variant's loss after those 5 steps from the same weights must equal torch eager's (rtol 1e-2, bfloat16),
   then interleaved rounds (benchmarks/_harness.py). Printed: ms/step, tokens/s and model-FLOPs utilisation
   = (6·P + 12·L·T·E)·tokens/s over the chip's dense bfloat16 peak (nanoGPT's estimate, P all parameters).
2. ``jaxdl parity`` on the GPU — every case in float32, then the bf16-mixed cases (CUDA op lists), then every
   case in float64 (float32 matmuls at full precision on both sides: JAX "highest", torch TF32 off) — in the
   time left of ``--budget`` seconds; cases not reached are listed as such.
Everything printed also goes to the output file. jax is told not to preallocate GPU memory (torch shares it).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # before jax starts: torch needs GPU memory too

import jax  # noqa: E402
import numpy as np  # noqa: E402

from _harness import Variant, check_same_loss, first_call, fmt, machine, run_rounds, table  # noqa: E402
from bench_gpt import jaxdl_gpt, torch_gpt_variant  # noqa: E402

GPT2_SMALL = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
              "drop_rate": 0.0, "qkv_bias": True, "tie_weights": True}
TINY = {"vocab_size": 65, "context_length": 32, "emb_dim": 32, "n_heads": 2, "n_layers": 2, "drop_rate": 0.0,
        "qkv_bias": True, "tie_weights": True}
LR = 1e-4
# dense bfloat16 peak FLOP/s by device_kind substring (vendor datasheets, without sparsity)
PEAK_BF16 = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12}
PARITY_SMOKE = ("F.linear", "nn.GPT forward+grad (tied", "train.fit scan")  # --dry-run's parity cases


def n_params(cfg) -> int:
    """All parameters of nn.GPT(cfg) with qkv biases and a tied head (GPT-2 small: 124,439,808)."""
    V, T, E, L = cfg["vocab_size"], cfg["context_length"], cfg["emb_dim"], cfg["n_layers"]
    block = (3 * E * E + 3 * E) + (E * E + E) + (E * 4 * E + 4 * E) + (4 * E * E + E) + 4 * E
    return V * E + T * E + L * block + 2 * E


def flops_per_token(cfg) -> float:
    """nanoGPT's estimate_mfu: 6·P for the matmuls' forward + backward, 12·L·T·E for attention's."""
    return 6 * n_params(cfg) + 12 * cfg["n_layers"] * cfg["context_length"] * cfg["emb_dim"]


def peak_flops(device) -> float | None:
    kind = getattr(device, "device_kind", "")
    return next((p for name, p in PEAK_BF16.items() if name in kind), None)


class Log:
    """print, and keep every line for the output file."""

    def __init__(self):
        self.lines = []

    def __call__(self, text=""):
        print(text, flush=True)
        self.lines.append(str(text))


def variants(cfg, sd_torch, sd_jax, device):
    """bench_gpt's variant builders, in bf16-mixed: torch under autocast with SDPA on ``device``."""
    torch_variant = lambda compile: torch_gpt_variant(sd_torch, compile, cfg=cfg, lr=LR, sdpa=True,  # noqa: E731
                                                      device=device, autocast=True)
    jaxdl = lambda scan: jaxdl_gpt(sd_jax, scan, cfg=cfg, lr=LR, precision="bf16-mixed")  # noqa: E731
    return {"torch eager": lambda: torch_variant(False), "jaxdl scan": lambda: jaxdl(True),
            "jaxdl loop": lambda: jaxdl(False), "torch.compile": lambda: torch_variant(True)}


def bench_gpt(log, cfg, batch, steps, rounds, device):
    import torch  # noqa: PLC0415

    from jaxdl.parity import torch_gpt, torch_state_dict_to_jax  # noqa: PLC0415

    torch.manual_seed(0)
    ref = torch_gpt(cfg)  # torch's default init, for every variant
    sd_torch = {k: v.detach().numpy().copy() for k, v in ref.state_dict().items()}
    sd_jax = torch_state_dict_to_jax(ref, cfg["tie_weights"])  # the tied head's weight once, as nn.GPT holds it
    T = cfg["context_length"]
    seq = np.random.default_rng(0).integers(0, cfg["vocab_size"], (steps, batch, T + 1))
    xs, ys = seq[:, :, :-1].astype(np.int32), seq[:, :, 1:].astype(np.int32)
    tokens = batch * T
    log(f"## GPT {cfg}: {n_params(cfg):,} parameters, batch {batch} × {T} = {tokens:,} tokens per step, "
        f"Adam(lr={LR}), bf16-mixed; {steps} steps per block, {rounds} rounds")
    objs, timed = {}, []
    # first block: compile + `steps` steps; the check and the rounds then run the same shapes (no recompile)
    for name, make in variants(cfg, sd_torch, sd_jax, device).items():
        objs[name] = make()
        var = Variant(name, steps, lambda obj=objs[name], d=objs[name].prepare(xs, ys): obj.run(d))
        first_call(var)
        timed.append(var)
        log(f"  {name}: first block {var.first_call_s:.1f} s (compile + {steps} steps)")
    losses = check_same_loss(objs, xs, ys, rtol=1e-2, indent="  ")  # each variant reset to the weights after it
    log("  loss after the first block: " + ", ".join(f"{n} {v:.4f}" for n, v in losses.items()))
    run_rounds(timed, rounds)
    peak = peak_flops(jax.devices()[0])
    fpt = flops_per_token(cfg)
    eager = next(v.median_ms for v in timed if v.name == "torch eager")
    rows = []
    for v in timed:
        tps = tokens / v.median_ms * 1e3
        rows.append([v.name, fmt(v.median_ms, ".1f"), f"{min(v.times_ms):.1f}–{max(v.times_ms):.1f}",
                     fmt(tps, ",.0f"), fmt(fpt * tps / peak * 100 if peak else None, ".1f"),
                     fmt(v.first_call_s, ".1f"), fmt(v.median_ms / eager)])
    log()
    log(table(["variant", "median ms/step", "range over rounds", "tokens/s", "MFU %", "first block s",
               "× torch eager"], rows))
    log(f"\nMFU: {fpt / 1e9:.4g} GFLOP per token over "
        + (f"{peak / 1e12:.0f} TFLOP/s (dense bf16 of {jax.devices()[0].device_kind})" if peak else
           f"an unknown peak ({jax.devices()[0].device_kind}: not in PEAK_BF16)"))


def parity_table(log, deadline, dry_run):
    from jaxdl import parity  # noqa: PLC0415

    import torch  # noqa: PLC0415

    cases = [c for c in parity.CASES if not dry_run or any(c.name.startswith(p) for p in PARITY_SMOKE)]
    # float32 first (the parity the card promises on a GPU), then bf16-mixed, then float64: the budget cuts the last
    jobs = [(c, d) for d in ("float32", "bf16-mixed", "float64") for c in cases if d in c.dtypes]
    assert {d for c in cases for d in c.dtypes} <= set(parity.ALL_DTYPES)
    device = parity.torch_device(torch)
    log(f"\n## jaxdl parity on JAX {jax.default_backend()} ({jax.devices()[0].device_kind}), torch "
        f"{torch.__version__} on {device}; float32 matmuls pinned to full precision ('highest', TF32 off)")
    rule = parity.TOLERANCES["float32"]
    log(f"float32 and bf16-mixed rows judged by torch's own rounding on this device: jaxdl's error against torch "
        f"in float64 at most {rule['factor']:g}x torch's own (the 'torch' columns) + {rule['ulps']:g} float32 ulps")
    results, skipped = [], []
    for case, dtype in jobs:
        if time.perf_counter() > deadline:
            skipped.append(f"{case.name} [{dtype}]")
            continue
        results.append(parity.run_case(case, dtype, torch, device))
    log(parity.format_table(results))
    if skipped:
        log(f"not run (--budget reached): {len(skipped)} of {len(jobs)}: " + "; ".join(skipped))
    return all(r.passed for r in results)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on any device (CPU), the same code paths")
    parser.add_argument("--out", help="output file (default $OUT/gpu_check.txt, else ./gpu_check.txt)")
    parser.add_argument("--batch", type=int, default=None, help="sequences per step (default 8; --dry-run 2)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds (default 5; --dry-run 1)")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds from start after which no new "
                        "parity case starts (default 420: the whole run fits 8 minutes)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    out = args.out or os.path.join(os.environ.get("OUT", "."), "gpu_check.txt")
    cfg = TINY if args.dry_run else GPT2_SMALL
    batch = args.batch or (2 if args.dry_run else 8)
    rounds = args.rounds or (1 if args.dry_run else 5)
    if batch < 1 or rounds < 1:
        parser.error(f"--batch and --rounds must be ≥ 1; got {batch}, {rounds}")

    import torch  # noqa: PLC0415

    device = "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"
    log = Log()
    log(f"# gpu_check{' --dry-run' if args.dry_run else ''} on {machine()}; devices {jax.devices()}; "
        f"torch {torch.__version__} on {device}" + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else ""))
    ok = True
    try:
        bench_gpt(log, cfg, batch, 5, rounds, device)
    except Exception as exc:  # the parity table still runs; the failure is in the file
        log(f"GPT benchmark failed: {type(exc).__name__}: {exc}")
        ok = False
    ok &= parity_table(log, start + args.budget, args.dry_run)
    log(f"\ntotal {time.perf_counter() - start:.0f} s; {'all passed' if ok else 'FAILURES above'}")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        f.write("\n".join(log.lines) + "\n")
    print(f"written: {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
