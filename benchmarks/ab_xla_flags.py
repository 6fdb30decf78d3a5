"""A/B of XLA compiler options on jaxdl's scanned training step, in one process, interleaved rounds.

Run: python benchmarks/ab_xla_flags.py w4 '{"xla_cpu_enable_fast_min_max": true}' ['{...}' ...] [--rounds N]

The step (w1's MLP or w4's GPT, as bench_mlp / bench_gpt build them, jaxdl scan mode) is lowered once and
compiled once per option set, plus once with the defaults; each compiled program then runs the same block of
steps in every round, in a fresh random order. Prints each program's loss after one block (options that change
the numbers show here) and its median ms/step. Option names are XLA's debug options, as in ``XLA_FLAGS``
without the leading dashes; a name this jaxlib lacks fails at compile time with "No such compile option".
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import jax
import numpy as np


def scanned_step(workload):
    """(variant, prepared data, steps per block) for jaxdl's scan mode on ``workload`` ("w1" or "w4")."""
    if workload == "w4":
        import bench_gpt  # noqa: PLC0415

        v = bench_gpt.jaxdl_gpt(bench_gpt.state_dict_numpy(), scan=True)
        xs, ys = bench_gpt.tokens(5, seed=0)
    else:
        import _mlp_variants  # noqa: PLC0415

        layers = (("linear", 64, 256), ("relu",), ("linear", 256, 256), ("relu",), ("linear", 256, 10))
        v = _mlp_variants.jaxdl_mlp(layers, _mlp_variants.state_dict_numpy(layers), scan=True)
        rng = np.random.default_rng(0)
        xs = rng.standard_normal((100, 128, 64), dtype=np.float32)
        ys = rng.integers(0, 10, (100, 128)).astype(np.int32)
    return v, v.prepare(xs, ys), len(xs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=["w1", "w4"])
    parser.add_argument("options", nargs="+", help="JSON objects of compiler options, one per contender")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        option_sets = [{}] + [json.loads(o) for o in args.options]
    except json.JSONDecodeError as err:
        parser.error(f"options must be JSON objects such as '{{\"xla_cpu_enable_fast_math\": true}}': {err}")
    if not all(isinstance(o, dict) for o in option_sets):
        parser.error(f"options must be JSON objects; got {args.options}")

    v, data, steps = scanned_step(args.workload)
    lowered = v.fn.lower(v.state, *data)
    fresh = lambda: jax.tree.map(lambda a: a.copy(), v.state)  # noqa: E731  (the step donates its state)
    programs, states, times = [], [], []
    for opts in option_sets:
        t0 = time.perf_counter()
        program = lowered.compile(compiler_options=opts) if opts else lowered.compile()
        state, metrics = program(fresh(), *data)
        print(f"{opts or 'defaults'}: compile {time.perf_counter() - t0:.2f} s, "
              f"loss after {steps} steps {float(metrics['loss'][-1]):.6f}", flush=True)
        programs.append(program), states.append(state), times.append([])

    order = np.random.default_rng(0)
    for _ in range(args.rounds):
        for i in order.permutation(len(programs)):
            t0 = time.perf_counter()
            states[i], metrics = programs[i](states[i], *data)
            jax.block_until_ready(metrics)
            times[i].append((time.perf_counter() - t0) * 1e3 / steps)
    for opts, t in zip(option_sets, times):
        print(f"{statistics.median(t):9.3f} ms/step ({min(t):.3f}–{max(t):.3f})  {opts or 'defaults'}")


if __name__ == "__main__":
    sys.exit(main())
