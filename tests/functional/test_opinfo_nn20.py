"""torch's own OpInfo samples (op_db) for the functional names of issue 20's items 3-4, against torch.

Every sample of each op, in float64 and float32 (judged by the parity rule, jaxdl.parity), values and the gradient
of every float input; and the op's int64 samples where torch supports int64 (values, exactly). A sample whose
result is random in torch (training dropout with 0 < p < 1, rrelu in training) is left to the statistical tests
in test_activation_nn20.py. CI runs every 8th sample of each op; ``pytest --parity-all`` runs them all.
"""
import functools
import sys
import types
import unittest
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F
from jaxdl import parity

KEY_OPS = {"nn.functional.rrelu", "nn.functional.dropout3d", "nn.functional.alpha_dropout",
           "nn.functional.feature_alpha_dropout"}
OPS = {"nn.functional.threshold": F.threshold, "nn.functional.hardshrink": F.hardshrink,
       "nn.functional.softshrink": F.softshrink, "nn.functional.tanhshrink": F.tanhshrink,
       "nn.functional.rrelu": F.rrelu, "nn.functional.softmin": F.softmin,
       "nn.functional.dropout3d": F.dropout3d, "nn.functional.alpha_dropout": F.alpha_dropout,
       "nn.functional.feature_alpha_dropout": F.feature_alpha_dropout,
       "nn.functional.local_response_norm": F.local_response_norm, "nn.functional.pdist": F.pdist}
DEFAULT_TRAINING = {"nn.functional.dropout3d": True}


@functools.cache
def _op_db():
    """op_db's entries for OPS. torch's testing package imports expecttest and hypothesis, test-only dependencies
    of torch (a stand-in for the first, hypothesis's ImportWarning silenced); it is imported on first use, not at
    collection."""
    if "expecttest" not in sys.modules:
        try:
            import expecttest  # noqa: F401
        except ImportError:
            sys.modules["expecttest"] = types.SimpleNamespace(TestCase=unittest.TestCase)
    import torch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db

    torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
    return {(op.name, op.variant_test_name): op for op in op_db if op.name in OPS}


def _samples(op, dtype_name):
    import torch
    return list(op.sample_inputs("cpu", getattr(torch, dtype_name), requires_grad=False))


def _is_random(name, sample) -> bool:
    kw = sample.kwargs
    if sample.input.numel() == 0:
        return False
    if name == "nn.functional.rrelu":
        return kw.get("training", False) and kw.get("lower", 1 / 8) != kw.get("upper", 1 / 3)
    if name in KEY_OPS:
        return kw.get("training", DEFAULT_TRAINING.get(name, False)) and kw.get("p", 0.5) not in (0.0, 1.0)
    return False


def _convert(tree, to):
    return jax.tree_util.tree_map(lambda x: to(x) if hasattr(x, "detach") else x, tree)


def _jax_kwargs(kwargs):
    import torch
    return {k: (jnp.dtype(str(v).removeprefix("torch.")) if isinstance(v, torch.dtype) else v)
            for k, v in kwargs.items()}


def _case(name, variant, index):
    op, fn = _op_db()[(name, variant)], OPS[name]

    def run(env):
        s = _samples(op, "float64")[index]
        x = s.input.detach().numpy().astype(env.np_dtype)
        tkwargs = dict(s.kwargs)
        if "dtype" in tkwargs:  # the with_dtype variants ask for the dtype under test
            tkwargs["dtype"] = env.torch_dtype
        kwargs = _jax_kwargs(tkwargs)
        if name in KEY_OPS:
            kwargs["key"] = jax.random.key(0)
        grad = x.size > 0 and op.supports_autograd
        return parity.compare_function(env, lambda a: fn(a, *s.args, **kwargs),
                                       lambda a: op.op(a, *s.args, **tkwargs), [x],
                                       diff_argnums=(0,) if grad else ())

    return parity.Case(f"OpInfo {name} {variant} #{index}", "opinfo", run)


VARIANTS = [(name, "") for name in OPS] + [("nn.functional.softmin", "with_dtype"),
                                             ("nn.functional.feature_alpha_dropout", "with_train"),
                                             ("nn.functional.feature_alpha_dropout", "without_train")]
VARIANTS.remove(("nn.functional.feature_alpha_dropout", ""))


def _in_run(request, index: int) -> bool:
    """CI runs every 8th sample of each op (the first included); pytest --parity-all runs them all."""
    return request.config.getoption("--parity-all") or index % 8 == 0


@pytest.mark.parametrize("dtype", parity.DTYPES)
@pytest.mark.parametrize("name,variant", VARIANTS)
def test_opinfo_samples(name, variant, dtype, request):
    op = _op_db()[(name, variant)]
    failed, run = [], 0
    for index, sample in enumerate(_samples(op, "float64")):
        if _is_random(name, sample) or not _in_run(request, index):
            continue
        result = parity.run_case(_case(name, variant, index), dtype)
        run += 1
        if not result.passed:
            failed.append(parity.format_table([result]) + (result.error or ""))
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("name,variant", VARIANTS)
def test_opinfo_int64_samples(name, variant, request):
    import torch
    op = _op_db()[(name, variant)]
    if not op.supports_dtype(torch.int64, "cpu"):
        pytest.skip(f"torch's {name} does not take int64")
    for index, s in enumerate(_samples(op, "int64")):
        if _is_random(name, s) or not _in_run(request, index):
            continue
        expected = op.op(s.input, *s.args, **s.kwargs)
        kwargs = _jax_kwargs(s.kwargs)
        if name in KEY_OPS:
            kwargs["key"] = jax.random.key(0)
        with jax.enable_x64(True):
            got = OPS[name](jnp.asarray(s.input.numpy()), *s.args, **kwargs)
            assert str(got.dtype) == str(expected.dtype).removeprefix("torch."), (index, got.dtype, expected.dtype)
        np.testing.assert_allclose(np.asarray(got), expected.numpy(), rtol=1e-6, err_msg=f"sample {index}")
