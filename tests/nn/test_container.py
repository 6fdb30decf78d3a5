"""Sequential(OrderedDict), ModuleList, ModuleDict and custom modules of named children, against torch's."""
import dataclasses
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import interop, nn
from jaxdl.parity._cases_compose import _Net, _torch_net
from tests.helpers import assert_close


def _named(nn_):
    return nn_.Sequential(OrderedDict([("first", nn_.Linear(2, 5)), ("norm", nn_.BatchNorm1d(5)),
                                       ("act", nn_.ReLU()), ("second", nn_.Linear(5, 3))]))


def _same_keys(jm, tm, key):
    params, state = jm.init(key)
    assert list(interop.flatten(params)) == [k for k, _ in tm.named_parameters()]
    assert list(interop.flatten(state)) == [k for k, _ in tm.named_buffers()]
    shapes = {k: tuple(v.shape) for k, v in {**interop.flatten(params), **interop.flatten(state)}.items()}
    assert shapes == {k: tuple(v.shape) for k, v in tm.state_dict().items()}


@pytest.mark.parametrize("make", [lambda: (_named(nn), _named(torch.nn)), lambda: (_Net(), _torch_net(torch))])
def test_state_dict_round_trip_and_forward_as_torch(make, key):
    torch.manual_seed(0)
    jm, tm = make()
    _same_keys(jm, tm, key)
    x = np.random.default_rng(0).standard_normal((6, 2 if isinstance(jm, nn.Sequential) else 5)).astype(np.float32)
    params, state = interop.load_state_dict(jm, tm.state_dict())
    y, new_state = jax.jit(lambda p, s, x: jm.apply(p, s, x, training=True))(params, state, x)
    ty = tm.train()(torch.from_numpy(x))
    assert_close(y, ty.detach())
    sd = interop.state_dict(params, new_state, module=jm)
    assert list(sd) == list(tm.state_dict())
    assert_close({k: np.asarray(v, np.float64) for k, v in sd.items()},
                 {k: v.double().numpy() for k, v in tm.state_dict().items()}, dtype="float32")
    fresh = make()[1]
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})  # torch takes it back, strictly


def test_gradients_through_children_as_torch(x64):
    torch.manual_seed(0)
    tm = _torch_net(torch).double().train()  # float64: two BatchNorms of 5 rows amplify float32 rounding
    jm = _Net()
    params, state = interop.load_state_dict(jm, tm.state_dict())
    x = np.random.default_rng(1).standard_normal((5, 5))
    grads = jax.grad(lambda p: jm.apply(p, state, x, training=True)[0].sum())(params)
    tm(torch.from_numpy(x)).sum().backward()
    assert_close(interop.flatten(grads), {k: p.grad for k, p in tm.named_parameters()})


def test_shared_child_threads_its_state(key):
    params, state = _Net().init(key)
    _, new = _Net().apply(params, state, jnp.ones((4, 5)), training=True)
    assert int(new["bn"]["num_batches_tracked"]) == 2  # bn ran twice, as TorchNet's self.bn
    assert new["fc1"] == {} and new["blocks"]["1"] == {"0": {}, "1": {}}


def test_sequential_like_torch():
    seq, tseq = _named(nn), _named(torch.nn)
    assert len(seq) == len(tseq) == 4
    assert [type(m).__name__ for m in seq] == [type(m).__name__ for m in tseq]
    assert seq[-1] == seq.second == nn.Linear(5, 3) and seq[1] == seq.norm
    assert seq[1:3].names == tuple(tseq[1:3]._modules) == ("norm", "act")  # slices keep the names
    assert (seq + seq[:1]).names == tuple((tseq + tseq[:1])._modules) == ("0", "1", "2", "3", "4")
    assert seq.append(nn.Tanh()).names[-1] == "4"
    with pytest.raises(IndexError, match="out of range"):
        seq[4]
    with pytest.raises(AttributeError, match="children"):
        seq.third
    with pytest.raises(TypeError, match="frozen"):
        seq[0] = nn.ReLU()
    assert hash(seq) == hash(_named(nn)) and seq == _named(nn)  # a static jit argument


def test_add_module_returns_a_new_sequential():
    seq = nn.Sequential()
    grown = seq.add_module("first", nn.Linear(2, 5)).add_module("second", nn.ReLU())
    assert len(seq) == 0 and grown.names == ("first", "second")
    tseq = torch.nn.Sequential()
    tseq.add_module("first", torch.nn.Linear(2, 5))
    tseq.add_module("second", torch.nn.ReLU())
    tseq.add_module("first", torch.nn.Linear(2, 4))  # torch replaces in place, keeping the position
    replaced = grown.add_module("first", nn.Linear(2, 4))
    assert replaced.names == tuple(tseq._modules) and replaced.first == nn.Linear(2, 4)


@pytest.mark.parametrize("name", ["a.b", "", "apply", 3])
def test_bad_names_raise_as_torch(name):
    with pytest.raises((KeyError, TypeError)) as ref:
        torch.nn.Sequential().add_module(name, torch.nn.ReLU())
    with pytest.raises(type(ref.value)) as mine:
        nn.Sequential().add_module(name, nn.ReLU())
    assert str(ref.value) in str(mine.value)


def test_non_modules_raise():
    with pytest.raises(TypeError, match="jaxdl.nn module"):
        nn.Sequential(nn.ReLU(), torch.nn.ReLU())
    with pytest.raises(TypeError, match="OrderedDict"):
        nn.Sequential({"first": nn.ReLU()})
    with pytest.raises(ValueError, match="pair"):
        nn.ModuleDict([nn.ReLU()])


def test_module_list():
    lst = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    tlst = torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.ReLU()])
    _same_keys(lst, tlst, jax.random.key(0))
    assert lst[1:].names == tuple(tlst[1:]._modules) == ("0",)  # torch renumbers a slice
    grown = lst.append(nn.Tanh()).insert(0, nn.Identity())
    assert len(lst) == 2 and [type(m).__name__ for m in grown] == ["Identity", "Linear", "ReLU", "Tanh"]
    assert grown.names == ("0", "1", "2", "3") and len(lst.extend([nn.ReLU()] * 2)) == 4
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        lst.apply({}, {}, jnp.ones(2))


def test_module_dict():
    d = nn.ModuleDict({"b": nn.Linear(2, 2), "a": nn.ReLU()})
    td = torch.nn.ModuleDict({"b": torch.nn.Linear(2, 2), "a": torch.nn.ReLU()})
    _same_keys(d, td, jax.random.key(0))
    assert list(d) == list(td) == ["b", "a"] and "a" in d and "c" not in d
    new = d.update([("c", nn.Tanh()), ("b", nn.Linear(2, 3))])
    td.update([("c", torch.nn.Tanh()), ("b", torch.nn.Linear(2, 3))])
    assert new.keys() == tuple(td.keys()) and new["b"] == nn.Linear(2, 3) and d["b"] == nn.Linear(2, 2)
    assert dict(new.items())["c"] == nn.Tanh() and len(new.values()) == 3
    with pytest.raises(KeyError, match="children"):
        d["c"]
    with pytest.raises(NotImplementedError):
        d.apply({}, {}, jnp.ones(2))


def test_children_get_their_own_keys(key):
    @dataclasses.dataclass(frozen=True)
    class Twice(nn.Module):
        drop: nn.Dropout
        other: nn.Dropout

        def apply(self, params, state, x, *, training=False, key=None):
            m = nn.bind(self, params, state, training=training, key=key)
            return jnp.stack([m.drop(x), m.drop(x), m.other(x)]), m.state

    model = Twice(nn.Dropout(0.5), nn.Dropout(0.5))
    params, state = nn.init_children(model, key)
    masks, _ = model.apply(params, state, jnp.ones(1000), training=True, key=key)
    assert len({tuple(np.asarray(mk > 0)) for mk in masks}) == 3  # two calls of one child and a sibling differ
    assert nn.named_children(model) == (("drop", nn.Dropout(0.5)), ("other", nn.Dropout(0.5)))
    assert nn.named_children(nn.Linear(2, 2)) == ()
    with pytest.raises(AttributeError, match="no child 'third'"):
        nn.bind(model, params, state).third


def test_readme_composing_modules_runs():
    import pathlib
    import re

    text = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("## Composing modules", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```py\n(.*?)\n```", section, flags=re.S)
    assert len(blocks) == 2
    namespace = {"jax": jax, "jnp": jnp, "nn": nn}  # the tour's imports
    exec("\n".join(blocks), namespace)  # noqa: S102  (the README's own snippets)
    assert list(interop.flatten(namespace["params"])) == ["first.weight", "first.bias", "second.weight", "second.bias"]
    net = namespace["Net"](nn.Linear(2, 4), nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 3)]))
    params, state = net.init(jax.random.key(0))
    assert list(interop.flatten(params))[:3] == ["fc1.weight", "fc1.bias", "blocks.0.weight"]
    assert net.apply(params, state, jnp.ones((5, 2)))[0].shape == (5, 3)
