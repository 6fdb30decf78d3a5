"""torch's own module tests against jaxdl: every sample of ``torch.testing._internal.common_modules.module_db``.

For a torch class with a jaxdl counterpart (``jaxdl.nn`` under the same name unless ``counterpart`` registered
another, with an optional constructor-argument adapter), one sample is one parity ``Case``: torch's module is
built from the sample's constructor arguments, torch's initial ``state_dict`` (cast to the dtype under test) is
loaded into both sides (jaxdl through ``jaxdl.interop.load_state_dict``), and one forward in train or eval mode
is compared: outputs and updated buffers, and the gradients of sum(outputs · a fixed random cotangent) with
respect to every float input and every parameter. The samples are drawn in float64 from torch's RNG seeded by
the case's name, so the float32 run and its float64 reference see the same values; judged by ``_core``'s rule.

``python -m jaxdl.parity._module_db RNN LSTM ...`` prints per class: samples, passed, failed with reasons
(``--from-torch``: jaxdl's module converted from torch's by ``interop.from_torch`` instead of constructed).
torch is imported only inside functions.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import sys
import types
import unittest
import warnings
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.parity._core import DTYPES, Case, compare_function, run_case


@dataclasses.dataclass(frozen=True)
class Counterpart:
    """How to build jaxdl's module for a torch class: ``make(*args, **kwargs)`` from ``adapt(args, kwargs)``
    (the sample's constructor arguments with tensors as numpy arrays) -> ``(args, kwargs)``."""

    make: Callable
    adapt: Callable | None = None
    constant: tuple[int, ...] = ()  # forward-argument positions of float tensors torch does not differentiate


COUNTERPARTS: dict[str, Counterpart] = {}


def counterpart(torch_name: str, make: Callable, adapt: Callable | None = None, constant: tuple[int, ...] = ()):
    """Register jaxdl's counterpart of ``torch.nn.<torch_name>`` (default: ``jaxdl.nn.<torch_name>``)."""
    COUNTERPARTS[torch_name] = Counterpart(make, adapt, constant)


def _counterpart(name: str) -> Counterpart:
    if name in COUNTERPARTS:
        return COUNTERPARTS[name]
    from jaxdl import nn  # noqa: PLC0415

    if not hasattr(nn, name):
        raise NotImplementedError(f"jaxdl.nn has no {name} (and no counterpart is registered for torch.nn.{name})")
    return Counterpart(getattr(nn, name))


@functools.cache
def module_infos() -> dict:
    """torch's ``module_db`` by class name. torch's testing package imports ``expecttest`` (a test-only
    dependency of torch, used there only as a TestCase base) at import; a stand-in is used when it is absent."""
    if "expecttest" not in sys.modules:
        try:
            import expecttest  # noqa: F401, PLC0415
        except ImportError:
            sys.modules["expecttest"] = types.SimpleNamespace(TestCase=unittest.TestCase)
    import torch  # noqa: PLC0415

    with warnings.catch_warnings():  # "Fail to import hypothesis": torch's own suite's derandomisation
        warnings.simplefilter("ignore", ImportWarning)
        from torch.testing._internal.common_modules import module_db  # noqa: PLC0415

    # torch's test utilities freeze torch.backends' flags for their own suite on import; run_case sets them
    torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
    return {info.module_cls.__name__: info for info in module_db}


def _samples(name: str, training: bool, device: str = "cpu"):
    import torch  # noqa: PLC0415

    info = module_infos()[name]
    return list(info.module_inputs_func(info, device=device, dtype=torch.float64, requires_grad=False,
                                        training=training))


def module_db_samples(name: str) -> list[tuple[str, bool, int]]:
    """``(name, training, index)`` of every sample of ``torch.nn.<name>`` in module_db, train then eval."""
    return [(name, training, i) for training in (True, False) for i in range(len(_samples(name, training)))]


def _is_tensor(x) -> bool:
    return hasattr(x, "detach")


def _is_float(x) -> bool:
    return x.is_floating_point() if _is_tensor(x) else jnp.issubdtype(jnp.result_type(x), jnp.floating)


def _numpy(env, t):
    """A torch tensor as numpy, floats in the dtype under test's inputs (float32 in a reference run)."""
    a = t.detach().cpu().numpy()
    return a.astype(env.np_dtype) if np.issubdtype(a.dtype, np.floating) else a


def _compare_sample(env, name: str, training: bool, index: int, converted: bool = False):
    info = module_infos()[name]
    sample = _samples(name, training, env.device)[index]
    cargs, ckwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    if converted:
        return _compare_converted(env, info.module_cls(*cargs, **ckwargs), sample, training)
    part = _counterpart(name)
    jargs, jkwargs = jax.tree_util.tree_map(lambda x: _numpy(env, x) if _is_tensor(x) else x, (cargs, ckwargs))
    if part.adapt is not None:
        jargs, jkwargs = part.adapt(jargs, jkwargs)
    return compare_module(env, info.module_cls(*cargs, **ckwargs), part.make(*jargs, **jkwargs),
                          sample.forward_input.args, sample.forward_input.kwargs, training=training,
                          constant=part.constant)


def _compare_converted(env, tm, sample, training: bool):
    """The sample with jaxdl's module from ``interop.from_torch(tm)`` in place of jaxdl's constructor (a lazy
    torch module is first materialised by one forward, as torch's own first call does)."""
    from jaxdl.interop import from_torch  # noqa: PLC0415

    if any(type(p).__name__ == "UninitializedParameter" for p in tm.parameters()):
        with env.torch.no_grad():
            tm(*[a.float() if _is_tensor(a) and a.is_floating_point() else a for a in sample.forward_input.args])
    part = COUNTERPARTS.get(type(tm).__name__)
    with jax.enable_x64(True):  # only the spec is kept: torch's own state_dict may be float64 (module_db's choice)
        jm = from_torch(tm)[0]
    return compare_module(env, tm, jm, sample.forward_input.args, sample.forward_input.kwargs, training=training,
                          constant=part.constant if part else ())


def _call(fn, *args, **kwargs):
    return fn(*args, **kwargs)


def compare_module(env, tm, jm, args, kwargs=None, *, training: bool = False, calls=(_call, _call), constant=()):
    """torch module ``tm`` (freshly built: its state_dict, cast to the dtype under test, is loaded into both) and
    jaxdl module ``jm`` on the forward inputs ``args``/``kwargs`` (trees of torch tensors and Python values):
    outputs and updated buffers, and the gradients w.r.t. every float input and parameter. ``calls``: how jaxdl's
    and torch's forward are called, ``call(forward, *args, **kwargs) -> output`` (e.g. around packing);
    ``constant``: positions in ``args`` of float tensors torch does not differentiate (a loss's target)."""
    from jaxdl.interop import flatten, load_state_dict  # noqa: PLC0415

    torch = env.torch
    sd = {k: _numpy(env, v) for k, v in tm.state_dict().items()}
    tm = tm.to(device=env.device, dtype=env.torch_dtype).train(training)
    tm.load_state_dict({k: env.to_torch(v) for k, v in sd.items()})
    stateful = hasattr(jm, "apply")
    params, state = load_state_dict(jm, {k: env.to_jax(v) for k, v in sd.items()}) if stateful else ({}, {})

    # forward inputs: float tensors are differentiated arguments, other tensors constants, the rest static
    leaves, treedef = jax.tree_util.tree_flatten((tuple(args), dict(kwargs or {})))
    fixed = [x for i, x in enumerate(args) if i in constant]
    dyn = [i for i, x in enumerate(leaves) if _is_tensor(x) and x.is_floating_point()
           and not any(x is c for c in fixed)]
    consts = {i: _numpy(env, x) for i, x in enumerate(leaves) if _is_tensor(x) and i not in dyn}
    names = [n for n, _ in tm.named_parameters()]
    values = [*(_numpy(env, leaves[i]) for i in dyn), *(sd[n] for n in names)]
    key = jax.random.key(0) if training else None

    def inputs(a, convert):
        full = list(leaves)
        for i, c in consts.items():
            full[i] = convert(c)
        for i, v in zip(dyn, a):
            full[i] = v
        return jax.tree_util.tree_unflatten(treedef, full)

    def jax_fn(*a):
        args, kwargs = inputs(a[:len(dyn)], env.to_jax)
        if not stateful:
            return jm(*args, **kwargs), {}
        p = jax.tree_util.tree_map_with_path(
            lambda path, leaf: dict(zip(names, a[len(dyn):])).get(".".join(k.key for k in path), leaf),
            params)
        new_state = {}

        def forward(*args, **kwargs):
            nonlocal new_state
            out, new_state = jm.apply(p, state, *args, training=training, key=key, **kwargs)
            return out

        out = calls[0](forward, *args, **kwargs)
        return out, flatten(new_state)

    def torch_fn(*a):
        args, kwargs = inputs(a[:len(dyn)], env.to_torch)
        with warnings.catch_warnings():  # torch's note that oneDNN has no projected LSTM
            warnings.filterwarnings("ignore", "LSTM with projections is not supported with oneDNN")
            out = calls[1](lambda *a_, **k_: torch.func.functional_call(tm, dict(zip(names, a[len(dyn):])), a_, k_),
                           *args, **kwargs)
        return out, ({n: b.clone() for n, b in tm.named_buffers()} if stateful else {})

    def differentiated(out):
        return [leaf for leaf in jax.tree_util.tree_leaves(out[0], is_leaf=_is_tensor) if _is_float(leaf)]

    return compare_function(env, jax_fn, torch_fn, values, diff_argnums=tuple(range(len(values))),
                            grad_output=differentiated)


def module_db_case(name: str, training: bool, index: int, converted: bool = False) -> Case:
    """The parity case of one module_db sample (not in the ``jaxdl parity`` registry: the samples are known only
    once torch is imported). ``converted``: jaxdl's module is ``interop.from_torch`` of torch's (the same name,
    so the same seed and inputs as the constructed module's case; the group says which)."""
    mode = "train" if training else "eval"
    return Case(f"module_db {name} {mode} #{index}", "module_db from_torch" if converted else "module_db",
                lambda env: _compare_sample(env, name, training, index, converted), sweep=True)


def module_db_report(names, dtypes=DTYPES, progress=None, converted: bool = False) -> dict[str, dict]:
    """Run every sample of each class in ``names`` in each dtype: {name: {"samples", "passed", "failed":
    [(case, dtype, reason)]}}; a sample counts once per dtype and mode, as torch's tests run them.
    ``converted``: jaxdl's modules from ``interop.from_torch`` (``--from-torch`` on the command line)."""
    import torch  # noqa: PLC0415

    report = {}
    for name in names:
        rows = [run_case(module_db_case(*sid, converted=converted), dtype, torch, "cpu")
                for sid in module_db_samples(name) for dtype in dtypes]
        failed = [(r.case, r.dtype, r.error or f"value rel {r.value_rel:.1e}, grad rel {r.grad_rel}")
                  for r in rows if not r.passed]
        report[name] = {"samples": len(rows), "passed": len(rows) - len(failed), "failed": failed}
        if progress is not None:
            progress(format_module_db_report({name: report[name]}, header=False))
    return report


def format_module_db_report(report: dict, header: bool = True) -> str:
    """One line per class (samples, passed, failed), then one per failed sample with its reason."""
    lines = [f"{'class':<28} samples  passed  failed"] if header else []
    for name, r in report.items():
        lines.append(f"{name:<28} {r['samples']:>7}  {r['passed']:>6}  {len(r['failed']):>6}")
        for case, dtype, reason in r["failed"]:
            lines.append(f"  {case} [{dtype}]: {reason.splitlines()[0][:200] if reason else ''}")
    return "\n".join(lines)


def _soft_margin_loss(*args, **kwargs):
    from jaxdl import nn  # noqa: PLC0415

    return nn.SoftMarginLoss(*args, **kwargs)


counterpart("SoftMarginLoss", _soft_margin_loss, constant=(1,))  # torch refuses a gradient w.r.t. the target


def _linear_cross_entropy_loss(*args, device=None, dtype=None, options=None, **kwargs):
    from jaxdl import nn  # noqa: PLC0415

    del device, dtype, options  # options: torch's chunked kernel, the reference formula's values (jaxdl computes)
    return nn.LinearCrossEntropyLoss(*args, **kwargs)


counterpart("LinearCrossEntropyLoss", _linear_cross_entropy_loss)

if __name__ == "__main__":
    # `python -m` runs this file a second time, as __main__, beside the jaxdl.parity._module_db that importing the
    # package loads: the counterparts the case modules register (_cases_transformer's adapters) are in that one's
    # table, so report through it. --from-torch: jaxdl's module by interop.from_torch of torch's
    _converted = "--from-torch" in sys.argv
    _names = [a for a in sys.argv[1:] if a != "--from-torch"]
    print(f"{'class':<28} samples  passed  failed")
    importlib.import_module(__spec__.name).module_db_report(_names or sorted(module_infos()),
                                                progress=lambda text: print(text, flush=True), converted=_converted)
