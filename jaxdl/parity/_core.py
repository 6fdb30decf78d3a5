"""The parity machinery: a registry of cases, each comparing jaxdl against torch on one device.

A case is a function ``fn(env) -> Comparison | list[Comparison]``. It builds the same inputs for both
frameworks (from ``env.rng``), runs jaxdl under ``jax.jit`` and torch on ``env.device``, and returns
the two outputs (and, where the case is differentiable, the two gradients) as trees of arrays.
``run_case`` turns that into one table row. torch is never imported at module level: ``env.torch`` is.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import zlib
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

DTYPES = ("float32", "float64")  # every case runs in these
# float32 inputs and weights, both sides under autocast(bfloat16): torch.autocast(device) and jaxdl.amp.autocast
# with the same device's op lists. Only the cases _cases_amp.py lists run in it.
MIXED = "bf16-mixed"
ALL_DTYPES = DTYPES + (MIXED,)

# Default tolerances, per dtype: an element passes when |jaxdl - torch| <= atol + rtol * |torch|.
TOLERANCES = {
    "float32": {"rtol": 1e-5, "atol": 1e-5},
    "float64": {"rtol": 1e-10, "atol": 1e-12},
    # one op's result differs by at most an ulp or two of bfloat16 (2⁻⁸ relative), where the two sides' float32
    # sums round to neighbouring bfloat16 values; cases that chain ops loosen it (see _cases_amp.py)
    MIXED: {"rtol": 1e-2, "atol": 1e-2},
}


@dataclasses.dataclass(frozen=True)
class Comparison:
    """jaxdl's and torch's outputs (and gradients) for the same inputs, as trees of arrays."""

    values: tuple[Any, Any]
    grads: tuple[Any, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Case:
    """One parity case: ``fn(env)`` returns Comparison(s); tolerances may be loosened per dtype."""

    name: str
    group: str
    fn: Callable[["Env"], "Comparison | list[Comparison]"]
    tolerances: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    dtypes: tuple[str, ...] = DTYPES

    def tol(self, dtype: str) -> dict:
        return {**TOLERANCES[dtype], **self.tolerances.get(dtype, {})}


@dataclasses.dataclass(frozen=True)
class Result:
    """One row of the parity table."""

    case: str
    group: str
    dtype: str
    value_abs: float
    value_rel: float
    grad_abs: float | None
    grad_rel: float | None
    passed: bool
    error: str | None = None


CASES: list[Case] = []


def register(name: str, group: str, *, tolerances: dict | None = None, dtypes=DTYPES):
    """Decorator that adds ``fn(env)`` to CASES under ``name``."""

    def decorate(fn):
        if any(c.name == name for c in CASES):
            raise ValueError(f"parity case {name!r} is registered twice")
        CASES.append(Case(name, group, fn, tolerances or {}, tuple(dtypes)))
        return fn

    return decorate


class Env:
    """What a case needs: the dtype under test, torch and its device, and a seeded numpy RNG."""

    def __init__(self, dtype: str, torch_module, device: str, seed: int):
        self.dtype = dtype
        self.mixed = dtype == MIXED
        self.np_dtype = np.dtype("float32" if self.mixed else dtype)  # mixed: float32 inputs and weights
        self.torch = torch_module
        self.device = device
        self.torch_dtype = getattr(torch_module, self.np_dtype.name)
        self.precision = "bf16-mixed" if self.mixed else "fp32"  # for make_train_step / fit
        self.rng = np.random.default_rng(seed)

    def jit(self, fn, **kwargs):
        """``jax.jit`` as a bf16-mixed case compiles: with torch's rounding (jaxdl.amp.EXACT_ROUNDING)."""
        from jaxdl import amp  # noqa: PLC0415

        return jax.jit(fn, compiler_options=amp.compiler_options(self.precision), **kwargs)

    def autocast(self):
        """torch's forward-pass context in bf16-mixed, else nothing: ``torch.autocast(device, bfloat16,
        cache_enabled=False)``, jaxdl.amp's numerics (see its module doc on torch's weight-cast cache)."""
        if not self.mixed:
            return contextlib.nullcontext()
        return self.torch.autocast(device_type=self.device, dtype=self.torch.bfloat16, cache_enabled=False)

    # --- inputs ---------------------------------------------------------------------------
    def randn(self, *shape, scale=1.0) -> np.ndarray:
        return (scale * self.rng.standard_normal(shape)).astype(self.np_dtype)

    def uniform(self, *shape, low=0.0, high=1.0) -> np.ndarray:
        return self.rng.uniform(low, high, shape).astype(self.np_dtype)

    def randint(self, low, high, shape) -> np.ndarray:
        return self.rng.integers(low, high, shape).astype(np.int64)

    def to_torch(self, x, requires_grad=False):
        x = np.asarray(x)
        t = self.torch.as_tensor(x.copy(), device=self.device)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def to_jax(self, x):
        x = np.asarray(x)
        if x.dtype == np.int64:
            return jnp.asarray(x, dtype=jnp.int32 if not jax.config.jax_enable_x64 else jnp.int64)
        return jnp.asarray(x)


def to_numpy(tree):
    """Any tree of jax arrays / torch tensors / numbers -> tree of float64 numpy arrays."""

    def leaf(x):
        if hasattr(x, "detach"):
            x = x.detach().cpu()
            x = (x.float() if str(x.dtype) == "torch.bfloat16" else x).numpy()  # numpy has no bfloat16
        return np.asarray(x, dtype=np.float64)

    return jax.tree_util.tree_map(leaf, tree, is_leaf=lambda x: hasattr(x, "detach"))


def compare_function(
    env: Env,
    jax_fn: Callable,
    torch_fn: Callable,
    args: Sequence[np.ndarray],
    diff_argnums: Sequence[int] = (0,),
    grad_output: Callable = lambda out: out,
) -> Comparison:
    """Values and vector-Jacobian products of ``jax_fn`` (jitted) and ``torch_fn`` on the same ``args``.

    The gradient compared is d/d args[diff_argnums] of sum(grad_output(out) * ct), with one random
    cotangent ``ct`` per float leaf, shared by both frameworks. ``diff_argnums=()`` compares values only.
    """
    diff_argnums = tuple(diff_argnums)
    jargs = [env.to_jax(a) for a in args]
    jout = env.jit(jax_fn)(*jargs)
    cts = jax.tree_util.tree_map(lambda o: env.randn(*np.shape(o)), grad_output(jout))

    targs = [env.to_torch(a, requires_grad=i in diff_argnums) for i, a in enumerate(args)]
    with env.autocast():
        tout = torch_fn(*targs)
    if not diff_argnums:
        return Comparison(values=(to_numpy(jout), to_numpy(tout)))

    def jax_objective(*a):
        out = grad_output(jax_fn(*a))
        leaves = jax.tree_util.tree_leaves(out)
        return sum(jnp.sum(o * c) for o, c in zip(leaves, jax.tree_util.tree_leaves(cts)))

    jgrads = env.jit(jax.grad(jax_objective, argnums=diff_argnums))(*jargs)
    tleaves = jax.tree_util.tree_leaves(grad_output(tout), is_leaf=lambda x: hasattr(x, "detach"))
    objective = sum((o * env.to_torch(c)).sum() for o, c in zip(tleaves, jax.tree_util.tree_leaves(cts)))
    tgrads = env.torch.autograd.grad(objective, [targs[i] for i in diff_argnums], allow_unused=True)
    tgrads = tuple(g if g is not None else env.torch.zeros_like(targs[i]) for g, i in zip(tgrads, diff_argnums))
    return Comparison(values=(to_numpy(jout), to_numpy(tout)), grads=(to_numpy(jgrads), to_numpy(tgrads)))


def _errors(pair, tol) -> tuple[float, float, bool]:
    mine, ref = to_numpy(pair[0]), to_numpy(pair[1])  # cases may hand-build Comparisons from raw outputs
    mine_leaves, ref_leaves = jax.tree_util.tree_leaves(mine), jax.tree_util.tree_leaves(ref)
    if jax.tree_util.tree_structure(mine) != jax.tree_util.tree_structure(ref):
        raise ValueError(f"jaxdl and torch returned different structures: "
                         f"{jax.tree_util.tree_structure(mine)} vs {jax.tree_util.tree_structure(ref)}")
    abs_err, scale, ok = 0.0, 0.0, True
    for a, b in zip(mine_leaves, ref_leaves):
        if a.shape != b.shape:
            raise ValueError(f"shape mismatch: jaxdl {a.shape} vs torch {b.shape}")
        same_nonfinite = (~np.isfinite(a) | ~np.isfinite(b)) & ((a == b) | (np.isnan(a) & np.isnan(b)))
        with np.errstate(invalid="ignore"):  # inf - inf where both sides agree is masked just below
            diff = np.where(same_nonfinite, 0.0, np.abs(a - b))
        diff = np.where(np.isnan(diff), np.inf, diff)
        if diff.size:
            abs_err = max(abs_err, float(diff.max()))
            scale = max(scale, float(np.abs(np.where(np.isfinite(b), b, 0.0)).max()))
            ok &= bool(np.all(diff <= tol["atol"] + tol["rtol"] * np.abs(np.where(np.isfinite(b), b, 0.0))))
    rel = abs_err / scale if scale > 0 else abs_err
    return abs_err, rel, ok


@contextlib.contextmanager
def parity_precision(dtype: str, device: str = "cpu"):
    """x64 for float64 runs; full-precision matmuls on both sides (GPU TF32 off); for bf16-mixed, jaxdl's
    autocast with the op lists of torch's ``device`` around the whole case (jax code is traced inside it)."""
    from jaxdl import amp  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        stack.enter_context(jax.enable_x64(dtype == "float64"))
        stack.enter_context(jax.default_matmul_precision("highest"))
        if dtype == MIXED:
            stack.enter_context(amp.autocast(device, jnp.bfloat16))
        yield


def torch_device(torch_module) -> str:
    """The torch device that matches JAX's default backend."""
    if jax.default_backend() == "gpu" and torch_module.cuda.is_available():
        return "cuda"
    return "cpu"


def run_case(case: Case, dtype: str, torch_module=None, device: str | None = None) -> Result:
    """Run one case in one dtype and return its table row (errors become a failed row)."""
    if torch_module is None:
        import torch as torch_module  # noqa: PLC0415  (torch only here, never at import time)
    torch_module.backends.cuda.matmul.allow_tf32 = False
    torch_module.backends.cudnn.allow_tf32 = False
    device = device or torch_device(torch_module)
    tol = case.tol(dtype)
    try:
        with parity_precision(dtype, device):
            env = Env(dtype, torch_module, device, seed=zlib.crc32(f"{case.name}/{dtype}".encode()))
            comparisons = case.fn(env)
            if isinstance(comparisons, Comparison):
                comparisons = [comparisons]
            v_abs = v_rel = 0.0
            g_abs = g_rel = None
            ok = True
            for comp in comparisons:
                a, r, good = _errors(comp.values, tol)
                v_abs, v_rel, ok = max(v_abs, a), max(v_rel, r), ok and good
                if comp.grads is not None:
                    a, r, good = _errors(comp.grads, tol)
                    g_abs, g_rel, ok = max(g_abs or 0.0, a), max(g_rel or 0.0, r), ok and good
        return Result(case.name, case.group, dtype, v_abs, v_rel, g_abs, g_rel, ok)
    except Exception as exc:  # a broken case is a failed row, with the reason
        return Result(case.name, case.group, dtype, math.nan, math.nan, None, None, False,
                      error=f"{type(exc).__name__}: {exc}")


def format_table(results: Sequence[Result]) -> str:
    """The parity table as printed by ``jaxdl parity``."""
    def num(x):
        return "-" if x is None else f"{x:.1e}"

    name_w = max([len("case")] + [len(r.case) for r in results])
    head = (f"{'case':<{name_w}}  {'dtype':<10}  {'val abs':>8}  {'val rel':>8}  {'grad abs':>8}  {'grad rel':>8}  "
            "result")
    lines = [head, "-" * len(head)]
    for r in results:
        status = "pass" if r.passed else ("FAIL" + (f" ({r.error})" if r.error else ""))
        lines.append(f"{r.case:<{name_w}}  {r.dtype:<10}  {num(r.value_abs):>8}  {num(r.value_rel):>8}  "
                     f"{num(r.grad_abs):>8}  {num(r.grad_rel):>8}  {status}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)
