"""A converted torch model's training step against the same model written in jaxdl.nn (issue 24, item 4).

The torch model is the MLP of bench_mlp (nn.Sequential's layers) behind a custom ``forward`` (a loop over its
children), so it converts by export: ``torch.export`` in training and eval mode, replayed with jaxdl's ops
(``jaxdl.interop.from_export``). Both jaxdl models train with the same ``make_train_step``, Adam,
cross-entropy, from the same torch state_dict, in loop and scan mode (benchmarks/_harness.py: first call, the
equal-loss check against torch eager, interleaved rounds, median ms/step). Target: converted ≤ 1.05× jaxdl.nn.

Workloads: w1 MLP 64-256-256-10, batch 128; w3 the lecture MLP with BatchNorm1d and Dropout(0.2) (the
equal-loss check runs it at p = 0: dropout masks differ between frameworks).

Run: python benchmarks/bench_interop.py [--rounds N] [--quick] [--only w1|w3]
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from _harness import JaxdlVariant, check_same_loss, first_calls, fmt, machine, run_rounds, table
from _mlp_variants import LR, jaxdl_mlp, state_dict_numpy, torch_model, torch_variant
from bench_mlp import WORKLOADS as BENCH_MLP_WORKLOADS
from bench_mlp import equal_work_data, mlp

WORKLOADS = {name: BENCH_MLP_WORKLOADS[name] for name in ("w1", "w3")}  # bench_mlp's


def converted(layers, sd, scan=False):
    """The torch MLP behind a custom forward, converted by export; trained by jaxdl's own step."""
    import torch  # noqa: PLC0415

    from jaxdl import functional as F  # noqa: PLC0415
    from jaxdl.interop import from_export  # noqa: PLC0415

    class LoopMLP(torch.nn.Sequential):  # a forward of its own: not a structural conversion
        def forward(self, x):
            for layer in self:
                x = layer(x)
            return x

    module = LoopMLP(*torch_model(layers))
    model, _, _ = from_export(module, (torch.zeros(8, layers[0][1]),))
    return JaxdlVariant(model, F.cross_entropy, sd, LR, scan=scan)


VARIANTS = {"torch eager": torch_variant,
            "jaxdl.nn loop": jaxdl_mlp, "converted loop": converted,
            "jaxdl.nn scan": lambda layers, sd: jaxdl_mlp(layers, sd, scan=True),
            "converted scan": lambda layers, sd: converted(layers, sd, scan=True)}


def bench(name, rounds, quick):
    desc, sizes, batch, bn, p, steps = WORKLOADS[name]
    steps = max(2, steps // 4) if quick else steps
    layers = mlp(sizes, bn, p)
    sd = state_dict_numpy(layers)
    print(f"\n## {name}: {desc} ({steps} steps per block, {rounds} rounds)")
    objs = {n: make(layers, sd) for n, make in VARIANTS.items()}
    data = np.random.default_rng(0)
    xs = data.standard_normal((steps, batch, sizes[0]), dtype=np.float32)
    ys = data.integers(0, sizes[-1], (steps, batch)).astype(np.int32)
    variants = first_calls(objs, xs, ys, steps, indent="  ")
    # dropout masks differ between frameworks: the equal-work check runs the same net at p = 0
    check_same_loss({n: make(mlp(sizes, bn, 0.0 if p else None), sd) for n, make in VARIANTS.items()},
                    *equal_work_data(layers, batch), indent="  ")
    for var in variants:
        v = objs[var.name]
        v.reset()
        var.block = lambda v=v, d=v.prepare(xs, ys): v.run(d)
    run_rounds(variants, rounds)
    med = {v.name: v.median_ms for v in variants}
    rows = [[v.name, fmt(v.median_ms, ".3f"), f"{min(v.times_ms):.3f}–{max(v.times_ms):.3f}", fmt(v.first_call_s),
             fmt(v.median_ms / med["torch eager"]),
             fmt(v.median_ms / med[f"jaxdl.nn {v.name.split()[-1]}"]) if v.name.startswith("converted") else ""]
            for v in variants]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "first call s", "× torch eager",
                 "× jaxdl.nn (target ≤ 1.05)"], rows))
    counts = {n: hlo_instructions(objs[n], xs[:1], ys[:1]) for n in ("jaxdl.nn loop", "converted loop")}
    print("\n  the compiled loop step (load-independent): " + ", ".join(f"{n} {c} HLO instructions"
                                                                       for n, c in counts.items()))
    return {mode: med[f"converted {mode}"] / med[f"jaxdl.nn {mode}"] for mode in ("loop", "scan")}


def hlo_instructions(variant, xs, ys) -> int:
    """The instructions of a loop variant's compiled step (XLA's optimised HLO): equal counts mean the replay
    of the exported graph compiled to the same program as the jaxdl.nn model."""
    variant.reset()
    (x, y), = variant.prepare(xs, ys)
    text = variant.fn.lower(variant.state, x, y).compile().as_text()
    return sum(1 for line in text.splitlines() if " = " in line and not line.lstrip().startswith(("//", "HloModule")))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="fewer steps per block and rounds (a smoke run)")
    parser.add_argument("--only", choices=sorted(WORKLOADS))
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    print(machine())
    ratios = {name: bench(name, rounds, args.quick) for name in ([args.only] if args.only else WORKLOADS)}
    print("\nconverted / jaxdl.nn: " + "; ".join(f"{n} loop {r['loop']:.2f}×, scan {r['scan']:.2f}×"
                                                 for n, r in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
