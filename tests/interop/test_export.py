"""convert_exported: torch modules with custom forwards, captured with torch.export and replayed with jaxdl's ops.

Values, parameter and input gradients and BatchNorm buffers are judged by the parity package's rules (float64:
rtol 1e-10; float32: torch's own rounding against torch-float64), through its ``run_case``/``compare_function``.
"""
import importlib.util
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from torch import nn as tnn
from torch.nn import functional as tF

from jaxdl.interop import from_export as convert_exported
from jaxdl.interop import state_dict
from jaxdl.parity._core import Case, run_case
from tests.interop.exported import case, convert, each_case, fit_like_torch_and_resume, spec

ROOT = pathlib.Path(__file__).parents[2]


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


# the residual block of examples/resnet_from_torch.py (the README's), loaded as tests/test_autograd_examples.py does
_spec = importlib.util.spec_from_file_location("resnet_from_torch", ROOT / "examples" / "resnet_from_torch.py")
resnet_from_torch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(resnet_from_torch)
Block = resnet_from_torch.Block


class ResNet(tnn.Module):
    """Stem conv (with a bias) + BatchNorm (momentum 0.2), two of the example's residual blocks, max pooling, global
    average pooling, a linear head: the example's model with the pools and BatchNorm momentum it lacks."""

    def __init__(self, c=4, classes=5):
        super().__init__()
        self.stem, self.bn = tnn.Conv2d(1, c, 3, padding=1), tnn.BatchNorm2d(c, momentum=0.2)
        self.blocks = tnn.Sequential(Block(c), Block(c))
        self.fc = tnn.Linear(c, classes)

    def forward(self, x):
        y = tF.max_pool2d(tF.relu(self.bn(self.stem(x))), 2)
        y = self.blocks(y)
        return self.fc(torch.flatten(tF.adaptive_avg_pool2d(y, 1), 1))


class NormMLP(tnn.Module):
    """The lecture MLP's shape: Linear, BatchNorm1d, ReLU, Linear, with a residual sum."""

    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.fc2 = tnn.Linear(6, 8), tnn.BatchNorm1d(8), tnn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(tF.relu(self.bn(self.fc1(x)))) + x.sum(1, keepdim=True)


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


class OpTour(tnn.Module):
    """Many ATen ops of the table at once: embedding of a lifted constant, layer_norm, addmm/mm/bmm/matmul, views,
    slicing, reductions with dims, elementwise functions, activations, a non-persistent buffer, dtype casts,
    log_softmax, cross_entropy, pooling and creation ops."""

    def __init__(self):
        super().__init__()
        self.l, self.e, self.ln = tnn.Linear(6, 6), tnn.Embedding(10, 6), tnn.LayerNorm(6)
        self.p = tnn.Parameter(torch.randn(6, 6))
        self.register_buffer("nb", torch.linspace(0.5, 1.5, 6), persistent=False)

    def forward(self, x):
        a = self.e(torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 1, 2]])).mean(1)
        y = torch.cat([x, a], 0)
        y = self.ln(y) * 2 - y / 3 + y.sum(-1, keepdim=True) + y.mean()
        y = y.t() @ y + torch.addmm(self.l.bias, y, self.p)[:6] + torch.mm(y.T, y) / 10
        y = y.permute(1, 0).transpose(0, 1).reshape(-1).view(6, 6).unsqueeze(0).expand(2, 6, 6).flatten(1)
        y = torch.bmm(y.view(2, 6, 6), y.view(2, 6, 6)).squeeze(0) / 100
        y = y.contiguous()[..., 1:4].exp().log().abs().sqrt().clamp(0, 1).tanh().sigmoid() + self.nb[:3]
        y = torch.where(y > 1.1, y, -y).max(-1).values + y.amax(-1) + y.pow(2).sum(-1) + (y.abs() + 1).rsqrt().sum(-1)
        y = tF.leaky_relu(y, 0.1) + tF.silu(y) + tF.softplus(y) + tF.elu(y) + tF.hardtanh(y) + y.float().to(y.dtype)
        z = tF.log_softmax(y.view(2, 3, 2), 1)
        loss = tF.cross_entropy(y.view(2, 6)[:, :5], torch.tensor([1, 2]))
        pooled = tF.adaptive_avg_pool2d(y.view(1, 1, 2, 6), 1) + tF.avg_pool2d(y.view(1, 1, 2, 6), (1, 2)).sum()
        return z.sum(0) + loss + pooled.sum() + torch.zeros(3).sum() + torch.arange(3).sum() + x.new_ones(2).sum()


class Moments(tnn.Module):
    """A linear layer and a matmul by a matrix on a 3-D input (replayed with its leading dims flattened) and the
    book GPT's LayerNorm formula: var and std over one, several and every dim, with and without keepdim and
    correction."""

    def __init__(self):
        super().__init__()
        self.fc = tnn.Linear(4, 4)

    def forward(self, x):
        h = self.fc(x)
        norm = (h - h.mean(-1, keepdim=True)) / torch.sqrt(h.var(-1, keepdim=True, unbiased=False) + 1e-5)
        return (norm + h.var(1).unsqueeze(1) + h.std(dim=(0, 2), keepdim=True, correction=0) + h.var() + h.std()
                + h @ self.fc.weight / 4)


CASES = [
    Case("export/ResidualMLP eval", "interop", case(ResidualMLP, (4, 6), training=False)),
    Case("export/ResNet train (BatchNorm statistics)", "interop",
         case(ResNet, (4, 1, 8, 8), training=True, buffers=True)),
    Case("export/ResNet eval", "interop", case(ResNet, (4, 1, 8, 8), training=False), sweep=True),
    Case("export/kinks and ties", "interop", case(Kinks, (3, 4), training=False)),
    Case("export/op tour", "interop", case(OpTour, (2, 6), training=False)),
    Case("export/var, std and a 3-D linear", "interop", case(Moments, (2, 3, 4), training=False)),
]
# CI runs these (case, dtype) pairs, ~20 s on its 2 cores; ``pytest --parity-all`` runs every pair
IN_CI = {("export/ResidualMLP eval", "float64"), ("export/ResidualMLP eval", "float32"),
         ("export/ResNet train (BatchNorm statistics)", "float64"), ("export/kinks and ties", "float64"),
         ("export/op tour", "float64"), ("export/var, std and a 3-D linear", "float64"),
         ("export/var, std and a 3-D linear", "float32")}


@each_case(CASES, IN_CI)
def test_matches_torch(parity_case, dtype):
    result = run_case(parity_case, dtype, raise_errors=True)
    assert result.passed, result


def test_kinks_take_torchs_gradient():
    """The inputs sit on the kinks (0 for abs, ±1 for clamp, ties for max): torch's gradient there, exactly."""
    x = torch.tensor([[0.0, 1.0, -1.0, 1.0], [2.0, 2.0, 0.0, -3.0]], dtype=torch.float64, requires_grad=True)
    Kinks()(x).sum().backward()
    with jax.enable_x64(True):
        model, params, state = convert_exported(Kinks(), (x.detach(),))
        g = jax.grad(lambda v: jnp.sum(model.apply(params, state, v)[0]))(jnp.asarray(x.detach().numpy()))
    np.testing.assert_array_equal(np.asarray(g), x.grad.numpy())


@pytest.mark.parametrize("dim,correction", [(1, 3), (1, 4), (None, 6), (None, 7)])
def test_variance_without_degrees_of_freedom_is_torchs(dim, correction):
    """var with correction ≥ n (dof ≤ 0): torch's value (inf, NaN for a constant row) and its two gradient rules
    (2/dof·(x − mean) along a dim; NaN where x equals the mean, else inf, over every element), and std's
    zero gradient where std is 0."""

    class Var(tnn.Module):
        def forward(self, x):
            return x.var(dim=dim, correction=correction) + x.std(dim=1).sum()

    x = torch.tensor([[1.0, 2.0, 3.5], [2.0, 2.0, 2.0]], dtype=torch.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="degrees of freedom"):
        want = Var()(x)
    want.sum().backward()
    with jax.enable_x64(True):
        model, params, state = convert_exported(Var(), (x.detach(),))
        xj = jnp.asarray(x.detach().numpy())
        got = model.apply(params, state, xj)[0]
        g = jax.grad(lambda v: jnp.sum(model.apply(params, state, v)[0]))(xj)
    np.testing.assert_array_equal(np.asarray(got), want.detach().numpy())
    np.testing.assert_allclose(np.asarray(g), x.grad.numpy(), rtol=1e-12, atol=0)


def test_written_out_layer_norm_replays_as_one_op_unless_its_parts_are_used_elsewhere():
    """The book GPT's LayerNorm formula replays as one op with the textbook derivative (``_aten.standardize``);
    where a part of it is used elsewhere (here the square root), op by op. Both give torch's float64 values and
    gradients (for a random cotangent: the plain sum of a normalized row has gradient 0)."""

    class Norm(tnn.Module):
        def __init__(self, reuse):
            super().__init__()
            self.reuse = reuse

        def forward(self, x):
            root = torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + 1e-5)
            out = (x - x.mean(-1, keepdim=True)) / root * 3
            return out + root if self.reuse else out

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    cot = torch.randn(3, 5, 6, dtype=torch.float64, generator=gen)
    for reuse, fused in ((False, 1), (True, 0)):
        x.grad = None
        want = Norm(reuse)(x)
        (want * cot).sum().backward()
        with jax.enable_x64(True):
            model, params, state = convert_exported(Norm(reuse), (x.detach(),))
            assert len(model.eval_graph.standardized[0]) == fused
            f = lambda v: model.apply(params, state, v)[0]  # noqa: E731
            got, vjp = jax.vjp(f, jnp.asarray(x.detach().numpy()))
            (g,) = vjp(jnp.asarray(cot.numpy()))
        np.testing.assert_allclose(np.asarray(got), want.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.asarray(g), x.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_integral_powers_are_torchs_products():
    """pow with a number exponent 2, 3, −2 (an int or an integral float): torch's CPU kernel multiplies, so float32
    values are bit for bit torch's; gradients as torch's, 0 included (x² and x³ have slope 0 there)."""

    class Powers(tnn.Module):
        def forward(self, x):
            return (x.pow(2.0), torch.pow(x, 3.0), x ** 3, (x.abs() + 0.5).pow(-2.0), x.pow(2))

    x32 = torch.randn(4, 64, generator=torch.Generator().manual_seed(0))
    x32[0, :3] = torch.tensor([0.0, -0.0, 1e-3])
    model, params, state = convert_exported(Powers(), (x32,))
    got = model.apply(params, state, jnp.asarray(x32.numpy()))[0]
    for g, want in zip(got, Powers()(x32), strict=True):
        np.testing.assert_array_equal(np.asarray(g), want.numpy())
    x = x32.double().requires_grad_(True)
    sum(y.sum() for y in Powers()(x)).backward()
    with jax.enable_x64(True):
        model, params, state = convert_exported(Powers(), (x.detach(),))
        grad = jax.grad(lambda v: sum(jnp.sum(y) for y in model.apply(params, state, v)[0]))(
            jnp.asarray(x.detach().numpy()))
    np.testing.assert_allclose(np.asarray(grad), x.grad.numpy(), rtol=1e-12, atol=0)


def test_another_batch_size_and_static_fallback():
    torch.manual_seed(0)
    module = ResidualMLP()
    model, params, state = convert(module, (4, 6))  # exported with a batch of 4
    x = torch.randn(7, 6)
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
    # under lax.scan with a key per step (as fit splits them), every step draws a new mask
    masks = jax.jit(lambda k: jax.lax.scan(lambda c, k: (c, apply(k, x[:64]) != 0), 0,
                                           jax.random.split(k, 3))[1])(jax.random.key(3))
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])


def test_under_grad_vmap_and_scan():
    torch.manual_seed(0)
    module = NormMLP()
    model, params, state = convert_exported(module, (torch.randn(5, 6),))
    xs = jax.random.normal(jax.random.key(0), (3, 5, 6))

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
    for name, value in module.state_dict().items():  # weights and running statistics after three steps
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    module.load_state_dict({k: torch.from_numpy(v) for k, v in got.items()}, strict=True)
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
    model, params, state = convert_exported(module, (torch.randn(4, 6),))
    again = spec(ResidualMLP, (4, 6))
    assert hash(model) == hash(again) and model == again  # one jit compilation for both
    assert not any(isinstance(v, jax.Array) for v in jax.tree_util.tree_leaves(model))
    shapes = jax.eval_shape(model.init, jax.random.key(0))
    assert jax.tree_util.tree_map(jnp.shape, shapes) == jax.tree_util.tree_map(jnp.shape, (params, state))
    fresh = ResidualMLP()
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict(params, state).items()}, strict=True)
    x = torch.randn(5, 6)
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(x.numpy()))[0]),
                               fresh(x).detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("make,shape,classes", [
    pytest.param(NormMLP, (8, 6), 3, id="lecture MLP"),
    pytest.param(ResNet, (8, 1, 8, 8), 5, id="ResNet", marks=pytest.mark.parity_all)])  # 3 fit compilations: ~20 s
def test_fit_trains_as_torch_and_resumes_bit_exactly(make, shape, classes, tmp_path, x64):
    """A converted model with BatchNorm (the ResNet: residual adds too) trained with fit: torch's steps, a
    bit-exact resume."""
    torch.manual_seed(0)
    module = make().double()
    xs = np.random.default_rng(0).standard_normal(shape)
    fit_like_torch_and_resume(module, convert(module, (4, *shape[1:]), torch.float64), xs, tmp_path, classes)
