"""MLP training speed: jaxdl (loop and scan) side by side with torch eager, torch.compile, flax.linen, equinox
and plain JAX (jit loop and lax.scan), all in one process, Adam(lr=1e-3), float32, the same weights and data.

Run: python benchmarks/bench_mlp.py [--workload w1,w2,w3] [--rounds N] [--quick]

Workloads: w1 MLP 64-256-256-10, batch 128; w2 MLP 784-2048-2048-10, batch 512; w3 the lecture MLP
64-256-256-10 with BatchNorm1d and Dropout(0.2), batch 128. Per workload: every variant's first call (one
training step on one batch, so trace + compile + one step), then a check that all variants reach the same loss
after 10 steps from the same weights (w3 checks with Dropout(0.0), since the frameworks' dropout masks can
never agree), then ``rounds`` interleaved rounds of ``steps`` steps each; the table shows the median ms/step.
Also measured in the same run: XLA's float32 matmul ceiling (2048³ dot; at the start, at the end, and for w2's
target inside w2's rounds, as one more contender) and jaxdl.train.sweep over 8 learning
rates against the same sweep with 1 (per-epoch time, compile excluded by differencing 1 and 6 epochs).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

import jax
import numpy as np

from _harness import (CEILING, check_same_loss, dot_gflops, first_calls, fmt, machine, matmul_ceiling, matmul_variant,
                      run_rounds, table)
from _mlp_variants import VARIANTS, state_dict_numpy

JAXDL = ("jaxdl loop", "jaxdl scan")


def mlp(sizes, bn=False, p=None):
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += ([("linear", a, b)] + ([("bn", b)] if bn else []) + [("relu",)]
                   + ([("dropout", p)] if p is not None else []))
    return tuple(layers + [("linear", sizes[-2], sizes[-1])])


WORKLOADS = {  # name: (description, sizes, batch, bn, dropout p, steps per timed block)
    "w1": ("MLP 64-256-256-10, batch 128", (64, 256, 256, 10), 128, False, None, 100),
    "w2": ("MLP 784-2048-2048-10, batch 512", (784, 2048, 2048, 10), 512, False, None, 4),
    "w3": ("lecture MLP 64-256-256-10 + BatchNorm1d + Dropout(0.2), batch 128",
           (64, 256, 256, 10), 128, True, 0.2, 100),
}


def n_params(layers):
    """Trainable parameters: Linear weight + bias, BatchNorm weight + bias."""
    return sum(args[0] * args[1] + args[1] if kind == "linear" else 2 * args[0] if kind == "bn" else 0
               for kind, *args in layers)


def equal_work_data(layers, batch, steps=10):
    """The batches of the equal-work check: ``steps`` standard-normal inputs and random class targets."""
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((steps, batch, layers[0][1]), dtype=np.float32)
    return xs, rng.integers(0, layers[-1][2], (steps, batch)).astype(np.int32)


def bench_workload(name, rounds, quick, variants=None, ratio_to=None):
    """Time ``variants`` (name -> make(layers, sd); default this script's VARIANTS) on workload ``name``: first
    calls, the equal-loss check, interleaved rounds, the table. Its last column is each variant's ratio to the
    best non-jaxdl peer, or with ``ratio_to = (header, {variant: reference variant})`` to that reference (blank
    for a variant without one). Returns the medians, first calls, GFLOP per step, the ceiling and the variants."""
    makers = VARIANTS if variants is None else variants
    desc, sizes, batch, bn, p, steps = WORKLOADS[name]
    steps = max(2, steps // 4) if quick else steps
    layers = mlp(sizes, bn, p)
    sd = state_dict_numpy(layers)
    print(f"\n## {name}: {desc}  ({n_params(layers):,} params, {steps} steps per block, {rounds} rounds)")
    objs = {n: make(layers, sd) for n, make in makers.items()}

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((steps, batch, sizes[0]), dtype=np.float32)
    ys = rng.integers(0, sizes[-1], (steps, batch)).astype(np.int32)
    timed = first_calls(objs, xs, ys, steps, indent="  ")

    if p:  # dropout masks differ between frameworks, so the equal-work check runs the same net at p=0
        check_same_loss({n: make(mlp(sizes, bn, 0.0), sd) for n, make in makers.items()},
                        *equal_work_data(layers, batch), indent="  ")
    else:
        check_same_loss(objs, *equal_work_data(layers, batch), rtol=1e-3 if name == "w2" else 1e-4, indent="  ")

    for var in timed:
        v = objs[var.name]
        v.reset()
        var.block = lambda v=v, d=v.prepare(xs, ys): v.run(d)
    dot = matmul_variant(steps) if name == "w2" else None  # w2's target is a fraction of it, so time it alongside
    run_rounds(timed + ([dot] if dot else []), rounds)

    gflop = 6 * n_params(layers) * batch / 1e9
    med = {v.name: v.median_ms for v in timed}
    if ratio_to is None:
        header, ref_ms = "× best peer", dict.fromkeys(med, min(m for n, m in med.items() if n not in JAXDL))
    else:
        header, ref_ms = ratio_to[0], {n: med[r] for n, r in ratio_to[1].items()}
    rows = [[v.name, fmt(v.median_ms, ".3f"), f"{min(v.times_ms):.3f}–{max(v.times_ms):.3f}",
             fmt(gflop / v.median_ms * 1e3, ".1f"), fmt(v.first_call_s), fmt(v.median_ms / med["torch eager"]),
             fmt(v.median_ms / ref_ms[v.name]) if v.name in ref_ms else ""] for v in timed]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "GFLOP/s", "first call s",
                 "× torch eager", header], rows))
    ceiling = dot_gflops(dot) if dot else None
    if dot:
        print(f"\n  {CEILING} in the same rounds: {dot.median_ms:.1f} ms"
              f" ({min(dot.times_ms):.1f}–{max(dot.times_ms):.1f}),"
              f" {ceiling:.1f} GFLOP/s: jaxdl scan at {gflop / med['jaxdl scan'] * 1e3 / ceiling:.0%} of it")
    return {"name": name, "med": med, "first": {v.name: v.first_call_s for v in timed}, "gflop": gflop,
            "ceiling": ceiling, "objs": objs}


def bench_sweep(quick):
    """jaxdl.train.sweep: per-epoch time of 8 vmapped lrs over that of 1, on w1 (50 steps of 128 per epoch)."""
    from jaxdl import nn, optim  # noqa: PLC0415
    from jaxdl.train import sweep  # noqa: PLC0415

    layers = mlp((64, 256, 256, 10))
    model = nn.Sequential(*({"linear": nn.Linear, "relu": nn.ReLU}[k](*a) for k, *a in layers))
    rng = np.random.default_rng(0)
    n = 128 * (10 if quick else 50)
    x, y = rng.standard_normal((n, 64), dtype=np.float32), rng.integers(0, 10, n).astype(np.int32)
    lrs = np.logspace(-4, -2, 8)

    def wall(k, epochs):
        t0 = time.perf_counter()
        res = sweep(model, lambda lr: optim.adam(lr=lr), {"lr": lrs[:k]}, [0], (x, y), epochs=epochs, batch_size=128)
        jax.block_until_ready(res.states)
        return time.perf_counter() - t0

    # sweep builds a fresh jit per call, so every call compiles; the persistent compilation cache turns the
    # repeat calls into cache hits, and differencing 1 and 6 epochs cancels what remains (tracing, loading)
    with tempfile.TemporaryDirectory() as cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        for k in (1, 8):
            for e in (1, 6):
                wall(k, e)  # compiles and fills the cache
        walls = {(k, e): [] for k in (1, 8) for e in (1, 6)}
        for _ in range(2 if quick else 5):  # interleaved, so drift hits the 1-lr and 8-lr sweeps alike
            for k, e in walls:
                walls[k, e].append(wall(k, e))
        per_epoch = {k: (min(walls[k, 6]) - min(walls[k, 1])) / 5 for k in (1, 8)}
        jax.config.update("jax_compilation_cache_dir", None)
    ratio = per_epoch[8] / per_epoch[1]
    print(f"\n## sweep (w1 model, {n // 128} steps/epoch): 1 lr {per_epoch[1] * 1e3:.1f} ms/epoch, "
          f"8 lrs {per_epoch[8] * 1e3:.1f} ms/epoch, ratio {ratio:.2f} (target ≤ {8 / 3:.2f})")
    return ratio


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="w1,w2,w3", help="comma-separated subset of w1,w2,w3")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per workload (default 7, --quick 2)")
    parser.add_argument("--quick", action="store_true", help="smoke run: few steps and rounds")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep measurement")
    args = parser.parse_args(argv)
    names = [w.strip() for w in args.workload.split(",") if w.strip()]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown or not names:
        parser.error(f"--workload: expected names from {sorted(WORKLOADS)}; got {args.workload!r}")
    rounds = args.rounds if args.rounds is not None else (2 if args.quick else 7)
    if rounds < 1:
        parser.error(f"--rounds must be ≥ 1; got {rounds}")

    import torch  # noqa: PLC0415

    print(f"# bench_mlp on {machine()}; torch {torch.__version__} ({torch.get_num_threads()} threads)")
    ceiling = matmul_ceiling(reps=3 if args.quick else 10)
    print(f"XLA float32 matmul ceiling (2048³ dot): {ceiling:.1f} GFLOP/s")
    results = [bench_workload(w, rounds, args.quick) for w in names]
    ratio = None if args.no_sweep else bench_sweep(args.quick)
    ceiling_end = matmul_ceiling(reps=3 if args.quick else 10)
    print(f"\nXLA float32 matmul ceiling again at the end: {ceiling_end:.1f} GFLOP/s")

    print("\n## targets (ratios within this run)")
    rows = []
    for r in results:
        m, scan = r["med"], r["med"]["jaxdl scan"]
        if r["name"] in ("w1", "w3"):
            rows.append([r["name"], "jaxdl scan ≤ 0.40× torch eager", f"{scan / m['torch eager']:.2f}×",
                         scan / m["torch eager"] <= 0.40])
            rows.append([r["name"], "jaxdl scan ≤ 1.05× plain JAX scan", f"{scan / m['plain JAX lax.scan']:.2f}×",
                         scan / m["plain JAX lax.scan"] <= 1.05])
        if r["name"] == "w2":
            frac = r["gflop"] / scan * 1e3 / r["ceiling"]
            rows.append(["w2", "jaxdl scan ≥ 90% of the matmul ceiling timed in its rounds", f"{frac:.0%}",
                         frac >= 0.9])
        if r["name"] == "w1":
            rows.append(["w1", "first call of jaxdl train step < 1.5 s", f"{r['first']['jaxdl loop']:.2f} s",
                         r["first"]["jaxdl loop"] < 1.5])
    if ratio is not None:
        rows.append(["sweep", "8 lrs ≤ 8/3 × one run", f"{ratio:.2f}×", ratio <= 8 / 3])
    print(table(["workload", "target", "measured", "met"], [r[:3] + ["yes" if r[3] else "NO"] for r in rows]))


if __name__ == "__main__":
    sys.exit(main())
