"""A converted torch model's training step against the same model written in jaxdl.nn (issue 24, item 4).

The MLP workloads take bench_mlp's MLP (nn.Sequential's layers) behind a custom ``forward`` (a loop over its
children), so it converts by export: ``torch.export`` in training and eval mode, replayed with jaxdl's ops
(``jaxdl.interop.from_export``); bench_mlp's ``bench_workload`` times them with this script's variants. The GPT
workload takes the book's ``GPTModel`` (tests/gpt_sources/rasbt_gpt.py: its own LayerNorm, tanh-form GELU and
masked attention) converted with ``interop.from_torch`` (through export) against ``jaxdl.nn.GPT`` of the same
config with the same weights (``interop.load_gpt(source="rasbt")``). Both jaxdl models train with the same
``make_train_step``, Adam, cross-entropy, from the same torch state_dict, in loop and scan mode
(benchmarks/_harness.py: first call, the equal-loss check against torch eager, interleaved rounds, median
ms/step). Target: converted ≤ 1.05× jaxdl.nn. Each workload also prints the instruction count of both compiled
loop steps (XLA's optimised HLO), a load-independent comparison.

Workloads: w1 MLP 64-256-256-10, batch 128; w3 the lecture MLP with BatchNorm1d and Dropout(0.2) (the
equal-loss check runs it at p = 0: dropout masks differ between frameworks); w4 bench_gpt's GPT config (vocab 65,
context 64, emb_dim 128, 4 layers, 4 heads, no qkv bias, dropout 0), batch 32.

Run: python benchmarks/bench_interop.py [--rounds N] [--quick] [--only w1|w3|w4]
"""
from __future__ import annotations

import argparse
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np

from _harness import JaxdlVariant, TorchVariant, fmt, machine, table, time_variants
from _mlp_variants import LR, jaxdl_mlp, torch_model, torch_variant
from bench_gpt import BATCH, CFG, step_gflop, tokens
from bench_mlp import WORKLOADS as BENCH_MLP_WORKLOADS
from bench_mlp import bench_workload, equal_work_data, mlp

ROOT = pathlib.Path(__file__).resolve().parents[1]  # tests/gpt_sources holds the book's GPTModel
WORKLOADS = {**{name: BENCH_MLP_WORKLOADS[name][0] for name in ("w1", "w3")},
             "w4": f"the book's GPTModel converted, GPT {CFG}, batch {BATCH}"}
RATIO_TO = ("× jaxdl.nn (target ≤ 1.05)", {"converted loop": "jaxdl.nn loop", "converted scan": "jaxdl.nn scan"})


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


def bench_mlp_workload(name, rounds, quick):
    """bench_mlp's workload with this script's variants, then the HLO size of both loop steps."""
    r = bench_workload(name, rounds, quick, variants=VARIANTS, ratio_to=RATIO_TO)
    _, sizes, batch, bn, p, _ = BENCH_MLP_WORKLOADS[name]
    xs, ys = equal_work_data(mlp(sizes, bn, p), batch, steps=1)
    print_hlo_sizes(r["objs"], xs, ys)
    return r["med"]


def book_gpt(seed=0):
    """The book's GPTModel with bench_gpt's config, torch's default init (seed ``seed``), in train mode."""
    import torch  # noqa: PLC0415

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.gpt_sources.rasbt_gpt import GPTModel  # noqa: PLC0415

    torch.manual_seed(seed)
    return GPTModel(CFG)


def gpt_variants():
    """w4's variants, all from one book GPTModel's weights: torch eager on it, jaxdl.nn.GPT of the same config
    (``load_gpt``: the book's names mapped onto nn.GPT's) and the model converted through torch.export, whose
    training-mode replay is traced once here (``jax.eval_shape``) so that an op it cannot replay shows now."""
    import torch  # noqa: PLC0415

    from jaxdl import nn  # noqa: PLC0415
    from jaxdl.interop import from_torch, load_gpt, state_dict  # noqa: PLC0415

    module = book_gpt()
    book_sd = {k: np.array(v.detach().numpy(), copy=True) for k, v in module.state_dict().items()}
    gpt, params, state = load_gpt(book_sd, source="rasbt", n_heads=CFG["n_heads"])
    gpt_sd = state_dict(params, state)
    example = torch.zeros((BATCH, CFG["context_length"]), dtype=torch.long)
    exported, ex_params, ex_state = from_torch(module, example)
    jax.eval_shape(lambda: exported.apply(ex_params, ex_state, jnp.asarray(example.numpy()), training=True))
    loss = lambda logits, y: torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())  # noqa: E731

    def jaxdl(model, sd, scan):
        return lambda: JaxdlVariant(model, nn.lm_loss, sd, LR, scan=scan, accuracy=False)

    return {"torch eager": lambda: TorchVariant(book_gpt(), loss, book_sd, LR),
            "jaxdl.nn loop": jaxdl(gpt, gpt_sd, False), "converted loop": jaxdl(exported, book_sd, False),
            "jaxdl.nn scan": jaxdl(gpt, gpt_sd, True), "converted scan": jaxdl(exported, book_sd, True)}


def bench_gpt_workload(rounds, quick):
    """w4: the five variants timed as bench_gpt times its own (time_variants), then the HLO size of both loop
    steps. Returns None, with the reason printed, where the book's GPTModel does not convert or replay yet."""
    steps = 2 if quick else 5
    print(f"\n## w4: {WORKLOADS['w4']}, {step_gflop():.2f} GFLOP per step ({steps} steps per block, {rounds} rounds)")
    try:
        makers = gpt_variants()
        objs = {n: make() for n, make in makers.items()}
    except Exception as e:  # noqa: BLE001  (a failure to convert or replay is reported, not raised)
        print(f"  w4 skipped: the book's GPTModel does not convert and replay yet: {type(e).__name__}: "
              + " ".join([str(e), *(n for n in getattr(e, "__notes__", ()) if "JAX_TRACEBACK" not in n)]))
        return None
    variants, med = time_variants(objs, *tokens(steps, seed=0), tokens(10, seed=1), rounds)
    rows = [[v.name, fmt(v.median_ms, ".1f"), f"{min(v.times_ms):.1f}–{max(v.times_ms):.1f}",
             fmt(v.first_call_s), fmt(v.median_ms / med["torch eager"]),
             fmt(v.median_ms / med[RATIO_TO[1][v.name]]) if v.name in RATIO_TO[1] else ""] for v in variants]
    print()
    print(table(["variant", "median ms/step", "range over rounds", "first call s", "× torch eager", RATIO_TO[0]],
                rows))
    print_hlo_sizes(objs, *tokens(1, seed=2))
    return med


def print_hlo_sizes(objs, xs, ys):
    counts = {n: hlo_instructions(objs[n], xs, ys) for n in ("jaxdl.nn loop", "converted loop")}
    print("\n  the compiled loop step (load-independent): " + ", ".join(f"{n} {c} HLO instructions"
                                                                       for n, c in counts.items()))


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
    ratios = {}
    for name in [args.only] if args.only else WORKLOADS:
        med = bench_gpt_workload(rounds, args.quick) if name == "w4" else bench_mlp_workload(name, rounds, args.quick)
        if med is not None:
            ratios[name] = {mode: med[f"converted {mode}"] / med[f"jaxdl.nn {mode}"] for mode in ("loop", "scan")}
    print("\nconverted / jaxdl.nn: " + "; ".join(f"{n} loop {r['loop']:.2f}×, scan {r['scan']:.2f}×"
                                                 for n, r in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
