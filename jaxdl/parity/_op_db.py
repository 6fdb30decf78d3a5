"""torch's own OpInfo samples against jaxdl.functional: every sample of ``common_methods_invocations.op_db``.

For an OpInfo with a jaxdl counterpart (``jaxdl.functional.<last part of the op's name>``, a variant's too, unless
``op_counterpart`` registered another, e.g. for an op whose OpInfo lambda reorders the arguments, or one that takes
a key), one sample is one parity ``Case``:
the op's samples are drawn once per process in float64 from torch's RNG seeded by the op's name and the kind (so
every case, the float32 run and its float64 reference see the same values), torch's op and jaxdl's run on one, and
the values and the gradients of sum(outputs · a fixed random cotangent) with respect to every float tensor argument
are judged by ``_core``'s rule.
A dtype argument of float64 (the dtype the samples are drawn in, e.g. a ``with_dtype`` variant's) stands for the
dtype under test. A sample whose torch result is random (dropout drawn by torch's generator) is left out with its
reason.

Sample kinds (``KINDS``): "sample" (``sample_inputs``, float64 drawn, run in float64 and float32); "reference"
(``reference_inputs``: the samples plus torch's larger and extremal ones, NaN and ±inf included); "int64" (the
int64 samples of an op torch computes in int64: values equal and the result dtype torch's, in float64's x64
mode only); "error" (``error_inputs``: torch refuses them, so jaxdl must raise too, any exception).

``python -m jaxdl.parity._op_db [--kind KIND[,KIND]] nn.functional.ctc_loss ...`` prints per op and kind:
samples, passed, failed, left out.
torch is imported only inside functions.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import sys
import warnings
import zlib
from typing import Callable

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.parity._core import DTYPES, ELEMENTWISE_FLOAT32, Case, Comparison, compare_function, run_case
from jaxdl.parity._module_db import module_infos


@dataclasses.dataclass(frozen=True)
class OpCounterpart:
    """jaxdl's function for an OpInfo, called as torch's op is: ``fn(sample.input, *sample.args, **sample.kwargs)``;
    ``left_out(sample)`` gives the reason a sample cannot be compared (None: compare it); ``constant``: the
    positions in ``(input, *args)`` (or kwargs' names) of float tensors torch does not differentiate (e.g. a loss's
    target, a class weight)."""

    fn: Callable
    left_out: Callable | None = None
    constant: tuple = ()


OP_COUNTERPARTS: dict[str, OpCounterpart] = {}


def op_counterpart(op_name: str, fn: Callable, left_out: Callable | None = None, constant: tuple = ()):
    """Register jaxdl's counterpart of the OpInfo ``op_name`` (default: jaxdl.functional.<last name part>)."""
    OP_COUNTERPARTS[op_name] = OpCounterpart(fn, left_out, constant)


def _counterpart(name: str) -> OpCounterpart:
    if name in OP_COUNTERPARTS:
        return OP_COUNTERPARTS[name]
    info = op_infos().get(name)
    short = (name if info is None else info.name).split(".")[-1]  # a variant ("name.variant"): its op's function
    if not hasattr(F, short):
        raise NotImplementedError(f"jaxdl.functional has no {short} (and no counterpart is registered for {name})")
    return OpCounterpart(getattr(F, short))


@functools.cache
def op_infos() -> dict:
    """torch's ``op_db`` by name (``name.variant`` for a variant)."""
    module_infos()  # the expecttest stand-in and torch.backends' flags, as the module_db harness needs them too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db  # noqa: PLC0415
    return {op.name + (f".{op.variant_test_name}" if op.variant_test_name else ""): op for op in op_db}


KINDS = ("sample", "reference", "int64", "error")


@functools.lru_cache(maxsize=4)
def _drawn(name: str, device: str, kind: str) -> tuple:
    """Every sample of one kind of the OpInfo ``name`` (``ErrorInput``s for "error"), drawn once per process from
    torch's RNG seeded by the op's name and kind: every case, dtype and process sees the same values, and a long
    list is not redrawn for each of its samples (max_unpool2d's 288 samples take over a second to draw)."""
    import torch  # noqa: PLC0415

    op = op_infos()[name]
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device == "cuda" else []):
        torch.manual_seed(zlib.crc32(f"{name} {kind}".encode()))
        if kind == "error":
            return tuple(_error_inputs(op, device))
        if kind == "int64":
            return tuple(op.sample_inputs(device, torch.int64)) if op.supports_dtype(torch.int64, device) else ()
        inputs = op.reference_inputs if kind == "reference" else op.sample_inputs
        return tuple(inputs(device, torch.float64, requires_grad=False))


def _samples(name: str, device: str = "cpu", kind: str = "sample") -> tuple:
    """The drawn samples (shared: read them, or take a copy with ``_sample``)."""
    drawn = _drawn(name, device, kind)
    return tuple(e.sample_input for e in drawn) if kind == "error" else drawn


def _sample(name: str, device: str, kind: str, index: int):
    """A private copy of one drawn sample (torch's op or a counterpart may write into its tensors)."""
    return copy.deepcopy(_drawn(name, device, kind)[index])


def _error_inputs(op, device: str) -> list:
    try:
        return list(op.error_inputs(device))
    except TypeError:  # an OpInfo without error_inputs (its error_inputs_func is None)
        return []


def op_db_samples(name: str, kind: str = "sample") -> list[tuple]:
    """The sample ids ``(name, index)`` (``(name, index, kind)`` for a kind other than "sample") of every sample
    of the OpInfo ``name`` that can be compared (see ``left_out_samples``)."""
    left_out = _counterpart(name).left_out
    tail = () if kind == "sample" else (kind,)
    samples = _samples(name, kind=kind)
    return [(name, i, *tail) for i, s in enumerate(samples) if left_out is None or left_out(s) is None]


def left_out_samples(name: str, kind: str = "sample") -> list[tuple[int, str]]:
    """``(index, reason)`` of the samples of ``name`` left out."""
    left_out = _counterpart(name).left_out
    samples = _samples(name, kind=kind)
    return [] if left_out is None else [(i, r) for i, s in enumerate(samples) if (r := left_out(s))]


def _is_tensor(x) -> bool:
    return hasattr(x, "detach")


def _numpy(env, t):
    a = t.detach().cpu().numpy()
    return a.astype(env.np_dtype) if a.dtype.kind == "f" else a


def _dtype_argument(dtype, under_test, for_jax: bool):
    """A torch dtype argument as torch's op (``for_jax`` False) or jaxdl's takes it: float64, the dtype the samples
    are drawn in, stands for the torch dtype ``under_test`` (as the drawn tensors are cast to it)."""
    if str(dtype) == "torch.float64":
        dtype = under_test
    return jnp.dtype(str(dtype).removeprefix("torch.")) if for_jax else dtype


def _positions(name: str, sample) -> tuple[list, object, list[int], list[int], list[int]]:
    """A sample's (leaves, treedef) of (input, args, kwargs) and the leaf positions of its differentiated float
    tensors, its other tensors (constants: a loss's target, an index) and its torch dtype arguments."""
    import torch  # noqa: PLC0415

    part = _counterpart(name)
    leaves, treedef = jax.tree_util.tree_flatten((sample.input, sample.args, sample.kwargs))
    constant = [x for i, x in enumerate((sample.input, *sample.args)) if i in part.constant]
    constant += [x for k, x in sample.kwargs.items() if k in part.constant]
    dyn = [i for i, x in enumerate(leaves) if _is_tensor(x) and x.is_floating_point()
           and not any(x is c for c in constant)]
    consts = [i for i, x in enumerate(leaves) if _is_tensor(x) and i not in dyn]
    dtypes = [i for i, x in enumerate(leaves) if isinstance(x, torch.dtype)]
    return leaves, treedef, dyn, consts, dtypes


def _call(fn, under_test, for_jax: bool, leaves, treedef, tensors: list[int], dtypes: list[int], *a):
    """``fn(input, *args, **kwargs)`` of a sample with the tensors at ``tensors`` replaced by ``a`` (torch dtype
    arguments as ``_dtype_argument`` gives them)."""
    full = list(leaves)
    for i in dtypes:
        full[i] = _dtype_argument(leaves[i], under_test, for_jax)
    for i, v in zip(tensors, a):
        full[i] = v
    x, args, kwargs = jax.tree_util.tree_unflatten(treedef, full)
    return fn(x, *args, **kwargs)


@functools.lru_cache(maxsize=4)
def _jaxdl_fn(name: str, device: str, kind: str, index: int, under_test) -> Callable:
    """jaxdl's counterpart on one sample as a function of its tensors (differentiated, then constants; none baked
    into the program), one object per sample and torch dtype ``under_test``: a float32 case's float64 reference run
    and its float64 run then share one compiled program (``_core.compare_function``)."""
    leaves, treedef, dyn, consts, dtypes = _positions(name, _sample(name, device, kind, index))
    return functools.partial(_call, _counterpart(name).fn, under_test, True, leaves, treedef, dyn + consts, dtypes)


def _floats(out) -> list:
    """The float leaves of an op's output (torch tensors, JAX arrays, their shapes, Python numbers): the ones a
    gradient flows from."""
    return [leaf for leaf in jax.tree_util.tree_leaves(out, is_leaf=_is_tensor)
            if (leaf.is_floating_point() if _is_tensor(leaf) else jnp.issubdtype(jnp.result_type(leaf), jnp.floating))]


def _compare_sample(env, name: str, index: int, kind: str = "sample"):
    if kind == "error":
        return _compare_error(env, name, index)
    op = op_infos()[name]
    leaves, treedef, dyn, consts, dtypes = _positions(name, _sample(name, env.device, kind, index))
    jax_fn = _jaxdl_fn(name, env.device, kind, index, env.torch_dtype)

    def torch_fn(*a):
        return _call(op, env.torch_dtype, False, leaves, treedef, dyn + consts, dtypes, *a)

    values = [_numpy(env, leaves[i]) for i in dyn + consts]
    if kind == "int64":  # torch's result dtype is part of the answer
        jax_fn = functools.partial(_same_dtypes, jax_fn, torch_fn(*(env.to_torch(v) for v in values)))
    return compare_function(env, jax_fn, torch_fn, values, diff_argnums=tuple(range(len(dyn))),
                            grad_output=_floats)


def _same_dtypes(jax_fn, torch_out, *a):
    out = jax_fn(*a)
    mine = [str(x.dtype) for x in jax.tree_util.tree_leaves(out)]
    theirs = [str(x.dtype).removeprefix("torch.") for x in jax.tree_util.tree_leaves(torch_out, is_leaf=_is_tensor)]
    if mine != theirs:
        raise TypeError(f"result dtypes {mine}, torch's {theirs}")
    return out


def _compare_error(env, name: str, index: int):
    """torch refuses error_inputs[index]: jaxdl must raise too (its own exception and words)."""
    error = _sample(name, env.device, "error", index)
    sample = error.sample_input
    to_jax = (lambda t: jnp.asarray(t.detach().cpu().numpy()) if _is_tensor(t)
              else _dtype_argument(t, env.torch_dtype, True) if isinstance(t, env.torch.dtype) else t)
    x, args, kwargs = jax.tree_util.tree_map(to_jax, (sample.input, sample.args, sample.kwargs), is_leaf=_is_tensor)
    try:
        jax.block_until_ready(_counterpart(name).fn(x, *args, **kwargs))
    except Exception:  # noqa: BLE001 - any refusal is the answer; the message is jaxdl's own
        return Comparison(values=(0.0, 0.0))
    raise AssertionError(f"torch raises {error.error_type.__name__} ({error.error_regex!r}); jaxdl accepted it")


def op_db_case(name: str, index: int, kind: str = "sample") -> Case:
    """The parity case of one OpInfo sample (outside the ``jaxdl parity`` registry, as module_db's)."""
    label = "" if kind == "sample" else f" {kind}"
    # int64 samples run in float64's slot; where torch's result is float32 (int64 losses and distances compute in
    # the default dtype) there is no float64 reference to judge it by: the elementwise float32 tolerance
    tolerances = {"float64": ELEMENTWISE_FLOAT32} if kind == "int64" else {}
    return Case(f"op_db {name}{label} #{index}", "op_db", lambda env: _compare_sample(env, name, index, kind),
                tolerances, sweep=True)


def kind_dtypes(kind: str, dtypes=DTYPES) -> tuple[str, ...]:
    """The dtypes a kind runs in: int64 and error samples only in float64's run (x64 mode, integers kept)."""
    return tuple(d for d in dtypes if d == "float64") if kind in ("int64", "error") else tuple(dtypes)


def op_db_report(names, dtypes=DTYPES, progress=None, kinds=("sample",)) -> dict[str, dict]:
    """Run every comparable sample of each OpInfo in ``names`` (each kind) in each dtype: {label: {"samples",
    "passed", "failed": [(case, dtype, reason)], "left_out": [(index, reason)]}}, label the name (and the kind
    when it is not "sample")."""
    import torch  # noqa: PLC0415

    report = {}
    for name in names:
        for kind in kinds:
            rows = [run_case(op_db_case(*sid), dtype, torch, "cpu") for sid in op_db_samples(name, kind)
                    for dtype in kind_dtypes(kind, dtypes)]
            failed = [(r.case, r.dtype, r.error or f"value rel {r.value_rel:.1e}, grad rel {r.grad_rel}")
                      for r in rows if not r.passed]
            label = name if kind == "sample" else f"{name} [{kind}]"
            report[label] = {"samples": len(rows), "passed": len(rows) - len(failed), "failed": failed,
                             "left_out": left_out_samples(name, kind)}
            if progress is not None:
                progress(format_op_db_report({label: report[label]}, header=False))
    return report


def format_op_db_report(report: dict, header: bool = True) -> str:
    """One line per op (samples, passed, failed, left out), then one per failed sample with its reason."""
    lines = [f"{'op':<44} samples  passed  failed  left out"] if header else []
    for name, r in report.items():
        lines.append(f"{name:<44} {r['samples']:>7}  {r['passed']:>6}  {len(r['failed']):>6}  "
                     f"{len(r['left_out']):>8}")
        for case, dtype, reason in r["failed"]:
            lines.append(f"  {case} [{dtype}]: {reason.splitlines()[0][:200] if reason else ''}")
        reasons = sorted({reason for _, reason in r["left_out"]})
        lines.extend(f"  left out: {reason}" for reason in reasons)
    return "\n".join(lines)


# --- counterparts whose OpInfo calls differ from F's signature ------------------------------------------------
def _embedding_bag(weight, idx, **kwargs):
    return F.embedding_bag(idx, weight, **kwargs)  # the OpInfo's lambda: weight first


def _embedding_bag_left_out(sample):
    if sample.kwargs.get("sparse"):
        return "sparse=True: torch's weight gradient is a sparse tensor (jaxdl's is dense)"
    return None


_ATTENTION_DROPOUT = "torch draws the attention dropout from its own generator"


def _mha_random(sample):
    training = sample.kwargs.get("training", True)
    return _ATTENTION_DROPOUT if training and sample.args[9] > 0 else None


def _sdpa_random(sample):
    return _ATTENTION_DROPOUT if sample.kwargs.get("dropout_p", 0.0) > 0 else None


def _nan_by_position(sample):
    import torch  # noqa: PLC0415

    x = sample.input
    if x.is_floating_point() and bool(torch.isnan(x).any()):
        return ("a NaN input: torch's gradient there differs between its SIMD loop and its scalar loop (hardtanh 0 "
                "and 1, elu NaN and scale), so it depends on the element's position, the tensor's size and the CPU; "
                "jaxdl gives the SIMD loop's")
    return None


def _embedding(weight, idx, **kwargs):
    return F.embedding(idx, weight, **kwargs)  # the OpInfo's lambda: weight first


op_counterpart("nn.functional.embedding_bag", _embedding_bag, _embedding_bag_left_out)
op_counterpart("nn.functional.embedding", _embedding, _embedding_bag_left_out)
op_counterpart("nn.functional.hardtanh", F.hardtanh, _nan_by_position)


def _reference_linear_cross_entropy(*args, options=None, **kwargs):
    del options  # torch's chunked kernel: its values are the reference formula's, which jaxdl computes
    return F.linear_cross_entropy(*args, **kwargs)


def _triplet_with_distance(anchor, positive, negative, distance_function=None, **kwargs):
    from jaxdl import nn  # noqa: PLC0415

    if distance_function is not None:  # the samples pass a torch.nn.PairwiseDistance: jaxdl's, same arguments
        d = nn.PairwiseDistance(distance_function.norm, distance_function.eps, distance_function.keepdim)
        distance_function = lambda x1, x2: d.apply({}, {}, x1, x2)[0]  # noqa: E731
    return F.triplet_margin_with_distance_loss(anchor, positive, negative, distance_function=distance_function,
                                               **kwargs)


op_counterpart("nn.functional.triplet_margin_with_distance_loss", _triplet_with_distance)
op_counterpart("nn.functional.soft_margin_loss", F.soft_margin_loss, constant=(1,))
# torch does not differentiate the class weight (a reference sample gives one)
op_counterpart("nn.functional.multi_margin_loss", F.multi_margin_loss, constant=("weight",))


for _variant in ("chunked", "chunked_none"):
    op_counterpart(f"nn.functional.linear_cross_entropy.{_variant}", _reference_linear_cross_entropy,
                   constant=("weight",))  # torch does not differentiate the class weight
op_counterpart("nn.functional.linear_cross_entropy", F.linear_cross_entropy, constant=("weight",))
for _name in ("relu6", "elu", "selu", "celu"):
    op_counterpart(f"nn.functional.{_name}", getattr(F, _name), _nan_by_position)
op_counterpart("nn.functional.multi_head_attention_forward", F.multi_head_attention_forward, _mha_random)
op_counterpart("nn.functional.scaled_dot_product_attention", F.scaled_dot_product_attention, _sdpa_random)

# issue 20's item 2: interpolate's OpInfo variants (one per mode) and torch's antialiased aten op
def _upsample_bilinear2d_aa(x, output_size=None, align_corners=False, scale_factors=None, **scales):
    return F.interpolate(x, None if output_size is None else tuple(output_size), scale_factors, "bilinear",
                         align_corners, antialias=True)


def _aa_scales_left_out(sample):
    return ("aten's default overload: an output_size and the kernel's scales_h/scales_w together (F.interpolate "
            "takes one or the other)" if "scales_h" in sample.kwargs else None)


for _mode in ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"):
    op_counterpart(f"nn.functional.interpolate.{_mode}", F.interpolate)
op_counterpart("_upsample_bilinear2d_aa", _upsample_bilinear2d_aa, _aa_scales_left_out)


def error_inputs_report(name: str) -> dict:
    """torch's ``error_inputs`` for the OpInfo ``name`` (inputs torch refuses) against jaxdl's counterpart:
    {"errors": how many, "accepted": [(index, what torch raises)] for those jaxdl computes instead of raising}."""
    op, part = op_infos()[name], _counterpart(name)
    if op.error_inputs_func is None:
        return {"errors": 0, "accepted": []}
    accepted, errors = [], list(op.error_inputs("cpu"))
    for i, error in enumerate(errors):
        sample = error.sample_input
        x, args, kwargs = jax.tree_util.tree_map(lambda t: t.detach().cpu().numpy() if _is_tensor(t) else t,
                                                 (sample.input, sample.args, sample.kwargs), is_leaf=_is_tensor)
        try:
            jax.block_until_ready(part.fn(x, *args, **kwargs))
        except Exception:  # noqa: BLE001  (any refusal counts: jaxdl's messages are its own)
            continue
        accepted.append((i, f"{error.error_type.__name__}: {error.error_regex}"))
    return {"errors": len(errors), "accepted": accepted}


def _fractional_max_pool(n):
    """F.fractional_max_pool{n}d with torch's own draw: the OpInfo calls torch's op under manual_seed(42), which
    draws _random_samples = torch.rand(N, C, n) in the input's dtype; the same draw is passed to jaxdl's."""
    fn = F.fractional_max_pool2d if n == 2 else F.fractional_max_pool3d

    def call(input, kernel_size, output_size=None, output_ratio=None, return_indices=False, _random_samples=None):
        if _random_samples is not None:  # a sample that gives its own
            return fn(input, kernel_size, output_size, output_ratio, return_indices, _random_samples)
        import torch  # noqa: PLC0415

        shape = jnp.shape(input)
        dtype = torch.float64 if jnp.result_type(input) == jnp.float64 else torch.float32
        draw = torch.rand(1 if len(shape) == n + 1 else shape[0], shape[-n - 1], n, dtype=dtype,
                          generator=torch.Generator().manual_seed(42))
        return fn(input, kernel_size, output_size, output_ratio, return_indices, draw.numpy())

    return call


def _own_samples(sample):
    return ("the sample passes its own _random_samples, a float tensor this runner would differentiate (torch "
            "refuses); _cases_dims compares given _random_samples" if "_random_samples" in sample.kwargs else None)


op_counterpart("nn.functional.fractional_max_pool2d", _fractional_max_pool(2), _own_samples)
op_counterpart("nn.functional.fractional_max_pool3d", _fractional_max_pool(3), _own_samples)
for _n in (1, 2, 3):  # the ".grad" variants: unique indices, for gradient checks
    op_counterpart(f"nn.functional.max_unpool{_n}d.grad", getattr(F, f"max_unpool{_n}d"))

def _grid_sampler(x, grid, interpolation_mode, padding_mode, align_corners):
    """aten's grid_sampler_2d/3d: the modes as torch's enums (GridSamplerInterpolation, GridSamplerPadding)."""
    return F.grid_sample(x, grid, ("bilinear", "nearest", "bicubic")[interpolation_mode],
                         ("zeros", "border", "reflection")[padding_mode], align_corners)


op_counterpart("grid_sampler_2d", _grid_sampler)
op_counterpart("grid_sampler_3d", _grid_sampler)



# issue 20's items 3-4: the ops that draw take a key in jaxdl; a sample whose result torch draws from its own
# generator is left out (tests/functional/test_activation_nn20.py checks those by their statistics)
def _with_key(fn):
    return lambda *args, **kwargs: fn(*args, key=jax.random.key(0), **kwargs)


def _drawn_dropout(training_default: bool):
    def left_out(sample):
        kw = sample.kwargs
        if sample.input.numel() and kw.get("training", training_default) and kw.get("p", 0.5) not in (0.0, 1.0):
            return "torch draws the dropout mask from its own generator"
        return None

    return left_out


def _drawn_rrelu(sample):
    kw = sample.kwargs
    if sample.input.numel() and kw.get("training", False) and kw.get("lower", 1 / 8) != kw.get("upper", 1 / 3):
        return "torch draws the negative slopes from its own generator"
    return None


op_counterpart("nn.functional.rrelu", _with_key(F.rrelu), _drawn_rrelu)
op_counterpart("nn.functional.dropout3d", _with_key(F.dropout3d), _drawn_dropout(True))
op_counterpart("nn.functional.alpha_dropout", _with_key(F.alpha_dropout), _drawn_dropout(False))
for _variant in ("with_train", "without_train"):
    op_counterpart(f"nn.functional.feature_alpha_dropout.{_variant}", _with_key(F.feature_alpha_dropout),
                   _drawn_dropout(False))


if __name__ == "__main__":
    argv = sys.argv[1:]
    kinds = ("sample",)
    if argv[:1] == ["--kind"]:
        kinds, argv = tuple(argv[1].split(",")), argv[2:]
    print(f"{'op':<44} samples  passed  failed  left out")
    # through the module as the package imports it (not this __main__ copy): its counterpart table is the one the
    # case modules register into
    op_db_report = importlib.import_module(__spec__.name).op_db_report
    op_db_report(argv, kinds=kinds, progress=lambda text: print(text, flush=True))
    for op_name in argv:
        errors = error_inputs_report(op_name)
        print(f"{op_name}: error_inputs {errors['errors'] - len(errors['accepted'])} of {errors['errors']} refused")
        for index, reason in errors["accepted"]:
            print(f"  error_inputs #{index} accepted (torch raises {reason})")
