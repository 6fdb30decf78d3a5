"""torch's own optimizer test configurations (``common_optimizers.optim_db``) run against jaxdl.optim.

For every ``OptimizerInfo`` and each of its ``optim_inputs_func(device="cpu")`` configurations, torch and jaxdl
train the parity suite's 4-8-3 tanh MLP (float64) side by side for ``STEPS`` steps, with two param groups:
the weights with the configuration as torch gives it, the biases with the same configuration and half its lr
(torch: ``Opt([{"params": weights}, {"params": biases, "lr": lr / 2}], **kwargs)``; jaxdl: ``param_groups``).
Every step's parameters and every group's lr must agree to ``RTOL`` relative to the trajectory's scale.
Muon takes 2-D params only (torch's rule): its one group is the weights, the biases stay fixed on both sides.

LBFGS is driven by its closure: jaxdl's ``opt.step(fun, params, state)`` against torch's ``opt.step(closure)``,
one param group (torch's LBFGS has no per-group options), on the L2-regularised softmax regression of
jaxdl/parity/_cases_lbfgs.py; the parameters after each step and torch's ``n_iter``/``func_evals`` counters
(exactly) are compared. Not the tanh MLP: each LBFGS step runs up to 20 inner iterations, and on that chaotic
non-convex loss with a fixed step a 1e-16 difference of summation order (torch's BLAS vs XLA's) grows ~100×
per inner iteration, past 1e-9 within 2-4 steps while the counters still agree; no implementation that does not
round bit for bit as torch's BLAS can stay within 1e-9 there. The convex problem keeps float64 trajectories
well-posed, so ≤1e-9 over 50 steps is a test of the algorithm, not of rounding luck.

``error_inputs(name)`` sorts torch's bad arguments into those jaxdl must refuse (at construction, or at
``init`` for a refused parameter) and those that do not apply to JAX (``NOT_APPLICABLE`` says why).

torch.testing._internal imports ``expecttest`` (a test-runner dependency, not installed): a stand-in module
with its ``TestCase`` is put in ``sys.modules`` before the import; nothing of it is used here.
"""
from __future__ import annotations

import inspect
import re
import sys
import types
import unittest
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import optim
from jaxdl.parity import _cases_lbfgs as L
from jaxdl.parity import _cases_optim as P
from jaxdl.parity._core import Env, to_numpy

STEPS = 50
RTOL = 1e-9

# torch class -> jaxdl.optim name
NAMES = {"Adadelta": "adadelta", "Adafactor": "adafactor", "Adagrad": "adagrad", "Adam": "adam", "Adamax": "adamax",
         "AdamW": "adamw", "ASGD": "asgd", "LBFGS": "lbfgs", "Muon": "muon", "NAdam": "nadam", "RAdam": "radam",
         "RMSprop": "rmsprop", "Rprop": "rprop", "SGD": "sgd"}
TWO_D_ONLY = {"Muon"}
CLOSURE_STEP = {"LBFGS"}  # step(closure): run_closure

# configurations that do not reach 1e-9, and why (each an xfail(strict) in tests/test_optim_db.py)
KNOWN_DEVIATIONS: dict = {}

# torch error inputs that have no JAX counterpart: (a regex on torch's message, why)
NOT_APPLICABLE = {
    "params argument given to the optimizer": "params are a pytree, not an iterable of tensors",
    "duplicate parameters": "a pytree cannot hold one parameter twice",
    "more than one parameter group": "param_groups labels each leaf once",
    "param names are missing|param groups should be with/without names": "leaves are named by their tree path",
    "foreach": "no foreach/fused implementations: one jitted update",
    "betas must be either both floats or both Tensors": "betas may mix numbers and arrays (both are traced alike)",
    "SparseAdam requires dense parameter tensors": "SparseAdam itself is refused (no sparse gradients in JAX)",
    "does not support complex parameters": None,  # applies: refused at init
}


def _install_expecttest_stand_in():
    if "expecttest" not in sys.modules:
        stand_in = types.ModuleType("expecttest")
        stand_in.TestCase = unittest.TestCase
        sys.modules["expecttest"] = stand_in


def optim_db():
    """torch's OptimizerInfo list, by class name."""
    _install_expecttest_stand_in()
    with warnings.catch_warnings():  # common_utils warns that hypothesis (not installed) is missing
        warnings.simplefilter("ignore", ImportWarning)
        from torch.testing._internal.common_optimizers import optim_db as db  # noqa: PLC0415

    return {info.optim_cls.__name__: info for info in db}


def configs(name: str) -> list:
    """(desc, kwargs) of every ``optim_inputs_func(device='cpu')`` configuration of torch class ``name``."""
    import torch  # noqa: PLC0415

    info = optim_db()[name]
    return [(oi.desc, oi.kwargs) for oi in info.optim_inputs_func(device="cpu", dtype=torch.float64)]


def to_jaxdl(value):
    """A torch kwarg as jaxdl takes it: tensors become arrays (a tensor lr is a 0-d array), tuples element-wise."""
    import torch  # noqa: PLC0415

    if isinstance(value, torch.Tensor):
        return jnp.asarray(value.detach().numpy())
    if isinstance(value, (tuple, list)):
        return type(value)(to_jaxdl(v) for v in value)
    return value


def _default_lr(cls) -> float:
    return float(inspect.signature(cls.__init__).parameters["lr"].default)


def _groups_and_labels(params):
    """torch's param groups (lists of the nested dict's leaves) and jaxdl's labels for the same leaves."""
    weights = [params["0"]["weight"], params["2"]["weight"]]
    biases = [params["0"]["bias"], params["2"]["bias"]]
    labels = {"0": {"weight": "a", "bias": "b"}, "2": {"weight": "a", "bias": "b"}}
    return weights, biases, labels


def run(name: str, kwargs: dict, steps: int = STEPS):
    """(jaxdl's, torch's) trajectories: (params after each step, every group's lr after each step; for a
    closure-step optimizer its counters instead, ``run_closure``)."""
    import torch  # noqa: PLC0415

    if name in CLOSURE_STEP:
        return run_closure(kwargs, steps)
    cls = getattr(torch.optim, name)
    make = getattr(optim, NAMES[name])
    env = Env("float64", torch, "cpu", seed=0)
    problem = P._problem(env)
    sign = -1.0 if kwargs.get("maximize") else 1.0
    lr = kwargs.get("lr", _default_lr(cls))
    half = float(lr) / 2
    mine_kw = {k: to_jaxdl(v) for k, v in kwargs.items()}
    _, _, labels = _groups_and_labels(P._nest(problem[0]))
    if name in TWO_D_ONLY:
        tx = optim.param_groups({"a": make(**mine_kw), "b": optax.set_to_zero()}, labels)

        def make_torch(p):
            return cls(_groups_and_labels(p)[0], **kwargs)
    else:
        tx = optim.param_groups({"a": make(**mine_kw), "b": make(**{**mine_kw, "lr": half})}, labels)

        def make_torch(p):
            weights, biases, _ = _groups_and_labels(p)
            return cls([{"params": weights}, {"params": biases, "lr": half}], **kwargs)

    with jax.enable_x64(True):
        mine = P.jax_trajectory(tx, env, problem, sign, steps=steps)
        mine = to_numpy(mine)
    ref = P.torch_trajectory(make_torch, env, problem, sign, steps=steps)
    return mine, to_numpy(ref)


def run_closure(kwargs: dict, steps: int = STEPS):
    """LBFGS's (jaxdl's, torch's) trajectories on the softmax regression: (params after each step,
    (n_iter, func_evals) after each step), from jaxdl/parity/_cases_lbfgs.py's side-by-side runner."""
    import torch  # noqa: PLC0415

    env = Env("float64", torch, "cpu", seed=0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # ~800 closure calls on 3×4 tensors: a thread pool's wake-ups cost 10× the work
    try:
        with jax.enable_x64(True):
            (comparison,) = L.softmax_case(env, [kwargs], steps)
    finally:
        torch.set_num_threads(threads)
    return comparison.values


def assert_same_trajectory(mine, ref, rtol: float = RTOL):
    """Every leaf's trajectory within rtol · max|torch's trajectory of that leaf|; the lrs likewise (integer
    counters: equal)."""
    (p_mine, lr_mine), (p_ref, lr_ref) = mine, ref
    for path, a in jax.tree_util.tree_leaves_with_path(p_mine):
        b = _at(p_ref, path)
        scale = max(float(np.max(np.abs(b))), 1e-300)
        err = float(np.max(np.abs(a - b)))
        assert a.shape == b.shape and err <= rtol * scale, (
            f"{jax.tree_util.keystr(path)}: max|jaxdl - torch| = {err:.3g} > {rtol} · {scale:.3g}; first step over: "
            f"{int(np.argmax(np.max(np.abs(a - b).reshape(len(a), -1), axis=1) > rtol * scale))}")
    np.testing.assert_allclose(np.asarray(lr_mine), np.asarray(lr_ref, dtype=np.float64), rtol=rtol, atol=0)


def _at(tree, path):
    for k in path:
        tree = tree[k.key]
    return tree


# --- error inputs ----------------------------------------------------------------------------------------------
def error_inputs(name: str):
    """(applies, why, params, kwargs, error_type, regex) for each of torch's ErrorOptimizerInputs of ``name``."""
    import torch  # noqa: PLC0415

    info = optim_db()[name]
    out = []
    for e in info.optim_error_inputs_func(device="cpu", dtype=torch.float64):
        oi = e.optimizer_error_input
        why = next((w for pat, w in NOT_APPLICABLE.items() if re.search(pat, e.error_regex)), None)
        params = oi.params
        plain = params is None or (isinstance(params, list) and all(type(p) is torch.Tensor for p in params))
        if why is None and not plain:
            why = "a params structure JAX has no counterpart of"
        if why is None and any(k in ("foreach", "fused", "capturable", "differentiable") for k in oi.kwargs):
            why = "no foreach/fused/capturable/differentiable implementations"
        out.append((why is None, why, params, oi.kwargs, e.error_type, e.error_regex))
    return out


def refuses(name: str, params, kwargs: dict, error_type, regex) -> str:
    """jaxdl's one-line refusal of torch's bad arguments (at construction, or at init for its params)."""
    make = getattr(optim, NAMES.get(name, name.lower()))
    try:
        tx = make(**{k: to_jaxdl(v) for k, v in kwargs.items()})
        if params is not None:
            tx.init([to_jaxdl(p) for p in params])
    except (ValueError, TypeError) as err:
        message = str(err)
    else:
        raise AssertionError(f"{name}({kwargs}) with params {params is not None} was accepted; torch: {regex}")
    assert "\n" not in message, f"a multi-line message: {message!r}"
    assert issubclass(error_type, ValueError) or error_type is RuntimeError, error_type
    return message

# torch's message -> the pattern of jaxdl's own words for the same refusal
REWORDED = {
    "Tensor lr must be 1-element": r"lr must be a number or a 0-d array",
}
