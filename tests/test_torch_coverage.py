"""jaxdl.functional.__all__ and jaxdl.nn.__all__ cover torch's torch.nn.functional and torch.nn (torch 2.13).

Every public callable of torch.nn.functional and every torch.nn.Module subclass torch.nn exports is either in
jaxdl's ``__all__`` (in-place spellings such as ``relu_`` included: they are there and refuse in one line) or
in NOT_PROVIDED below with the reason. A name that jaxdl gains must leave the table (the test says so), and a
name torch adds fails here until it is built or listed.
"""
import inspect

import pytest

torch = pytest.importorskip("torch")
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as TF  # noqa: E402

from jaxdl import functional as F  # noqa: E402
from jaxdl import nn  # noqa: E402

_TYPING = "a typing name torch.nn.functional imports, not an op"
_DISPATCH = "torch's __torch_function__ dispatch machinery, not an op (jaxdl has no tensor subclasses)"
_LOW_PRECISION_GPU = ("a CUDA-only low-precision (float8 / MX) grouped or scaled matmul: torch's CPU build "
                      "has no kernel for it, so there is nothing here to be equal to")

NOT_PROVIDED_F = {
    "Callable": _TYPING, "DType": _TYPING, "Optional": _TYPING, "Tensor": _TYPING,
    "ScalingType": _TYPING, "SwizzleType": _TYPING,
    "handle_torch_function": _DISPATCH, "has_torch_function": _DISPATCH,
    "has_torch_function_unary": _DISPATCH, "has_torch_function_variadic": _DISPATCH,
    "boolean_dispatch": "torch's internal helper that builds max_pool*'s return_indices variants; jaxdl's "
                        "functions take return_indices directly",
    "assert_int_or_pair": "torch's internal argument check (jaxdl.checks holds jaxdl's)",
    "grouped_mm": _LOW_PRECISION_GPU, "scaled_mm": _LOW_PRECISION_GPU, "scaled_grouped_mm": _LOW_PRECISION_GPU,
}

NOT_PROVIDED_NN = {
    "Container": "deprecated since torch 0.4 (its constructor warns); Sequential, ModuleList and ModuleDict "
                 "are the containers",
    "RNNBase": "torch's shared base of RNN, LSTM and GRU, not a layer a model names (nn.RNN/LSTM/GRU are)",
    "RNNCellBase": "torch's shared base of the three cells, not a layer a model names",
}


def _torch_functional_names():
    return sorted(n for n in dir(TF) if not n.startswith("_") and callable(getattr(TF, n))
                  and not inspect.ismodule(getattr(TF, n)))


def _torch_module_names():
    return sorted(n for n in dir(tnn) if not n.startswith("_") and inspect.isclass(getattr(tnn, n))
                  and issubclass(getattr(tnn, n), tnn.Module))


@pytest.mark.parametrize("torch_names,ours,not_provided", [
    (_torch_functional_names, F, NOT_PROVIDED_F),
    (_torch_module_names, nn, NOT_PROVIDED_NN),
], ids=["functional", "nn"])
def test_all_covers_torch(torch_names, ours, not_provided):
    names = torch_names()
    missing = [n for n in names if n not in ours.__all__ and n not in not_provided]
    assert not missing, f"{len(missing)} torch names neither in jaxdl's __all__ nor listed with a reason: {missing}"
    stale = [n for n in not_provided if n in ours.__all__ or n not in names]
    assert not stale, f"listed as not provided, but jaxdl has them or torch does not: {stale}"
    absent = [n for n in ours.__all__ if not hasattr(ours, n)]
    assert not absent, f"in __all__ but not defined: {absent}"
