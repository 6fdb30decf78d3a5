"""Parity cases for composition and freezing: named Sequential, a custom module of named children (ModuleList,
ModuleDict, a shared BatchNorm) trained a few steps against torch's, and fine-tunes with frozen parameters.
"""
import dataclasses
from collections import OrderedDict

import jax.numpy as jnp

from jaxdl import nn, optim
from jaxdl.interop import flatten
from jaxdl.parity._cases_nn import _training_steps
from jaxdl.parity._cases_optim import _all, _cmp, _problem, jax_trajectory, torch_trajectory
from jaxdl.parity._core import register


def _named(nn_):
    return nn_.Sequential(OrderedDict([("first", nn_.Linear(5, 8)), ("norm", nn_.BatchNorm1d(8)), ("act", nn_.ReLU()),
                                       ("second", nn_.Linear(8, 3))]))


@dataclasses.dataclass(frozen=True)
class _Net(nn.Module):
    """fc1 → bn → blocks (tanh after each) → bn again (shared) → heads["a"] + heads["b"]."""

    fc1: nn.Linear = nn.Linear(5, 6)
    bn: nn.BatchNorm1d = nn.BatchNorm1d(6)
    blocks: nn.ModuleList = nn.ModuleList([nn.Linear(6, 6), nn.Sequential(nn.Linear(6, 6), nn.ReLU())])
    heads: nn.ModuleDict = nn.ModuleDict({"a": nn.Linear(6, 3), "b": nn.Linear(6, 3, bias=False)})

    def init(self, key, dtype=jnp.float32):
        return nn.init_children(self, key, dtype)

    def apply(self, params, state, x, *, training=False, key=None):
        m = nn.bind(self, params, state, training=training, key=key)
        h = m.bn(m.fc1(x))
        for block in m.blocks:
            h = jnp.tanh(block(h))
        h = m.bn(h)
        return m.heads["a"](h) + m.heads["b"](h), m.state


def _torch_net(torch):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.bn = torch.nn.Linear(5, 6), torch.nn.BatchNorm1d(6)
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(6, 6),
                                               torch.nn.Sequential(torch.nn.Linear(6, 6), torch.nn.ReLU())])
            self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(6, 3), "b": torch.nn.Linear(6, 3, bias=False)})

        def forward(self, x):
            h = self.bn(self.fc1(x))
            for block in self.blocks:
                h = torch.tanh(block(h))
            h = self.bn(h)
            return self.heads["a"](h) + self.heads["b"](h)

    return Net()


@register("nn.Sequential(OrderedDict) (train steps, eval)", "nn", mixed=True)
def _named_sequential(env):
    xs = [env.randn(6, 5) for _ in range(3)]
    return _training_steps(env, _named(nn), _named(env.torch.nn), xs, env.randn(4, 5))


@register("nn custom module: ModuleList, ModuleDict, shared BatchNorm (train steps, eval)", "nn")
def _custom_module(env):
    xs = [env.randn(6, 5) for _ in range(3)]
    return _training_steps(env, _Net(), _torch_net(env.torch), xs, env.randn(4, 5))  # torch seeded by run_case


@register("optim.freeze fine-tune (SGD momentum + weight decay, AdamW)", "optim")
def _freeze(env):
    """Torch: requires_grad_(False) on the frozen tensors, every tensor given to the optimizer (no grad: skipped)."""
    torch, problem = env.torch, _problem(env)
    params = {"0": {"weight": 0, "bias": 0}, "2": {"weight": 0, "bias": 0}}  # names only: freeze reads no values
    configs = [(["0"], optim.sgd(lr=0.1, momentum=0.9, weight_decay=0.1),
                lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1)),
               (["2.weight", "0.bias"], optim.adamw(lr=1e-2, weight_decay=0.5),
                lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.5))]
    out = []
    for names, tx, make in configs:
        def make_opt(p, names=names, make=make):
            for key, t in flatten(p).items():
                if any(key == n or key.startswith(n + ".") for n in names):
                    t.requires_grad_(False)
            return make(_all(p))

        mine = jax_trajectory(optim.freeze(tx, params, names), env, problem)
        out.append(_cmp((mine, torch_trajectory(make_opt, env, problem))))
    return out
