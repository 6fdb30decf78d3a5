"""Lazy modules against torch's: after nn.materialize, the class torch's lazy module becomes at its first forward,
the same state_dict names and shapes, torch's state_dict loads, and the forward equals torch's."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import interop, nn

torch = pytest.importorskip("torch")

# (class name, constructor args, example input shape)
CASES = [
    ("LazyLinear", (5,), (3, 7)),
    ("LazyLinear", (5, False), (2, 3, 7)),
    ("LazyConv1d", (4, 3), (2, 3, 9)),
    ("LazyConv1d", (4, 3), (3, 9)),  # unbatched: in_channels from shape[0]
    ("LazyConv2d", (6, 3, 2, 1, 1, 3), (2, 3, 8, 8)),  # groups=3
    ("LazyConv3d", (4, 2), (1, 2, 5, 5, 5)),
    ("LazyConvTranspose1d", (4, 3, 2), (2, 3, 6)),
    ("LazyConvTranspose2d", (4, 2), (2, 5, 4, 4)),
    ("LazyConvTranspose3d", (2, 2), (1, 3, 3, 3, 3)),
    ("LazyBatchNorm1d", (), (4, 6)),
    ("LazyBatchNorm1d", (1e-3, 0.2, False), (4, 6, 5)),
    ("LazyBatchNorm2d", (), (2, 3, 4, 4)),
    ("LazyBatchNorm3d", (), (2, 3, 2, 2, 2)),
    ("LazyInstanceNorm1d", (1e-5, 0.1, True, True), (2, 3, 8)),
    ("LazyInstanceNorm2d", (), (2, 3, 4, 4)),
    ("LazyInstanceNorm3d", (1e-5, 0.1, True), (2, 3, 2, 3, 2)),
]


def _shapes(flat):
    return {k: tuple(np.shape(v)) for k, v in flat.items()}


@pytest.mark.parametrize("name,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_materialize_becomes_what_torch_becomes(name, args, shape):
    x = np.random.default_rng(0).normal(size=shape)
    theirs = getattr(torch.nn, name)(*args).double()
    theirs.train(False)
    expected = theirs(torch.from_numpy(x)).detach().numpy()  # the first forward materializes torch's module
    ours = nn.materialize(getattr(nn, name)(*args), jnp.asarray(x, jnp.float32))
    assert type(ours).__name__ == type(theirs).__name__  # torch's cls_to_become
    params, state = ours.init(jax.random.key(0))
    sd = {k: v.numpy() for k, v in theirs.state_dict().items()}
    assert _shapes({**interop.flatten(params), **interop.flatten(state)}) == _shapes(sd)
    with jax.enable_x64(True):
        params, state = interop.load_state_dict(ours, sd)
        got, _ = ours.apply(params, state, jnp.asarray(x), training=False)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-10, atol=1e-12)


def test_sequential_propagates_shapes_as_torch_first_forward():
    x = np.random.default_rng(1).normal(size=(2, 3, 10, 10)).astype(np.float32)
    theirs = torch.nn.Sequential(torch.nn.LazyConv2d(8, 3), torch.nn.LazyBatchNorm2d(), torch.nn.ReLU(),
                                 torch.nn.Flatten(), torch.nn.LazyLinear(5))
    theirs(torch.from_numpy(x))
    ours = nn.materialize(nn.Sequential(nn.LazyConv2d(8, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(),
                                        nn.LazyLinear(5)), x)
    assert [type(m).__name__ for m in ours] == [type(m).__name__ for m in theirs]
    params, state = ours.init(jax.random.key(0))
    assert _shapes({**interop.flatten(params), **interop.flatten(state)}) == _shapes(theirs.state_dict())
    assert nn.materialize(ours, x) == ours  # nothing lazy left: unchanged


def test_lazy_module_refuses_init_and_apply_before_materialize():
    with pytest.raises(ValueError, match=r"LazyLinear: its in_features is not known yet; call nn.materialize"):
        nn.LazyLinear(3).init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"LazyBatchNorm2d: its num_features is not known yet"):
        nn.LazyBatchNorm2d().apply({}, {}, jnp.ones((1, 2, 3, 3)))


def test_custom_module_with_lazy_children_is_refused():
    with pytest.raises(TypeError, match=r"ModuleList holds lazy modules"):
        nn.materialize(nn.ModuleList([nn.LazyLinear(2)]), jnp.ones((1, 3)))


def test_materialize_checks_like_torch():
    with pytest.raises(Exception, match=r"in_channels|divisible|groups"):  # torch: in_channels % groups != 0
        nn.materialize(nn.LazyConv2d(4, 3, groups=2), jnp.ones((1, 3, 5, 5)))
