"""Shared benchmark harness: interleaved timing rounds, first-call (compile) time, matmul ceiling, tables.

A *variant* is anything with ``name``, ``steps`` (training steps one ``block()`` call runs) and
``block()`` — which runs those steps and returns only once the work is done (``block_until_ready`` /
``.item()``). ``run_rounds`` calls every variant once per round, in a fresh (seeded) random order each
round, so that machine drift (other processes, thermal state) and neighbour effects (a thread pool still
spinning after the previous variant) hit all variants alike; the figure kept is the median over rounds.
Import it from a sibling script with ``from _harness import ...`` (benchmarks/ is on sys.path when a script
there runs).
"""
from __future__ import annotations

import contextlib
import platform
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np


@dataclass
class Variant:
    """One contender: ``block()`` runs ``steps`` training steps to completion."""

    name: str
    steps: int
    block: Callable[[], object]
    first_call_s: float | None = None  # wall time of the very first block() (trace + compile + run)
    times_ms: list = field(default_factory=list)  # ms per step, one entry per round

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms)


def first_call(variant: Variant) -> float:
    """Time the variant's first ``block()`` (it includes tracing and compilation) and store it."""
    t0 = time.perf_counter()
    variant.block()
    variant.first_call_s = time.perf_counter() - t0
    return variant.first_call_s


def run_rounds(variants: list[Variant], rounds: int, warmup: int = 1, seed: int = 0) -> None:
    """``warmup`` untimed blocks each, then ``rounds`` rounds of one timed block per variant, shuffled."""
    for v in variants:
        for _ in range(warmup):
            v.block()
    order = np.random.default_rng(seed)
    for _ in range(rounds):
        for i in order.permutation(len(variants)):
            v = variants[i]
            t0 = time.perf_counter()
            v.block()
            v.times_ms.append((time.perf_counter() - t0) * 1e3 / v.steps)


CEILING = "XLA 2048³ dot"


def matmul_variant(steps: int, n: int = 2048, dtype=jnp.float32) -> Variant:
    """The ceiling as a variant, to time inside a workload's rounds: ``steps`` jitted ``n×n @ n×n`` per block.

    Measured interleaved with the training variants, it sees the same drift (this shared machine's 2048³
    rate moved by 30% between the start and end of one run). ``dot_gflops`` turns its times into GFLOP/s.
    """
    a = jax.random.normal(jax.random.key(0), (n, n), dtype)
    b = jax.random.normal(jax.random.key(1), (n, n), dtype)
    dot = jax.jit(jnp.dot)

    def block():
        for _ in range(steps):
            c = dot(a, b)
        c.block_until_ready()

    var = Variant(CEILING, steps, block)
    first_call(var)
    return var


def dot_gflops(var: Variant, n: int = 2048) -> float:
    """GFLOP/s of a ``matmul_variant``: 2·n³ flops per dot over its median time per dot."""
    return 2 * n**3 / var.median_ms / 1e6


def matmul_ceiling(n: int = 2048, reps: int = 10, dtype=jnp.float32) -> float:
    """XLA's dense float32 matmul rate in GFLOP/s: median of ``reps`` jitted ``n×n @ n×n`` (2·n³ flops)."""
    var = matmul_variant(1, n, dtype)
    run_rounds([var], reps, warmup=0)
    return dot_gflops(var, n)


def jax_batches(xs, ys):
    """Numpy batches (S, B, ...) as a list of S (x, y) device arrays: what a jit-loop variant steps through."""
    return [(jnp.asarray(x), jnp.asarray(y)) for x, y in zip(xs, ys)]


def jax_stacked(xs, ys):
    """Numpy batches (S, B, ...) as two stacked device arrays: what a ``lax.scan`` variant scans over."""
    return jnp.asarray(xs), jnp.asarray(ys)


class JaxdlVariant:
    """jaxdl's own training step on ``model`` from a torch ``state_dict`` with ``optim.adam(lr)``.

    Both modes run ``jaxdl.train.make_train_step(model, tx, loss_fn)`` unchanged: loop mode jitted with the
    state donated (what ``fit(mode="loop")`` runs per batch), scan mode inside one jitted ``lax.scan`` over
    the block (what ``fit(mode="scan")`` scans each epoch).
    """

    def __init__(self, model, loss_fn, sd, lr, scan=False, accuracy=True, precision="fp32"):
        from jaxdl import amp, optim  # noqa: PLC0415
        from jaxdl.train import TrainState, make_train_step  # noqa: PLC0415

        self.model, self.tx = model, optim.adam(lr=lr)
        self.sd, self.scan, self.TrainState = sd, scan, TrainState
        step = make_train_step(model, self.tx, loss_fn, accuracy=accuracy, precision=precision)
        options = amp.compiler_options(precision)  # as fit compiles it
        if scan:
            self.fn = jax.jit(lambda s, xs, ys: jax.lax.scan(lambda s, b: step(s, *b), s, (xs, ys)),
                              donate_argnums=0, compiler_options=options)
        else:
            self.fn = jax.jit(step, donate_argnums=0, compiler_options=options)
        self.prepare = jax_stacked if scan else jax_batches
        self.reset()

    def reset(self):
        from jaxdl.interop import load_state_dict  # noqa: PLC0415

        params, model_state = load_state_dict(self.model, self.sd)
        state = self.TrainState.create(self.model, self.tx, jax.random.key(0))
        self.state = state.replace(params=params, model_state=model_state, opt_state=self.tx.init(params))

    def run(self, data):
        if self.scan:
            self.state, metrics = self.fn(self.state, *data)
            return float(metrics["loss"][-1])
        for x, y in data:
            self.state, metrics = self.fn(self.state, x, y)
        return float(metrics["loss"])


class PlainJaxVariant:
    """A hand-written JAX training step ``step(carry, (x, y)) -> (carry, loss)``, jitted per batch (loop) or
    run as one ``lax.scan`` over the block (``scan=True``), carry donated. Subclasses set ``self.carry`` in
    ``reset()`` and call ``super().__init__(step, scan)`` once ``reset`` has what it needs.
    """

    def __init__(self, step, scan=False):
        self.scan = scan
        if scan:
            self.fn = jax.jit(lambda c, xs, ys: jax.lax.scan(step, c, (xs, ys)), donate_argnums=0)
        else:
            self.fn = jax.jit(lambda c, x, y: step(c, (x, y)), donate_argnums=0)
        self.prepare = jax_stacked if scan else jax_batches
        self.reset()

    def reset(self):
        raise NotImplementedError

    def run(self, data):
        if self.scan:
            self.carry, losses = self.fn(self.carry, *data)
            return float(losses[-1])
        for x, y in data:
            self.carry, loss = self.fn(self.carry, x, y)
        return float(loss)


class TorchVariant:
    """torch eager (or ``compile=True``: torch.compile) training of ``model`` with Adam(lr) from the numpy
    ``state_dict`` ``sd``; ``loss(output, y)`` is the objective. ``prepare`` turns numpy batches into tensors
    on ``device``. ``autocast=True``: forward and loss under ``torch.autocast(device, torch.bfloat16)``.
    """

    def __init__(self, model, loss, sd, lr, compile=False, device="cpu", autocast=False):
        import torch  # noqa: PLC0415

        self.torch, self.model, self.loss, self.sd, self.lr = torch, model.to(device), loss, sd, lr
        self.device, self.autocast = device, autocast
        self.fwd = torch.compile(self.model) if compile else self.model
        self.reset()

    def reset(self):
        self.model.load_state_dict({k: self.torch.from_numpy(v.copy()) for k, v in self.sd.items()})
        self.model.train()
        self.opt = self.torch.optim.Adam(self.model.parameters(), lr=self.lr)

    def prepare(self, xs, ys):
        return [(self._tensor(x), self._tensor(y)) for x, y in zip(xs, ys)]

    def _tensor(self, a):
        """numpy → torch; integer arrays (token ids, class targets) become int64, as torch's losses want."""
        t = self.torch.from_numpy(a)
        return (t.long() if a.dtype.kind in "iu" else t).to(self.device)

    def run(self, data):
        for x, y in data:
            with (self.torch.autocast(self.device, dtype=self.torch.bfloat16) if self.autocast
                  else contextlib.nullcontext()):
                loss = self.loss(self.fwd(x), y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
        return loss.item()


def first_calls(objs: dict, xs, ys, steps: int, indent: str = "") -> list:
    """One Variant per object (its block: ``steps`` steps, set later), each timed on a first call on one batch."""
    variants = []
    for name, obj in objs.items():
        var = Variant(name, steps, None)
        var.block = lambda obj=obj, d=obj.prepare(xs[:1], ys[:1]): obj.run(d)
        first_call(var)
        variants.append(var)
    print(f"{indent}first call (s): " + ", ".join(f"{v.name} {v.first_call_s:.2f}" for v in variants))
    return variants


def check_same_loss(variants: dict, xs, ys, rtol: float = 1e-4, indent: str = "") -> dict:
    """Every variant's loss after training on the batches ``xs, ys`` from the same weights must equal torch
    eager's (within ``rtol``), so that no variant is timed doing less work; the run stops otherwise."""
    losses = {}
    for name, v in variants.items():
        v.reset()
        losses[name] = v.run(v.prepare(xs, ys))
        v.reset()
    ref = losses["torch eager"]
    bad = {n: loss for n, loss in losses.items() if not abs(loss - ref) <= rtol * abs(ref)}
    print(f"{indent}loss after {len(xs)} steps: " + ", ".join(f"{n} {loss:.6f}" for n, loss in losses.items()))
    if bad:
        raise SystemExit(f"loss check failed (rtol {rtol}) against torch eager {ref:.6f}: {bad}")
    return losses


def time_variants(objs: dict, xs, ys, check: tuple, rounds: int) -> tuple[list, dict]:
    """The measurement every workload script runs: first calls, the equal-loss check on the batches ``check``,
    then interleaved rounds of ``len(xs)`` steps each. Returns (the timed Variants, their median ms by name)."""
    variants = first_calls(objs, xs, ys, len(xs))
    check_same_loss(objs, *check)
    for var in variants:
        v = objs[var.name]
        v.reset()
        var.block = lambda v=v, d=v.prepare(xs, ys): v.run(d)
    run_rounds(variants, rounds)
    return variants, {v.name: v.median_ms for v in variants}


def machine() -> str:
    """One line naming the host, for the table's caption."""
    import os  # noqa: PLC0415

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores visible, Python {platform.python_version()}, jax {jax.__version__}, "
            f"backend {jax.default_backend()}")


def fmt(value, spec: str = ".2f") -> str:
    return "—" if value is None or (isinstance(value, float) and np.isnan(value)) else format(value, spec)


def table(header: list[str], rows: list[list]) -> str:
    """A GitHub-markdown table (prints well in a terminal too)."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line(r) for r in cells[1:]])
