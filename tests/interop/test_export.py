"""convert_exported: torch modules with custom forwards, captured with torch.export and replayed with jaxdl's ops.

Values, parameter and input gradients and BatchNorm buffers are judged by the parity package's rules (float64:
rtol 1e-10; float32: torch's own rounding against torch-float64), through its ``run_case``/``compare_function``.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch import nn as tnn
from torch.nn import functional as tF

from jaxdl.interop import flatten, state_dict, unflatten
from jaxdl.interop._export import convert_exported
from jaxdl.parity._core import Case, compare_function, run_case


class ResidualMLP(tnn.Module):
    """A residual add, a functional relu, torch.cat, x.view, a GELU(tanh) head, sum/mean with dims."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = tnn.Linear(6, 6), tnn.Linear(6, 6)
        self.head = tnn.Linear(12, 3)
        self.scale = tnn.Parameter(torch.randn(6))

    def forward(self, x):
        h = tF.relu(self.fc1(x)) + x  # residual
        h = h + 0.5 * torch.tanh(self.fc2(h)) * self.scale
        z = torch.cat([h, h.view(h.size(0), 2, 3).transpose(1, 2).reshape(-1, 6)], dim=1)
        z = tF.gelu(self.head(z), approximate="tanh")
        return z - z.mean(dim=-1, keepdim=True) + z.sum(0) / 10


class Block(tnn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = tnn.Conv2d(c, c, 3, padding=1, bias=False), tnn.BatchNorm2d(c)
        self.conv2, self.bn2 = tnn.Conv2d(c, c, 3, padding=1, bias=False), tnn.BatchNorm2d(c)

    def forward(self, x):
        return tF.relu(self.bn2(self.conv2(tF.relu(self.bn1(self.conv1(x))))) + x)


class ResNet(tnn.Module):
    """Stem conv + BatchNorm, two residual blocks, max pooling, global average pooling, a linear head."""

    def __init__(self, c=4, classes=5):
        super().__init__()
        self.stem, self.bn = tnn.Conv2d(1, c, 3, padding=1), tnn.BatchNorm2d(c, momentum=0.2)
        self.blocks = tnn.Sequential(Block(c), Block(c))
        self.fc = tnn.Linear(c, classes)

    def forward(self, x):
        y = tF.max_pool2d(tF.relu(self.bn(self.stem(x))), 2)
        y = self.blocks(y)
        return self.fc(torch.flatten(tF.adaptive_avg_pool2d(y, 1), 1))


class Dropper(tnn.Module):
    def __init__(self):
        super().__init__()
        self.fc = tnn.Linear(8, 8)
        self.drop = tnn.Dropout(0.25)

    def forward(self, x):
        return tF.dropout(self.drop(self.fc(x)), 0.5, self.training)


class Kinks(tnn.Module):
    """abs, clamp, torch.where and max at their kinks and ties, where JAX's own gradients differ from torch's."""

    def forward(self, x):
        a = torch.clamp(x, -1.0, 1.0) + x.abs()
        b = torch.where(x > 0, x, 2 * x)
        return a * 2 + b + x.max(dim=1).values.unsqueeze(1) + torch.amax(x, dim=0)


def _case(make, x_shape, *, training, buffers=False):
    """A parity case: the module's outputs (and buffers after the call) and gradients w.r.t. the input and every
    parameter, torch's functional_call against the converted model's apply."""

    def fn(env):
        module = make()  # torch's RNG is seeded from the case name: the same weights in every dtype
        x = env.randn(*x_shape)
        params = [n for n, _ in module.named_parameters()]
        bufs = [n for n, _ in module.named_buffers()] if buffers else []
        sd = module.state_dict()
        arrays = [sd[n].detach().numpy().astype(env.np_dtype if sd[n].is_floating_point() else np.int64)
                  for n in [*params, *bufs]]
        module = module.to(env.torch_dtype).train(training)
        model, _, state = convert_exported(module, (torch.zeros(x_shape, dtype=env.torch_dtype),))

        def jax_fn(x, *leaves):
            p = unflatten(dict(zip(params, leaves[:len(params)])))
            s = unflatten({**flatten(state), **dict(zip(bufs, leaves[len(params):]))})
            y, new = model.apply(p, s, x, training=training)
            return (y, tuple(flatten(new)[n] for n in bufs)) if buffers else y

        def torch_fn(x, *leaves):
            tensors = dict(zip([*params, *bufs], leaves))
            y = torch.func.functional_call(module, tensors, (x,))  # updates the buffer tensors in place
            return (y, tuple(tensors[n] for n in bufs)) if buffers else y

        return compare_function(env, jax_fn, torch_fn, [x, *arrays], diff_argnums=range(len(params) + 1),
                                grad_output=(lambda out: out[0]) if buffers else (lambda out: out))

    return fn


CASES = [
    Case("export/ResidualMLP eval", "interop", _case(ResidualMLP, (4, 6), training=False)),
    Case("export/ResNet train (BatchNorm statistics)", "interop",
         _case(ResNet, (4, 1, 8, 8), training=True, buffers=True)),
    Case("export/ResNet eval", "interop", _case(ResNet, (3, 1, 8, 8), training=False)),
    Case("export/kinks and ties", "interop", _case(Kinks, (3, 4), training=False)),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_matches_torch(case, dtype):
    result = run_case(case, dtype, raise_errors=True)
    assert result.passed, result


def test_kinks_take_torchs_gradient():
    """The inputs sit on the kinks (0 for abs, ±1 for clamp, ties for max): torch's gradient there, exactly."""
    x = torch.tensor([[0.0, 1.0, -1.0, 1.0], [2.0, 2.0, 0.0, -3.0]], dtype=torch.float64, requires_grad=True)
    Kinks()(x).sum().backward()
    with jax.enable_x64(True):
        model, params, state = convert_exported(Kinks(), (x.detach(),))
        g = jax.grad(lambda v: jnp.sum(model.apply(params, state, v)[0]))(jnp.asarray(x.detach().numpy()))
    np.testing.assert_array_equal(np.asarray(g), x.grad.numpy())


def test_training_call_updates_running_stats_as_torch():
    torch.manual_seed(0)
    module = ResNet()
    x = torch.randn(6, 1, 8, 8)
    model, params, state = convert_exported(module, (x,))
    _, new_state = jax.jit(lambda p, s, v: model.apply(p, s, v, training=True))(params, state, jnp.asarray(x.numpy()))
    module.train()(x)
    assert int(new_state["bn"]["num_batches_tracked"]) == 1
    for name, value in module.state_dict().items():
        if name in flatten(new_state):
            np.testing.assert_allclose(flatten(new_state)[name], value.numpy(), rtol=1e-5, atol=1e-6)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(params, new_state).items()}, strict=True)


def test_another_batch_size_and_static_fallback():
    torch.manual_seed(0)
    module = ResNet().eval()
    model, params, state = convert_exported(module, (torch.randn(4, 1, 8, 8),))
    x = torch.randn(7, 1, 8, 8)
    y, _ = model.apply(params, state, jnp.asarray(x.numpy()))
    np.testing.assert_allclose(np.asarray(y), module(x).detach().numpy(), rtol=1e-5, atol=1e-6)

    class Fixed(tnn.Module):  # the forward fixes the batch: exported statically, another batch says so
        def forward(self, x):
            return x.view(4, -1).sum(1)

    fixed, p, s = convert_exported(Fixed(), (torch.randn(4, 3),))
    assert fixed.apply(p, s, jnp.ones((4, 3)))[0].shape == (4,)
    with pytest.raises(ValueError, match=r"expects \(4, 3\).*re-export"):
        fixed.apply(p, s, jnp.ones((5, 3)))


def test_dropout_masks_follow_the_key():
    torch.manual_seed(0)
    module = Dropper()
    model, params, state = convert_exported(module, (torch.randn(4, 8),))
    apply = jax.jit(lambda k, v: model.apply(params, state, v, training=True, key=k)[0])
    x = jnp.ones((4000, 8))
    ones = model.apply(params, state, x)[0]  # eval: both dropouts are the identity, as torch's
    np.testing.assert_allclose(np.asarray(ones), module.eval()(torch.ones(4000, 8)).detach().numpy(), rtol=1e-6)
    a, b, c = apply(jax.random.key(1), x), apply(jax.random.key(1), x), apply(jax.random.key(2), x)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    kept = np.asarray(a) != 0
    # two independent masks (0.25 then 0.5: a key split per random op): keep rate 0.75·0.5, survivors scaled
    # by 1/0.75·1/0.5, so the expectation is the eval output
    assert abs(kept.mean() - 0.375) < 5 * np.sqrt(0.375 * 0.625 / kept.size)
    np.testing.assert_allclose(np.asarray(a)[kept], (np.asarray(ones) / 0.375)[kept], rtol=1e-5)
    assert abs(float(np.asarray(a).mean() / np.asarray(ones).mean()) - 1) < 0.05
    with pytest.raises(ValueError, match="key"):
        model.apply(params, state, x, training=True)


def test_under_grad_vmap_and_scan():
    torch.manual_seed(0)
    module = ResNet()
    model, params, state = convert_exported(module, (torch.randn(4, 1, 8, 8),))
    xs = jax.random.normal(jax.random.key(0), (3, 4, 1, 8, 8))

    def loss(p, s, x):
        y, s = model.apply(p, s, x, training=True)
        return jnp.mean(y ** 2), s

    def step(carry, x):  # three training steps: the running statistics carry through lax.scan
        p, s = carry
        g, s = jax.grad(loss, has_aux=True)(p, s, x)
        return (jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g), s), None

    (p, s), _ = jax.jit(lambda c: jax.lax.scan(step, c, xs))((params, state))
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    for x in xs:
        opt.zero_grad()
        module.train()(torch.from_numpy(np.array(x))).pow(2).mean().backward()
        opt.step()
    got = state_dict(p, s)
    assert int(got["bn.num_batches_tracked"]) == 3
    for name, value in module.state_dict().items():
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    ys = jax.vmap(lambda x: model.apply(params, state, x)[0])(xs)  # a stack of batches
    np.testing.assert_allclose(np.asarray(ys[1]), np.asarray(model.apply(params, state, xs[1])[0]), rtol=1e-6)


def test_unsupported_op_names_it_and_its_submodule():
    class Bessel(tnn.Module):
        def forward(self, x):
            return torch.special.bessel_j0(x)

    class Outer(tnn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.odd = tnn.Linear(3, 3), Bessel()

        def forward(self, x):
            return self.odd(self.fc(x))

    with pytest.raises(NotImplementedError, match=r"aten\.special_bessel_j0\.default \(called in submodule 'odd' "
                                                  r"\(.*Bessel\)\)"):
        convert_exported(Outer(), (torch.randn(2, 3),))


def test_spec_is_hashable_holds_no_arrays_and_round_trips_to_torch():
    torch.manual_seed(0)
    module = ResidualMLP()
    model, params, state = convert_exported(module, (torch.randn(2, 6),))
    again, _, _ = convert_exported(module, (torch.randn(2, 6),))
    assert hash(model) == hash(again) and model == again  # one jit compilation for both
    assert not any(isinstance(v, jax.Array) for v in jax.tree_util.tree_leaves(model))
    shapes = jax.eval_shape(model.init, jax.random.key(0))
    assert jax.tree_util.tree_map(jnp.shape, shapes) == jax.tree_util.tree_map(jnp.shape, (params, state))
    fresh = ResidualMLP()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(params, state).items()}, strict=True)
    x = torch.randn(5, 6)
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(x.numpy()))[0]),
                               fresh(x).detach().numpy(), rtol=1e-5, atol=1e-6)
