"""nn.ParameterList / nn.ParameterDict against torch.nn.ParameterList / ParameterDict: state_dict names (alone and
nested in ModuleDict, ModuleList and a custom module), loading torch's values with jaxdl.interop, jit and grad."""
import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.interop import flatten, load_state_dict, state_dict


def _torch_list():
    torch.manual_seed(0)
    return torch.nn.ParameterList([torch.nn.Parameter(torch.randn(3)), torch.nn.Parameter(torch.randn(2, 4))])


def _torch_dict():
    torch.manual_seed(0)
    return torch.nn.ParameterDict({"scale": torch.nn.Parameter(torch.randn(4)),
                                   "table": torch.nn.Parameter(torch.randn(3, 2))})


def _numpy(sd):
    return {k: v.detach().numpy() for k, v in sd.items()}


@pytest.mark.parametrize("tm,jm", [
    (_torch_list, lambda: nn.ParameterList([(3,), ((2, 4), functools.partial(nn.init.normal_, std=0.02))])),
    (_torch_dict, lambda: nn.ParameterDict({"scale": 4, "table": jax.ShapeDtypeStruct((3, 2), jnp.float32)})),
], ids=["list", "dict"])
def test_state_dict_names_and_loading_are_torchs(tm, jm):
    tm, jm = tm(), jm()
    params, state = jm.init(jax.random.key(0))
    assert {k: v.shape for k, v in flatten(params).items()} == {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert list(flatten(params)) == list(tm.state_dict())  # names and order
    loaded, _ = load_state_dict(jm, _numpy(tm.state_dict()))
    for k, v in state_dict(loaded).items():
        np.testing.assert_array_equal(v, tm.state_dict()[k].numpy())


def test_from_values_holds_the_given_values_as_torch_holds_its_tensors():
    tl, td = _torch_list(), _torch_dict()
    spec, params = nn.ParameterList.from_values(list(tl))
    assert len(spec) == 2 and spec[1].shape == (2, 4) and spec == nn.ParameterList(
        [jax.ShapeDtypeStruct((3,), jnp.float32), jax.ShapeDtypeStruct((2, 4), jnp.float32)])
    assert hash(spec) == hash(nn.ParameterList(list(spec)))
    for k, v in flatten(params).items():
        np.testing.assert_array_equal(v, tl.state_dict()[k].numpy())
    spec, params = nn.ParameterDict.from_values({k: v.detach().numpy() for k, v in td.items()})
    assert list(spec.keys()) == list(td.keys()) and "scale" in spec
    for k, v in flatten(params).items():
        np.testing.assert_array_equal(v, td.state_dict()[k].numpy())


def test_nested_names_are_torchs():
    tm = torch.nn.ModuleDict({"lin": torch.nn.Linear(2, 3), "pd": _torch_dict(),
                              "ml": torch.nn.ModuleList([_torch_list()])})
    jm = nn.ModuleDict({"lin": nn.Linear(2, 3), "pd": nn.ParameterDict({"scale": 4, "table": (3, 2)}),
                        "ml": nn.ModuleList([nn.ParameterList([3, (2, 4)])])})
    params, _ = jm.init(jax.random.key(0))
    assert list(flatten(params)) == list(tm.state_dict())
    loaded, _ = load_state_dict(jm, _numpy(tm.state_dict()))
    np.testing.assert_array_equal(loaded["ml"]["0"]["1"], tm.ml[0][1].detach().numpy())


@dataclasses.dataclass(frozen=True)
class _Scaled(nn.Module):
    """y = x · scales[0] + shift["b"]: a custom module holding the containers as fields."""

    scales: nn.ParameterList = dataclasses.field(default_factory=lambda: nn.ParameterList([(3,)]))
    shift: nn.ParameterDict = dataclasses.field(default_factory=lambda: nn.ParameterDict({"b": (3,)}))

    def apply(self, params, state, x, *, training=False, key=None):
        return x * params["scales"]["0"][None] + params["shift"]["b"][None], state


class _TorchScaled(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = torch.nn.ParameterList([torch.nn.Parameter(torch.randn(3))])
        self.shift = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.randn(3))})

    def forward(self, x):
        return x * self.scales[0] + self.shift["b"]


def test_jit_and_grad_equal_torch_in_a_custom_module(x64):
    torch.manual_seed(1)
    tm, jm = _TorchScaled().double(), _Scaled()
    params, state = load_state_dict(jm, _numpy(tm.state_dict()))
    x = np.random.default_rng(0).standard_normal((5, 3))
    tx = torch.tensor(x)
    tm(tx).square().sum().backward()
    loss = jax.jit(lambda p: jnp.sum(jm.apply(p, state, jnp.asarray(x))[0] ** 2))
    grads = flatten(jax.grad(loss)(params))
    for name, p in tm.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-10)
    assert list(grads) == [n for n, _ in tm.named_parameters()]


def test_specs_stay_hashable_and_hold_no_arrays():
    pl = nn.ParameterList([3, ((2, 2), nn.init.ones_)])
    assert hash(pl) == hash(nn.ParameterList([3, ((2, 2), nn.init.ones_)]))
    assert pl.append(4)[2].shape == (4,) and len(pl) == 2  # append: a new list
    np.testing.assert_array_equal(pl.init(jax.random.key(0))[0]["1"], np.ones((2, 2)))
    with pytest.raises(TypeError, match="holds no arrays"):
        nn.ParameterList([jnp.zeros(3)])
    with pytest.raises(KeyError, match="without '.'"):
        nn.ParameterDict({"a.b": 3})
    with pytest.raises(TypeError, match="no forward"):
        pl.apply({}, {}, jnp.zeros(3))
    assert nn.ParameterDict({"a": 3}).update({"b": 2}).keys() == ("a", "b")
