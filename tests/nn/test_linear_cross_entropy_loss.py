"""nn.LinearCrossEntropyLoss against torch.nn.LinearCrossEntropyLoss: state_dict names (linear.weight, linear.bias,
the class-weight buffer), values and gradients w.r.t. input and parameters in float64 and float32 (parity rule),
constructor errors. torch's module_db samples run through ``python -m jaxdl.parity._module_db
LinearCrossEntropyLoss`` (tests/test_module_db.py)."""
import jax
import numpy as np
import pytest
import torch

from jaxdl import nn, parity
from jaxdl.interop import flatten
from jaxdl.parity._core import Case
from jaxdl.parity._module_db import compare_module

CONFIGS = [  # (constructor kwargs, batch dims, index target?)
    (dict(out_features=(), bias=True, reduction="mean"), (6,), True),
    (dict(out_features=(3, 2), bias=True, reduction="none", ignore_index=1, label_smoothing=0.1,
          weight=[0.5, 1.0, 2.0, 1.5]), (5,), True),
    (dict(out_features=(2,), reduction="sum", weight=[1.0, 2.0, 0.5, 1.0]), (3,), False),
]


def _case(kwargs, batch, index_target):
    def fn(env):
        env.torch.manual_seed(0)
        tkwargs = {**kwargs, "weight": None if "weight" not in kwargs else torch.tensor(kwargs["weight"])}
        tm = env.torch.nn.LinearCrossEntropyLoss(5, 4, **tkwargs)
        jm = nn.LinearCrossEntropyLoss(5, 4, **kwargs)
        x = env.randn(*batch, 5)
        of = kwargs.get("out_features", ())
        if index_target:
            t = env.torch.as_tensor(env.randint(0, 4, (*batch, *of)))
        else:
            t = env.torch.softmax(env.torch.as_tensor(env.randn(*batch, 4, *of)), dim=1)
        return compare_module(env, tm, jm, (env.torch.as_tensor(x), t), constant=(1,))
    return fn


CASES = [Case(f"LinearCrossEntropyLoss #{i}", "linear_cross_entropy", _case(*c)) for i, c in enumerate(CONFIGS)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=[c.name.removeprefix("LinearCrossEntropyLoss ") for c in CASES])
def test_equals_torch(case, dtype):
    result = parity.run_case(case, dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


def test_state_dict_names_are_torchs():
    tm = torch.nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), bias=True, weight=torch.ones(4))
    params, state = nn.LinearCrossEntropyLoss(5, 4, out_features=(3,), bias=True, weight=np.ones(4)).init(
        jax.random.key(0))
    assert {k: v.shape for k, v in {**flatten(params), **flatten(state)}.items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert hash(nn.LinearCrossEntropyLoss(5, 4, weight=np.ones(4)))  # the class weight is frozen, not an array


@pytest.mark.parametrize("kwargs,match", [
    (dict(weight=np.ones(3)), "expected weight shape"),
    (dict(label_smoothing=1.5), "label_smoothing"),
    (dict(reduction="max"), "reduction"),
])
def test_constructor_errors_are_torchs(kwargs, match):
    with pytest.raises(RuntimeError if "reduction" not in kwargs else ValueError):
        torch.nn.LinearCrossEntropyLoss(5, 4, **{k: torch.tensor(v) if k == "weight" else v
                                                 for k, v in kwargs.items()})(torch.zeros(2, 5), torch.zeros(2).long())
    with pytest.raises(ValueError, match=match):
        nn.LinearCrossEntropyLoss(5, 4, **kwargs)


def test_options_are_refused_as_f_linear_cross_entropy_refuses_them():
    with pytest.raises(ValueError, match="options"):
        nn.LinearCrossEntropyLoss(5, 4, options=torch.nn.LinearCrossEntropyOptions())
