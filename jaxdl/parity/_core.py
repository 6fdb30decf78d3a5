"""The parity machinery: a registry of cases, each comparing jaxdl against torch on one device.

A case is a function ``fn(env) -> Comparison | list[Comparison]``. It builds the same inputs for both
frameworks (from ``env.rng``), runs jaxdl under ``jax.jit`` and torch on ``env.device``, and returns
the two outputs (and, where the case is differentiable, the two gradients) as trees of arrays.
``run_case`` turns that into one table row. torch is never imported at module level: ``env.torch`` is.

How a row is judged (one rule per dtype, the table ``TOLERANCES``):

* float64: element by element against torch in float64, ``|jaxdl - torch| <= atol + rtol·|torch|``.
* float32 and bf16-mixed, by torch's own rounding: the case runs once more as its *reference*, the same
  float32 inputs and weights with both sides computing in float64. Per output (and gradient) leaf, with
  ``r`` torch-float64's result, ``err(jaxdl) = max|jaxdl - r|`` must be at most ``factor × max|torch - r|``
  (torch's own error in the dtype under test) plus a floor of ``ulps`` float32 ulps of ``max|r|``. Both
  sides round on the same machine, so the rule holds on any CPU and on a GPU, where a hand-set tolerance
  tuned on one machine does not. Non-finite elements must be the same on both sides.

A float32 or bf16-mixed row that fails is probed before it is called failed (``PROBES``): one draw of torch's
rounding is a noisy estimate of its size where the result is ill-conditioned (a saturated softmax row, a gradient
formed by cancellation), and XLA:CPU rounds in a different arithmetic from torch's default: its runtime flushes
subnormal results and inputs to zero around every execution (``xla_cpu_ftz`` does not change it). Each probe runs
torch again, on the CPU on one thread with ``torch.set_flush_denormal(True)`` (XLA:CPU's arithmetic); probes after
the first also move every finite nonzero float32 input by one ulp, up or down at random (``_nudged``). Each probe is
judged against its own float64 reference (the moved inputs are float32 numbers, so the reference sees them
exactly), and torch's error is the largest over its first run and the probes; jaxdl's error is still its error on
the case's own inputs, so the probes change only how well torch's rounding is known.

float64 has no reference to absorb a moved input. Its probes keep the inputs (torch runs again on one thread with
subnormals flushed) and split each gradient's random cotangent in two (``_torch_grads``): the gradient is linear in
it, so torch's two gradients added differ from its direct one only by torch's own float64 rounding (no kink, tie or
branch moves: the forward is the same). A gradient element also passes within ``ROUNDING_FACTOR`` times the most
torch's moved across the probes: a gradient formed by cancellation (a nearly saturated softmax row) carries float64
rounding far above 1e-10 of itself, in torch too.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import functools
import math
import zlib
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._rules import FLOAT32_ROUNDING, FLOAT64_TOLERANCE, ROUNDING_FACTOR

DTYPES = ("float32", "float64")  # every case runs in these
# float32 inputs and weights, both sides under autocast(bfloat16): torch.autocast(device) and jaxdl.amp.autocast
# with the same device's op lists. Only the cases registered with mixed=True run in it.
MIXED = "bf16-mixed"
ALL_DTYPES = DTYPES + (MIXED,)

# The one tolerance table. float64: elementwise rtol/atol against torch-float64. float32 and bf16-mixed: the
# rounding rule (module docstring): jaxdl's error against torch-float64 within `factor` times torch's own error
# in that dtype, plus `ulps` float32 ulps of the output's scale.
TOLERANCES = {
    "float64": dict(FLOAT64_TOLERANCE),
    "float32": dict(FLOAT32_ROUNDING),
    MIXED: dict(FLOAT32_ROUNDING),
}
# The unit tests outside this registry that check one float32 op against torch element by element, on small
# well-conditioned inputs with no float64 reference run (tests/helpers.assert_close): ~100 float32 ulps.
ELEMENTWISE_FLOAT32 = {"rtol": 1e-5, "atol": 1e-5}
_EPS32 = float(np.finfo(np.float32).eps)
PROBES = 4  # torch's extra runs for a row that fails on its first (see the module doc)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """jaxdl's and torch's outputs (and gradients) for the same inputs, as trees of arrays."""

    values: tuple[Any, Any]
    grads: tuple[Any, Any] | None = None


@dataclasses.dataclass(frozen=True)
class Case:
    """One parity case: ``fn(env)`` returns Comparison(s); its rule may be changed per dtype (say why where it is).

    ``sweep``: a long case of many samples; CI runs a fixed stratified part of the sweeps (see ``in_ci``).
    """

    name: str
    group: str
    fn: Callable[["Env"], "Comparison | list[Comparison]"]
    tolerances: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    dtypes: tuple[str, ...] = DTYPES
    sweep: bool = False

    def tol(self, dtype: str) -> dict:
        return {**TOLERANCES[dtype], **self.tolerances.get(dtype, {})}


@dataclasses.dataclass(frozen=True)
class Result:
    """One row of the parity table. float32/bf16-mixed: errors against torch-float64, with torch's own beside."""

    case: str
    group: str
    dtype: str
    value_abs: float
    value_rel: float
    grad_abs: float | None
    grad_rel: float | None
    passed: bool
    error: str | None = None
    torch_value_rel: float | None = None  # torch's own relative error in this dtype (None in float64)
    torch_grad_rel: float | None = None
    probed: bool = False  # failed on torch's first run, judged again with its probes (module doc)


CASES: list[Case] = []


def register(name: str, group: str, *, tolerances: dict | None = None, mixed: bool = False, sweep: bool = False):
    """Decorator that adds ``fn(env)`` to CASES under ``name``; ``mixed=True`` also runs it in bf16-mixed."""
    unknown = set(tolerances or {}) - set(TOLERANCES)
    if unknown:
        raise ValueError(f"parity case {name!r}: tolerances for unknown dtype(s) {sorted(unknown)}; "
                         f"expected some of {list(TOLERANCES)}")

    def decorate(fn):
        if any(c.name == name for c in CASES):
            raise ValueError(f"parity case {name!r} is registered twice")
        CASES.append(Case(name, group, fn, tolerances or {}, ALL_DTYPES if mixed else DTYPES, sweep))
        return fn

    return decorate


class Env:
    """What a case needs: the dtype under test, torch and its device, and a seeded numpy RNG.

    ``reference=True`` is the judge of a float32 or bf16-mixed run: the same float32 inputs and weights (the
    same draws from the same seed), every float array converted to float64 on its way into torch or JAX.
    """

    def __init__(self, dtype: str, torch_module, device: str, seed: int, reference: bool = False, probe: int = 0):
        self.dtype = dtype
        self.probe = probe  # > 0: a probe of torch's rounding (module doc); float32's after the first move inputs
        self.mixed = dtype == MIXED
        self.reference = reference
        self.np_dtype = np.dtype("float32" if self.mixed or reference else dtype)  # inputs and weights
        self.compute_dtype = np.dtype("float64" if reference else self.np_dtype)
        self.torch = torch_module
        self.device = device
        self.torch_dtype = getattr(torch_module, self.compute_dtype.name)
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

    def _computed(self, x: np.ndarray) -> np.ndarray:
        """Float arrays in the compute dtype (float64 in a reference run; unchanged otherwise); a float32 array
        moved by one ulp in a float32 or bf16-mixed probe after the first (the same in its reference run). A float64
        probe moves no input, not even a float32 state a case builds in every dtype (module doc)."""
        if self.probe > 1 and self.dtype != "float64" and x.dtype == np.float32:
            x = _nudged(x, self.probe)
        return x.astype(self.compute_dtype) if self.reference and np.issubdtype(x.dtype, np.floating) else x

    def to_torch(self, x, requires_grad=False):
        x = self._computed(np.asarray(x))
        t = self.torch.as_tensor(x.copy(), device=self.device)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def to_jax(self, x):
        x = self._computed(np.asarray(x))
        if x.dtype == np.int64:
            return jnp.asarray(x, dtype=jnp.int32 if not jax.config.jax_enable_x64 else jnp.int64)
        return jnp.asarray(x)


def _nudged(x: np.ndarray, probe: int) -> np.ndarray:
    """``x`` with every finite nonzero element moved by one ulp of its dtype, up or down at random; the directions
    are seeded by ``probe`` and ``x``'s bytes, so the two sides and a reference run that see the same array move it
    alike. An element the move would make infinite stays."""
    rng = np.random.default_rng([probe, zlib.crc32(np.ascontiguousarray(x).tobytes())])
    with np.errstate(over="ignore", invalid="ignore"):  # the largest finite element moved up: kept below
        moved = np.nextafter(x, np.where(rng.random(x.shape) < 0.5, -np.inf, np.inf).astype(x.dtype))
    return np.where(np.isfinite(x) & (x != 0) & np.isfinite(moved), moved, x)


def to_numpy(tree):
    """Any tree of jax arrays / torch tensors / numbers -> tree of float64 numpy arrays (jaxdl.interop.to_numpy)."""
    from jaxdl.interop import to_numpy as read  # noqa: PLC0415

    return jax.tree_util.tree_map(lambda x: np.asarray(read(x), dtype=np.float64), tree,
                                  is_leaf=lambda x: hasattr(x, "detach"))


def _promoted_product(a, b):
    """a·b in their promoted dtype, cast explicitly (as torch's ``a * b``; the tests run JAX's strict promotion):
    a bf16-mixed output times its float32 cotangent is a float32 product."""
    with jax.numpy_dtype_promotion("standard"):  # the lattice torch's promotion follows, asked for by name
        dtype = jnp.promote_types(a.dtype, b.dtype)
    return a.astype(dtype) * b.astype(dtype)


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
    jaxdl's values and gradients come from one compiled program (``_values_and_grads``).
    """
    diff_argnums = tuple(diff_argnums)
    jargs = [env.to_jax(a) for a in args]
    if not diff_argnums:
        jout = env.jit(jax_fn)(*jargs)
    else:  # the cotangents are drawn by the outputs' shapes, before the one program runs
        cts = jax.tree_util.tree_map(lambda o: env.randn(*np.shape(o)), grad_output(jax.eval_shape(jax_fn, *jargs)))
        jcts = [env.to_jax(c) for c in jax.tree_util.tree_leaves(cts)]
        jout, jgrads = _values_and_grads(env, jax_fn, grad_output, diff_argnums, jargs, jcts)

    targs = [env.to_torch(a, requires_grad=i in diff_argnums) for i, a in enumerate(args)]
    with env.autocast():
        tout = torch_fn(*targs)
    if not diff_argnums:
        return Comparison(values=(to_numpy(jout), to_numpy(tout)))

    tleaves = jax.tree_util.tree_leaves(grad_output(tout), is_leaf=lambda x: hasattr(x, "detach"))
    wrt = [targs[i] for i in diff_argnums]
    tgrads = _torch_grads(env, tleaves, [env.to_torch(c) for c in jax.tree_util.tree_leaves(cts)], wrt)
    return Comparison(values=(to_numpy(jout), to_numpy(tout)), grads=(to_numpy(jgrads), to_numpy(tgrads)))


def _torch_grads(env: Env, outputs, cts, wrt) -> tuple:
    """torch's d/d ``wrt`` of Σ outputs·cts (zeros where unused). In a float64 probe (module doc) the cotangents are
    split as ct = f·ct + (ct − f·ct), f = 1/(2·probe + 1), and the two gradients added: the gradient is linear in
    ct, so the sum differs from the direct one only by torch's float64 rounding."""
    def grads(parts, retain=False):
        objective = sum((o * c).sum() for o, c in zip(outputs, parts))
        return env.torch.autograd.grad(objective, wrt, allow_unused=True, retain_graph=retain)

    if env.probe and env.dtype == "float64":  # a reference run's dtype is the float32 it judges
        f = 1.0 / (2 * env.probe + 1)
        first, second = grads([c * f for c in cts], retain=True), grads([c - c * f for c in cts])
        total = tuple(None if a is None else a + b for a, b in zip(first, second))
    else:
        total = grads(cts)
    return tuple(g if g is not None else env.torch.zeros_like(x) for g, x in zip(total, wrt))


def _values_and_grads(env: Env, jax_fn: Callable, grad_output: Callable, diff_argnums: tuple, args, cts):
    """``(jax_fn(*args), d/d args[diff_argnums] of sum(grad_output(out) · cts))``, both from one jitted program, as
    a jitted training step computes them, the cotangents its arguments (not constants baked into it). The program
    is one function object per ``jax_fn``: called again with the same ``jax_fn`` on arguments of the same shapes
    and dtypes (a float32 case's float64 reference run, then its float64 run), JAX's cache serves it. A bf16-mixed
    run has its own: jaxdl's autocast is read while tracing, which JAX's cache does not see."""
    return env.jit(_program(jax_fn, grad_output, diff_argnums, env.mixed))(args, cts)


@functools.lru_cache(maxsize=8)
def _program(jax_fn: Callable, grad_output: Callable, diff_argnums: tuple, mixed: bool) -> Callable:
    del mixed  # a key only
    def program(args, cts):
        def objective(*a):
            out = jax_fn(*a)
            leaves = jax.tree_util.tree_leaves(grad_output(out))
            return sum(jnp.sum(_promoted_product(o, c)) for o, c in zip(leaves, cts)), out

        (_, out), grads = jax.value_and_grad(objective, argnums=diff_argnums, has_aux=True)(*args)
        return out, grads

    return program


# --- judging ----------------------------------------------------------------------------------------------
def _leaf_pairs(mine, ref) -> list[tuple[np.ndarray, np.ndarray]]:
    """The two trees' leaves as float64 numpy pairs; ValueError on a different structure or shape."""
    mine, ref = to_numpy(mine), to_numpy(ref)  # cases may hand-build Comparisons from raw outputs
    if jax.tree_util.tree_structure(mine) != jax.tree_util.tree_structure(ref):
        raise ValueError(f"jaxdl and torch returned different structures: "
                         f"{jax.tree_util.tree_structure(mine)} vs {jax.tree_util.tree_structure(ref)}")
    pairs = list(zip(jax.tree_util.tree_leaves(mine), jax.tree_util.tree_leaves(ref)))
    for a, b in pairs:
        if a.shape != b.shape:
            raise ValueError(f"shape mismatch: jaxdl {a.shape} vs torch {b.shape}")
    return pairs


def _same_nonfinite(a, b) -> np.ndarray:
    """Where a or b is NaN/inf: True if they agree there (both NaN, or the same inf)."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _max(x) -> float:
    return float(x.max()) if x.size else 0.0


def _finite_gap(a, b) -> np.ndarray:
    """|a − b| where both are finite, else 0."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.where(np.isfinite(a) & np.isfinite(b), np.abs(a - b), 0.0)


def _probe_leaves(pairs, probe_trees) -> list[list]:
    """Per probe, its trees' leaves as ``_leaf_pairs`` gives them, where they match ``pairs``' shapes (else
    skipped): a probe is an estimate, never a reason to fail a row."""
    out = []
    for trees in probe_trees:
        try:
            leaves = _leaf_pairs(*trees)
        except ValueError:
            continue
        if [b.shape for _, b in leaves] == [b.shape for _, b in pairs]:
            out.append(leaves)
    return out


def _judge_elementwise(pair, tol, probes=()) -> tuple[float, float, bool]:
    """float64: (max abs error, abs error / max|torch|, every element within atol + rtol·|torch| or within
    ROUNDING_FACTOR times the most torch's own result moved across ``probes``, torch's results in probe runs)."""
    pairs = _leaf_pairs(*pair)
    moved = _probe_leaves(pairs, [(pair[1], theirs) for theirs in probes])
    abs_err, scale, ok = 0.0, 0.0, True
    for i, (a, b) in enumerate(pairs):
        nonfinite = ~np.isfinite(a) | ~np.isfinite(b)
        with np.errstate(invalid="ignore"):  # inf - inf where both sides agree is masked just below
            diff = np.where(nonfinite, np.where(_same_nonfinite(a, b), 0.0, np.inf), np.abs(a - b))
        finite_b = np.abs(np.where(np.isfinite(b), b, 0.0))
        spread = functools.reduce(np.maximum, (_finite_gap(*leaves[i]) for leaves in moved), np.zeros_like(b))
        abs_err, scale = max(abs_err, _max(diff)), max(scale, _max(finite_b))
        ok &= bool(np.all((diff <= tol["atol"] + tol["rtol"] * finite_b) | (diff <= ROUNDING_FACTOR * spread)))
    return abs_err, (abs_err / scale if scale > 0 else abs_err), ok


def _judge_rounding(pair, reference, tol, probes=()) -> tuple[float, float, float, bool]:
    """float32/bf16-mixed by torch's own rounding: (jaxdl's max abs error against the float64 reference, its
    largest relative error over leaves, torch's largest, whether every leaf is within the bound). ``probes``:
    (torch's output, its float64 reference) of probe runs; torch's error is the largest of all its runs."""
    pairs, refs = _leaf_pairs(*pair), _leaf_pairs(pair[1], reference)
    probed = _probe_leaves(pairs, probes)
    abs_err, rel_err, torch_rel, ok = 0.0, 0.0, 0.0, True
    for i, ((mine, theirs), (_, r)) in enumerate(zip(pairs, refs)):
        jt_nonfinite = ~np.isfinite(mine) | ~np.isfinite(theirs)
        if not np.all(_same_nonfinite(mine, theirs)[jt_nonfinite]):
            return math.inf, math.inf, 0.0, False
        judged = ~jt_nonfinite & np.isfinite(r)  # where float64 overflows and float32 did not, nothing to judge
        mine, theirs, r = mine[judged], theirs[judged], r[judged]
        e_mine, e_torch, scale = _max(np.abs(mine - r)), _max(np.abs(theirs - r)), _max(np.abs(r))
        e_torch = max([e_torch, *(_max(_finite_gap(*leaves[i])) for leaves in probed)])
        ok &= e_mine <= tol["factor"] * e_torch + tol["ulps"] * _EPS32 * scale
        abs_err = max(abs_err, e_mine)
        rel_err = max(rel_err, e_mine / scale if scale > 0 else e_mine)
        torch_rel = max(torch_rel, e_torch / scale if scale > 0 else e_torch)
    return abs_err, rel_err, torch_rel, ok


@contextlib.contextmanager
def parity_precision(dtype: str, device: str = "cpu"):
    """x64 for float64 runs; full-precision matmuls on both sides (GPU TF32 off); for bf16-mixed, jaxdl's
    autocast with the op lists of torch's ``device`` around the whole case (jax code is traced inside it)."""
    from jaxdl import amp, matmul  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        stack.enter_context(jax.enable_x64(dtype == "float64"))
        stack.enter_context(jax.default_matmul_precision("highest"))
        stack.enter_context(matmul.float32_matmul_precision("highest"))  # whatever the user set
        if dtype == MIXED:
            stack.enter_context(amp.autocast(device, jnp.bfloat16))
        yield


def torch_device(torch_module) -> str:
    """The torch device that matches JAX's default backend."""
    if jax.default_backend() == "gpu" and torch_module.cuda.is_available():
        return "cuda"
    return "cpu"


def _comparisons(case: Case, dtype: str, torch_module, device: str, reference: bool = False,
                 probe: int = 0) -> list[Comparison]:
    """``case.fn`` in ``dtype`` (in float64 on float32 inputs when ``reference``), torch's RNG seeded from the
    case's name alone: every dtype and the reference draw the same inputs and torch-initialised weights. A
    ``probe`` (module doc) runs torch on the CPU with subnormals flushed, as XLA:CPU's runtime runs, except in a
    reference run."""
    seed = zlib.crc32(case.name.encode())
    torch_devices = [torch_module.cuda.current_device()] if device == "cuda" else []
    # the reference's jaxdl side is never judged, and float64 inputs meet the float32 states some cases build
    # for every dtype: it runs under JAX's standard promotion, whatever the caller's
    promotion = jax.numpy_dtype_promotion("standard") if reference else contextlib.nullcontext()
    flush = _flushed_subnormals(torch_module) if probe and not reference and device == "cpu" \
        else contextlib.nullcontext()
    with parity_precision("float64" if reference else dtype, device), promotion, flush, \
            torch_module.random.fork_rng(devices=torch_devices):
        torch_module.manual_seed(seed)
        comparisons = case.fn(Env(dtype, torch_module, device, seed, reference=reference, probe=probe))
    return [comparisons] if isinstance(comparisons, Comparison) else list(comparisons)


@contextlib.contextmanager
def _flushed_subnormals(torch_module):
    """torch's CPU arithmetic with subnormal results and inputs flushed to zero, as XLA:CPU's runtime sets them
    around every execution: ``torch.set_flush_denormal`` sets this thread's FTZ/DAZ flags, and torch's intra-op
    threads keep the flags they started with, so torch runs on this thread alone meanwhile."""
    threads = torch_module.get_num_threads()
    torch_module.set_num_threads(1)
    torch_module.set_flush_denormal(True)
    try:
        yield
    finally:
        torch_module.set_flush_denormal(False)
        torch_module.set_num_threads(threads)


def _probes(case: Case, dtype: str, torch_module, device: str) -> list[tuple[list[Comparison], list | None]]:
    """``PROBES`` reruns of a failed row (module doc): (comparisons, their float64 references, None in float64).
    A probe that raises (a moved input torch refuses, e.g. a probability above 1) is skipped."""
    probes = []
    for probe in range(1, PROBES + 1):
        try:
            comparisons = _comparisons(case, dtype, torch_module, device, probe=probe)
            references = None if dtype == "float64" else \
                _comparisons(case, "float32", torch_module, device, reference=True, probe=probe)
        except Exception:  # noqa: BLE001 - a probe only estimates torch's rounding; the row keeps the others
            continue
        probes.append((comparisons, references))
    return probes


# The reference of the last few (case, device): the float32 and bf16-mixed rows of a case share one.
_REFERENCES: collections.OrderedDict = collections.OrderedDict()


def _reference(case: Case, torch_module, device: str) -> list[Comparison]:
    key = (case.name, device, id(torch_module))
    if key not in _REFERENCES:
        _REFERENCES[key] = _comparisons(case, "float32", torch_module, device, reference=True)
        while len(_REFERENCES) > 4:
            _REFERENCES.popitem(last=False)
    return _REFERENCES[key]


def _probe_runs(probes, i: int, part: str) -> list:
    """torch's side of comparison ``i``'s ``part`` ("values" or "grads") in each probe: with its float64 reference's
    as a pair, or alone in float64 (no reference)."""
    runs = []
    for comparisons, references in probes:
        if i >= len(comparisons) or getattr(comparisons[i], part) is None:
            continue
        if references is None:
            runs.append(getattr(comparisons[i], part)[1])
        elif i < len(references) and getattr(references[i], part) is not None:
            runs.append((getattr(comparisons[i], part)[1], getattr(references[i], part)[1]))
    return runs


def _judge(case: Case, dtype: str, comparisons, references, probes=()) -> dict:
    tol = case.tol(dtype)
    if references is not None and len(references) != len(comparisons):
        raise ValueError(f"the reference run returned {len(references)} comparisons, the {dtype} run "
                         f"{len(comparisons)}: a case must build the same comparisons in every dtype")
    row = {"value_abs": 0.0, "value_rel": 0.0, "grad_abs": None, "grad_rel": None, "passed": True}
    if references is not None:
        row.update(torch_value_rel=0.0)
    for i, comp in enumerate(comparisons):
        for part in ("values", "grads"):
            pair = getattr(comp, part)
            if pair is None:
                continue
            prefix = "value" if part == "values" else "grad"
            if references is None:
                a, r, good = _judge_elementwise(pair, tol, _probe_runs(probes, i, part))
            else:
                ref = getattr(references[i], part)
                if ref is None:
                    raise ValueError(f"comparison {i} has {part} in the {dtype} run but not in the reference run")
                a, r, t, good = _judge_rounding(pair, ref[1], tol, _probe_runs(probes, i, part))
                row[f"torch_{prefix}_rel"] = max(row.get(f"torch_{prefix}_rel") or 0.0, t)
            row[f"{prefix}_abs"] = max(row[f"{prefix}_abs"] or 0.0, a)
            row[f"{prefix}_rel"] = max(row[f"{prefix}_rel"] or 0.0, r)
            row["passed"] = row["passed"] and good
    return row


def run_case(case: Case, dtype: str, torch_module=None, device: str | None = None, *,
             raise_errors: bool = False) -> Result:
    """Run one case in one dtype and return its table row.

    A case that raises is a failed row with the reason, or, with ``raise_errors`` (the test suite), raises.
    """
    if torch_module is None:
        import torch as torch_module  # noqa: PLC0415  (torch only here, never at import time)
    torch_module.backends.cuda.matmul.allow_tf32 = False
    torch_module.backends.cudnn.allow_tf32 = False
    device = device or torch_device(torch_module)
    try:
        comparisons = _comparisons(case, dtype, torch_module, device)
        references = None if dtype == "float64" else _reference(case, torch_module, device)
        row = _judge(case, dtype, comparisons, references)
        if not row["passed"]:  # before it is called failed, torch's rounding is probed (module doc)
            row = _judge(case, dtype, comparisons, references, _probes(case, dtype, torch_module, device))
            row["probed"] = True
        return Result(case.name, case.group, dtype, **row)
    except Exception as exc:  # a broken case is a failed row, with the reason
        if raise_errors:
            raise
        return Result(case.name, case.group, dtype, math.nan, math.nan, None, None, False,
                      error=f"{type(exc).__name__}: {exc}")


def in_ci(case: Case, stride: int = 4) -> bool:
    """Whether the CI run (pytest without --parity-all) runs ``case``: every case that is not a sweep, and of the
    sweeps a fixed stratified part, every ``stride``-th of each group in name order."""
    if not case.sweep:
        return True
    group = sorted(c.name for c in CASES if c.group == case.group and c.sweep)
    return group.index(case.name) % stride == 0


def format_table(results: Sequence[Result]) -> str:
    """The parity table as printed by ``jaxdl parity``.

    abs/rel: jaxdl's error against torch (float64) or against torch-float64 (float32, bf16-mixed); torch: torch's
    own relative error in that dtype against torch-float64, the scale the rounding rule judges jaxdl by.
    """
    def num(x):
        return "-" if x is None else f"{x:.1e}"

    name_w = max([len("case")] + [len(r.case) for r in results])
    head = (f"{'case':<{name_w}}  {'dtype':<10}  {'val abs':>8}  {'val rel':>8}  {'torch':>8}  {'grad abs':>8}  "
            f"{'grad rel':>8}  {'torch':>8}  result")
    lines = [head, "-" * len(head)]
    for r in results:
        status = ("pass" + " (probed)" * r.probed) if r.passed else ("FAIL" + (f" ({r.error})" if r.error else ""))
        lines.append(f"{r.case:<{name_w}}  {r.dtype:<10}  {num(r.value_abs):>8}  {num(r.value_rel):>8}  "
                     f"{num(r.torch_value_rel):>8}  {num(r.grad_abs):>8}  {num(r.grad_rel):>8}  "
                     f"{num(r.torch_grad_rel):>8}  {status}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)
