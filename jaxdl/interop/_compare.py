"""``compare``: run a torch module and a jaxdl model on the same inputs and show, submodule by submodule, where they
part: outputs, parameter gradients (for one random cotangent) and buffers after the call.

torch side: forward hooks on every submodule of a deep copy (the caller's module is left as it was). jaxdl side:
``nn.register_module_forward_hook`` sees every ``apply``; the submodule is known by the params sub-dict it was
given (``params["layers"]["0"]`` is submodule ``layers.0``), so any model whose params carry torch's names works:
one from ``from_torch`` or one written in ``jaxdl.nn``. A model ``from_export`` replays op by op reports each torch
submodule call's outputs through the replay's one hook point (``_graph.submodule_hook``): the values the call's
nodes pass on to the rest of the model. Where those do not line up with what torch's hook sees (a submodule
whose outputs the model uses only partly, as an LSTM's ``(h, c)`` left unused; a call the export folded away),
the row says so with nothing judged. A submodule torch runs as a module but the jaxdl side computes inline, as
plain functions on its params (no ``apply``: ``nn.TransformerEncoderLayer``'s ``linear1``), has an output row that
says "not computed as a submodule by jaxdl", with nothing judged; its gradients and buffers are still compared. A
submodule torch itself never calls as a module has no output row on either side: ``MultiheadAttention.out_proj``,
whose weights torch's ``F.multi_head_attention_forward`` reads directly (its forward hook never fires), shows its
gradient rows only.

Judged as the parity suite judges (``jaxdl._rules``' constants): float64 element by element against torch
(rtol 1e-10); float32 by torch's own rounding, against torch re-run in float64 on the same float32 values
(``|jaxdl - r| <= factor·|torch - r| + ulps·eps32·|r|``). The first departing submodule is the first whose output
departs in torch's order of completion (children before parents); else the first whose buffers depart; else the
one whose parameter gradients depart last in forward order (first in the backward pass). ``CAUSES`` is the
catalogue of known torch/JAX differences tried on it. torch is imported only inside ``compare``.
"""
from __future__ import annotations

import copy
import dataclasses
import math
import sys

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import nn
from jaxdl._rules import FLOAT32_ROUNDING, FLOAT64_TOLERANCE
from jaxdl.interop._from_torch import NotStructural, to_spec
from jaxdl.interop._graph import submodule_hook
from jaxdl.interop._state_dict import flatten, to_numpy
from jaxdl.matmul import get_float32_matmul_precision

_EPS32 = float(np.finfo(np.float32).eps)
_NOT_A_SUBMODULE = "not computed as a submodule by jaxdl"  # the notes of an output row with nothing to judge
_UNSEEN_INSIDE = "computed inside jaxdl's own jit/scan: its value is not seen"
_NOT_IN_EXPORT = "no op of its own in the exported graph"
_RANDOM_IN_TRAINING = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")


@dataclasses.dataclass(frozen=True)
class Row:
    """One comparison: ``submodule`` (torch's dotted name, "" the whole model), ``what`` ("output", "grad
    <param>", "buffer <name>"), jaxdl's max abs and rel error against torch, ``ok`` by the dtype's rule."""

    submodule: str
    what: str
    abs_err: float
    rel_err: float
    ok: bool
    note: str = ""

    @property
    def unjudged(self) -> bool:
        """A row with nothing to judge (NaN errors, ``ok``): torch ran the submodule, jaxdl did not as one."""
        return math.isnan(self.abs_err)


@dataclasses.dataclass(frozen=True)
class Comparison:
    """``compare``'s numbers: the rows in torch's order, the first departing submodule (None: all within) and
    the likely cause the catalogue gives for it (None: none known)."""

    rows: list
    dtype: str
    first: str | None = None
    cause: str | None = None

    @property
    def ok(self) -> bool:
        return self.first is None

    def __str__(self) -> str:
        width = max([len("submodule"), *(len(r.submodule or "(model)") for r in self.rows)])
        lines = [f"{'submodule':<{width}}  {'what':<28} {'max abs':>9} {'max rel':>9}  ok"]
        for r in self.rows:
            numbers = (f"{'-':>9} {'-':>9}  -" if r.unjudged else
                       f"{r.abs_err:>9.2e} {r.rel_err:>9.2e}  {'yes' if r.ok else 'NO'}")
            lines.append(f"{r.submodule or '(model)':<{width}}  {r.what:<28} {numbers}"
                         f"{'  ' + r.note if r.note else ''}".rstrip())
        if self.first is None:
            lines.append(f"all within the {self.dtype} tolerance")
        else:
            lines.append(f"first departure: {self.first or '(model)'}" + (f"; likely cause: {self.cause}"
                                                                         if self.cause else ""))
        return "\n".join(lines)


# --- the catalogue of known torch/JAX differences: (torch submodule, jaxdl submodule, context) -> cause or None ---

def _config_cause(tsub, jsub, ctx):
    """A setting that differs between torch's submodule and jaxdl's: GELU form, eps, momentum, padding, ..."""
    if jsub is None:
        return None
    try:
        want = to_spec(tsub)
    except (NotStructural, ValueError):
        return None
    if type(want) is not type(jsub):
        return f"a different layer: torch.nn.{type(tsub).__name__}, jaxdl {type(jsub).__name__}"
    for field in dataclasses.fields(want):
        t, j = getattr(want, field.name), getattr(jsub, field.name)
        try:
            same = bool(np.all(t == j)) if not isinstance(t, nn.Module) else t == j
        except (ValueError, TypeError):
            same = t is j
        if not same:
            return _FIELD_CAUSES.get(field.name, _setting)(field.name, t, j)
    return None


def _setting(name, t, j):
    return f"{name}: torch {t!r}, jaxdl {j!r}"


def _gelu_form(name, t, j):
    forms = {"none": "exact erf form", "tanh": "tanh approximation"}
    return (f"GELU form: torch approximate={t!r} ({forms.get(t, t)}), jaxdl approximate={j!r} ({forms.get(j, j)}); "
            f"flax/jax.nn.gelu default to the tanh form, torch to erf")


def _eps(name, t, j):
    return f"eps: torch {name}={t!r}, jaxdl {j!r} (flax's norms default to 1e-6, torch's to 1e-5)"


def _momentum(name, t, j):
    if t is not None and j is not None and math.isclose(j, 1 - t):
        return (f"BatchNorm momentum convention: jaxdl momentum={j!r} is flax's (1 - torch's {t!r}); torch updates "
                f"running = (1 - momentum)·running + momentum·batch")
    return f"BatchNorm momentum: torch {t!r}, jaxdl {j!r}"


def _padding(name, t, j):
    if "same" in (t, j):
        return (f"'same' padding: torch padding={t!r}, jaxdl {j!r} (torch's 'same' puts the odd extra element on "
                f"the right/bottom, as XLA's SAME; explicit symmetric padding does not)")
    return _setting(name, t, j)


_FIELD_CAUSES = {"approximate": _gelu_form, "eps": _eps, "layer_norm_eps": _eps, "momentum": _momentum,
                 "padding": _padding}


def _unbiased_variance(tsub, jsub, ctx):
    """BatchNorm's running_var updated with the biased batch variance (flax's) instead of torch's unbiased one."""
    rows = {r.what: r for r in ctx["rows"]}
    if "buffer running_var" not in rows or rows["buffer running_var"].ok or ctx["bn_count"] is None:
        return None
    n, m = ctx["bn_count"], getattr(tsub, "momentum", None)
    before, t_var, j_var = ctx["running_var_before"], ctx["torch_buffers"], ctx["jaxdl_buffers"]
    if m is None or n < 2:
        return None
    batch = (t_var - (1 - m) * before) / m  # torch's unbiased batch variance, backed out of its update
    biased = (1 - m) * before + m * batch * (n - 1) / n
    scale = max(float(np.max(np.abs(t_var))), 1e-30)
    if float(np.max(np.abs(j_var - biased))) <= 1e-3 * scale < float(np.max(np.abs(j_var - t_var))):
        return (f"BatchNorm running variance: jaxdl keeps the biased batch variance (flax's), torch the unbiased "
                f"one (× n/(n-1), n={n})")
    return None


def _matmul_precision(tsub, jsub, ctx):
    """A float32 product run below full float32 precision on either side (TF32 / bfloat16 passes)."""
    if ctx["dtype"] != "float32" or not any(getattr(p, "ndim", 0) >= 2 for p in tsub.parameters(recurse=False)):
        return None
    import torch  # noqa: PLC0415

    mine, theirs = get_float32_matmul_precision(), torch.get_float32_matmul_precision()
    if "highest" in (mine, theirs) and mine == theirs:
        return None
    return (f"matmul precision: jaxdl's float32 products run at {mine!r}, torch's at {theirs!r} "
            f"(jaxdl.set_float32_matmul_precision / torch.set_float32_matmul_precision)")


CAUSES = (_unbiased_variance, _config_cause, _matmul_precision)  # tried in order; the first that answers


# --- running both sides ---

def _is_tensor(x) -> bool:
    return hasattr(x, "detach") and hasattr(x, "shape")


def _leaves(tree) -> list:
    """The arrays of an output, in jax's order; a dict subclass (transformers' ModelOutput) as a plain dict."""
    return jax.tree_util.tree_leaves(_plain(tree), is_leaf=_is_tensor)


def _plain(tree):
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if type(tree) in (tuple, list):
        return [_plain(v) for v in tree]
    return tree


def _np(x):
    return to_numpy(x) if _is_tensor(x) else np.asarray(x)


def _judge(mine, theirs, ref, dtype: str) -> tuple[float, float, bool]:
    """(max|jaxdl - torch|, that relative to max|torch|, within the dtype's rule)."""
    mine, theirs = np.asarray(mine, np.float64), np.asarray(theirs, np.float64)
    if mine.shape != theirs.shape:
        return math.inf, math.inf, False
    finite = np.isfinite(theirs)
    if not np.array_equal(finite, np.isfinite(mine)) or not np.array_equal(mine[~finite], theirs[~finite]):
        return math.inf, math.inf, False
    if mine.size == 0:
        return 0.0, 0.0, True
    err = float(np.max(np.abs(mine - theirs)[finite], initial=0.0))
    scale = float(np.max(np.abs(theirs)[finite], initial=0.0))
    rel = err / scale if scale else (0.0 if err == 0 else math.inf)
    if ref is None:  # float64 (or integers): element by element against torch
        tol = FLOAT64_TOLERANCE
        ok = bool(np.all(np.abs(mine - theirs)[finite] <= tol["atol"] + tol["rtol"] * np.abs(theirs)[finite]))
    else:  # float32: within torch's own rounding error against torch-float64
        ref = np.asarray(ref, np.float64)
        e_mine = float(np.max(np.abs(mine - ref)[finite], initial=0.0))
        e_torch = float(np.max(np.abs(theirs - ref)[finite], initial=0.0))
        scale_r = float(np.max(np.abs(ref)[finite], initial=0.0))
        ok = e_mine <= FLOAT32_ROUNDING["factor"] * e_torch + FLOAT32_ROUNDING["ulps"] * _EPS32 * scale_r
    return err, rel, ok


def _refuse_random(tm, training: bool):
    if not training:
        return
    for name, m in tm.named_modules():
        cls = type(m).__name__
        rate = m.p if cls in _RANDOM_IN_TRAINING else getattr(m, "dropout", 0.0)
        if (isinstance(rate, (int, float)) and rate > 0) or cls == "RReLU" or (
                cls.startswith("FractionalMaxPool") and m._random_samples is None):
            raise ValueError(f"compare(training=True): torch.nn.{cls} at {name or '<root>'!r} draws random numbers "
                             f"that differ from jaxdl's (torch's generator is not JAX's); compare in eval mode, or "
                             f"with its dropout probability set to 0")


def _torch_run(tm, inputs, cotangent_seed: int, training: bool, dtype):
    """torch's outputs per submodule (in order of completion), parameter grads, buffers after, BatchNorm inputs."""
    import torch  # noqa: PLC0415

    tm = tm.train(training)
    outputs, order, bn_input = {}, [], {}

    def hook(name):
        def record(module, args, output):
            outputs.setdefault(name, []).append([_np(x) for x in _leaves(output) if _is_tensor(x)])
            if name not in order:
                order.append(name)
            if args and _is_tensor(args[0]):
                bn_input[name] = tuple(args[0].shape)
        return record

    handles = [m.register_forward_hook(hook(name)) for name, m in tm.named_modules()]
    before = {n: _np(b) for n, b in tm.named_buffers()}
    try:
        out = tm(*inputs)
    finally:
        for h in handles:
            h.remove()
    floats = [x for x in _leaves(out) if _is_tensor(x) and x.is_floating_point()]
    rng = np.random.default_rng(cotangent_seed)  # in the model's dtype: the float64 reference sees the same values
    cot = [rng.standard_normal(tuple(x.shape)).astype(dtype) for x in floats]
    pairs = [(x, torch.as_tensor(c, dtype=x.dtype)) for c, x in zip(cot, floats) if x.requires_grad]
    if pairs:
        torch.autograd.backward([x for x, _ in pairs], [c for _, c in pairs])
    grads = {n: (_np(p.grad) if p.grad is not None else np.zeros(tuple(p.shape))) for n, p in tm.named_parameters()}
    buffers = {n: _np(b) for n, b in tm.named_buffers()}
    return {"outputs": outputs, "order": order, "grads": grads, "buffers": buffers, "before": before,
            "input_shapes": bn_input, "cotangent": cot}


def _jax_run(model, params, state, inputs, cotangent, training: bool, key):
    """jaxdl's outputs per submodule (named by the params sub-dict each apply was given), grads, state after."""
    records: dict[str, list] = {}
    modules: dict[str, object] = {}
    from_graph: set[str] = set()

    def forward(p):
        names = {}

        def walk(tree, prefix):
            names[id(tree)] = prefix
            for k, v in tree.items():
                if isinstance(v, dict):
                    walk(v, f"{prefix}.{k}" if prefix else k)

        walk(p, "")
        seen: dict[str, list] = {}

        def hook(module, sub_params, args, output):
            name = names.get(id(sub_params))
            if name is not None:
                seen.setdefault(name, []).append(_leaves(output))
                modules.setdefault(name, module)

        def replayed(path, cls, outputs):  # a submodule call of an exported model's replay
            seen.setdefault(path, []).append(_leaves(outputs))
            from_graph.add(path)

        with nn.register_module_forward_hook(hook), submodule_hook(replayed):
            out, new_state = model.apply(p, state, *inputs, training=training, key=key)
        floats = [x for x in _leaves(out) if jnp.issubdtype(jnp.result_type(x), jnp.floating)]
        return floats, (new_state, seen)

    floats, vjp, (new_state, seen) = jax.vjp(forward, params, has_aux=True)
    records.update(seen)
    if len(cotangent) != len(floats):
        raise ValueError(f"compare: torch's model returns {len(cotangent)} differentiable arrays, jaxdl's "
                         f"{len(floats)}")
    grads = None  # outputs of other shapes than torch's: no common cotangent, no gradient rows
    if all(tuple(c.shape) == tuple(jnp.shape(x)) for c, x in zip(cotangent, floats)):
        (grads,) = vjp([jnp.asarray(c, dtype=x.dtype) for c, x in zip(cotangent, floats)])
        grads = {n: np.asarray(g) for n, g in flatten(grads).items()}
    outputs, hidden = {}, set()
    for n, calls in records.items():
        try:
            outputs[n] = [[np.asarray(x) for x in call] for call in calls]
        except (jax.errors.UnexpectedTracerError, jax.errors.ConcretizationTypeError, TypeError):
            hidden.add(n)  # applied inside the model's own jit/scan/checkpoint: its value is not seen here
    return {"outputs": outputs, "hidden": hidden, "from_graph": from_graph,
            "grads": grads,
            "buffers": {n: np.asarray(b) for n, b in flatten(new_state).items()}, "modules": modules}


def _shapes(arrays) -> str:
    return " ".join(str(tuple(np.shape(x))).replace(" ", "") for x in arrays) or "nothing"


def _own(names, sub: str) -> list[str]:
    """The entries of submodule ``sub`` itself (not of its children): ``sub.weight`` but not ``sub.0.weight``."""
    prefix = f"{sub}." if sub else ""
    return [n for n in names if n.startswith(prefix) and "." not in n[len(prefix):]]


def compare(torch_module, model, params, state, *inputs, training: bool = False, key=None, show: bool = True,
            seed: int = 0) -> Comparison:
    """Run ``torch_module`` and the jaxdl ``model`` on ``inputs`` and compare them submodule by submodule.

    For every torch submodule (by its dotted name): the max abs/rel error of its output(s), of the gradient of
    each of its own parameters for one random cotangent on the model's output (numpy seed ``seed``), and of its
    buffers after the call (BatchNorm's running statistics in training mode). Names the first submodule that
    departs beyond the dtype's tolerance (module docstring) and, where ``CAUSES`` knows one, the likely cause.
    ``torch_module`` is deep-copied (its buffers are not touched); inputs may be torch tensors or arrays.
    In training mode a submodule that draws random numbers (dropout with p > 0) is refused: torch's masks are
    not JAX's. Prints the table (``show``) and returns the numbers.
    """
    import torch  # noqa: PLC0415

    floats = [x for x in jax.tree_util.tree_leaves(params) if jnp.issubdtype(jnp.result_type(x), jnp.floating)]
    floats += [x for x in inputs if not _is_tensor(x) and jnp.issubdtype(jnp.result_type(x), jnp.floating)]
    floats += [x for x in inputs if _is_tensor(x) and x.is_floating_point()]
    dtypes = {str(x.dtype).removeprefix("torch.") for x in floats}
    if not dtypes <= {"float32", "float64"}:
        raise ValueError(f"compare: expected float32 or float64 params and inputs; got {sorted(dtypes)}")
    dtype = "float64" if "float64" in dtypes else "float32"
    _refuse_random(torch_module, training)
    tdtype = getattr(torch, dtype)

    def to_torch(x, as_dtype=None):
        t = torch.as_tensor(_np(x)) if not _is_tensor(x) else x.detach().clone()
        return t.to(as_dtype) if as_dtype is not None and t.is_floating_point() else t

    tm = copy.deepcopy(torch_module).to(tdtype)
    t = _torch_run(tm, [to_torch(x, tdtype) for x in inputs], seed, training, dtype)
    ref = None
    if dtype == "float32":  # torch re-run in float64 on the same float32 values: the rounding rule's reference
        ref = _torch_run(copy.deepcopy(torch_module).to(torch.float64),
                         [to_torch(to_torch(x, tdtype), torch.float64) for x in inputs], seed, training, dtype)
    j = _jax_run(model, params, state, [jnp.asarray(_np(x)) if _is_tensor(x) else x for x in inputs],
                 t["cotangent"], training, key)

    rows, first_output, first_buffer, last_grad = [], None, None, None
    all_names = list(dict.fromkeys([*t["order"], *(n for n, _ in tm.named_modules())]))
    per_module: dict[str, list] = {}
    for name in all_names:
        mine = []
        t_calls, j_calls = t["outputs"].get(name, []), j["outputs"].get(name)
        exported = name in j["from_graph"]
        if t_calls and j_calls is None:  # torch ran it as a module, jaxdl inline (or inside its own jit/scan)
            mine.append(Row(name, "output", math.nan, math.nan, True, _UNSEEN_INSIDE if name in j["hidden"]
                            else _NOT_IN_EXPORT if j["from_graph"] else _NOT_A_SUBMODULE))
        elif t_calls and exported and len(t_calls) != len(j_calls):
            mine.append(Row(name, "output", math.nan, math.nan, True, f"torch calls it {len(t_calls)} times, the "
                            f"exported graph shows {len(j_calls)} calls: not paired"))
        elif t_calls:
            for c, (tc, jc) in enumerate(zip(t_calls, j_calls)):
                rc = ref["outputs"][name][c] if ref else [None] * len(tc)
                jc = [x for x in jc if hasattr(x, "shape")]
                if exported and [np.shape(x) for x in tc] != [np.shape(x) for x in jc]:
                    mine.append(Row(name, "output" + (f" call {c}" if len(t_calls) > 1 else ""), math.nan,
                                    math.nan, True, f"torch's hook sees {_shapes(tc)}, the model uses "
                                    f"{_shapes(jc)} of it: not judged"))
                    continue
                if len(tc) != len(jc):
                    mine.append(Row(name, "output", math.inf, math.inf, False,
                                    f"torch returns {len(tc)} arrays, jaxdl {len(jc)}"))
                    continue
                for i, (a, b, r) in enumerate(zip(jc, tc, rc)):
                    what = "output" + (f"[{i}]" if len(tc) > 1 else "") + (f" call {c}" if len(t_calls) > 1 else "")
                    mine.append(Row(name, what, *_judge(a, b, r if np.issubdtype(b.dtype, np.floating) else None,
                                                        dtype)))
        for kind, table in (("grad", "grads"), ("buffer", "buffers")):
            if j[table] is None:
                continue
            for n in _own(t[table], name):
                if n not in j[table]:
                    mine.append(Row(name, f"{kind} {n.rsplit('.', 1)[-1]}", math.inf, math.inf, False,
                                    "missing on the jaxdl side"))
                    continue
                r = ref[table][n] if ref and np.issubdtype(t[table][n].dtype, np.floating) else None
                mine.append(Row(name, f"{kind} {n.rsplit('.', 1)[-1]}", *_judge(j[table][n], t[table][n], r, dtype)))
        per_module[name] = mine
        rows += mine
        failing = {r.what.split()[0] for r in mine if not r.ok}
        if "output" in failing and first_output is None:
            first_output = name
        if "buffer" in failing and first_buffer is None:
            first_buffer = name
        if "grad" in failing:
            last_grad = name
    first = next((n for n in (first_output, first_buffer, last_grad) if n is not None), None)
    cause = None
    if first is not None:
        tsub = tm.get_submodule(first)
        n_bn = t["input_shapes"].get(first)
        ctx = {"dtype": dtype, "rows": per_module[first],
               "bn_count": (math.prod(n_bn) // n_bn[1] if n_bn and len(n_bn) > 1 else None),
               "running_var_before": t["before"].get(f"{first}.running_var" if first else "running_var"),
               "torch_buffers": t["buffers"].get(f"{first}.running_var" if first else "running_var"),
               "jaxdl_buffers": j["buffers"].get(f"{first}.running_var" if first else "running_var")}
        for detector in CAUSES:
            cause = detector(tsub, j["modules"].get(first), ctx)
            if cause:
                break
    result = Comparison(rows, dtype, first, cause)
    if show:
        print(result, file=sys.stdout)
    return result
