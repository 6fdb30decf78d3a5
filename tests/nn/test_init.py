"""jaxdl.nn.init: torch.nn.init's distributions (bounds and moments against torch's own samples), fans, errors."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.nn import init

N = 200_000  # samples per distribution check: std within ~0.2% (1 s.e.), tolerances below are ≥ 5 s.e.
SHAPE = (250, 200, 4)  # fan_in 800, fan_out 1000: a wrong fan gives a different spread


def _torch_sample(name, shape, **kwargs):
    torch.manual_seed(0)
    return getattr(torch.nn.init, name)(torch.empty(shape, dtype=torch.float64), **kwargs).numpy()


@pytest.mark.parametrize("name,kwargs,bounded", [
    ("uniform_", dict(a=-0.3, b=0.7), True),
    ("normal_", dict(mean=0.5, std=2.0), False),
    ("xavier_uniform_", dict(gain=1.5), True),
    ("xavier_normal_", dict(gain=0.5), False),
    ("kaiming_uniform_", dict(), True),
    ("kaiming_uniform_", dict(a=math.sqrt(5)), True),
    ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu"), True),
    ("kaiming_normal_", dict(a=0.2, mode="fan_out"), False),
    ("kaiming_normal_", dict(nonlinearity="tanh"), False),
    ("trunc_normal_", dict(mean=0.5, std=2.0, a=-1.0, b=3.0), True),
    ("trunc_normal_", dict(std=0.02), None),  # cut-offs ±2 are 100 std away: inert, as in torch
])
def test_distribution_matches_torch(name, kwargs, bounded, key):
    mine = np.asarray(getattr(init, name)(key, SHAPE, **kwargs), np.float64)
    ref = _torch_sample(name, SHAPE, **kwargs)
    assert mine.shape == SHAPE
    np.testing.assert_allclose(mine.mean(), ref.mean(), atol=0.02 * ref.std())
    np.testing.assert_allclose(mine.std(), ref.std(), rtol=0.01)
    if bounded:  # the same support: min/max within torch's, and reaching it
        lo, hi = ref.min(), ref.max()
        span = hi - lo
        assert lo - 1e-3 * span <= mine.min() <= lo + 1e-3 * span
        assert hi - 1e-3 * span <= mine.max() <= hi + 1e-3 * span
    elif bounded is False:  # a plain normal, not jax's truncated he_normal/glorot_normal: the tails reach beyond 4 std
        assert np.abs(mine - mine.mean()).max() > 4 * mine.std()


def test_formulas(key):
    fan_in, fan_out = 800, 1000
    w = init.kaiming_uniform_(key, SHAPE)
    assert float(jnp.abs(w).max()) <= math.sqrt(3) * math.sqrt(2) / math.sqrt(fan_in)
    w = init.xavier_uniform_(key, SHAPE, gain=2.0)
    assert float(jnp.abs(w).max()) > 0.999 * 2.0 * math.sqrt(6 / (fan_in + fan_out))
    w = init.kaiming_normal_(key, SHAPE, nonlinearity="relu", mode="fan_out")
    np.testing.assert_allclose(float(w.std()), math.sqrt(2 / fan_out), rtol=0.01)
    w = init.trunc_normal_(key, (N,), mean=1.0, std=3.0, a=0.5, b=1.5)
    assert float(w.min()) >= 0.5 and float(w.max()) <= 1.5
    assert float(w.min()) < 0.501 and float(w.max()) > 1.499


def test_constants(key):
    assert init.zeros_(None, (2, 3)).tolist() == [[0.0] * 3] * 2
    assert init.ones_(key, (2,), dtype=jnp.int32).dtype == jnp.int32
    assert init.constant_(None, (2,), 0.5).tolist() == [0.5, 0.5]


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (6, 2, 3), (5, 5)])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_orthogonal(shape, gain, key):
    w = np.asarray(init.orthogonal_(key, shape, gain=gain), np.float64)
    assert w.shape == shape
    flat = w.reshape(shape[0], -1) / gain
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


def test_orthogonal_is_haar_signed(key):
    # Q·sign(diag R): without the sign fix, numpy/LAPACK's QR gives diag(R) < 0 so Q's first row has a bias
    ws = jax.vmap(lambda k: init.orthogonal_(k, (3, 3)))(jax.random.split(key, 4000))
    np.testing.assert_allclose(np.asarray(ws).mean(0), np.zeros((3, 3)), atol=0.05)


@pytest.mark.parametrize("shape,fans", [((5, 3), (3, 5)), ((8, 4, 3, 3), (36, 72)), ((4, 2, 5), (10, 20)),
                                        ((0, 3), (3, 0))])
def test_fans_as_torch(shape, fans):
    assert init._calculate_fan_in_and_fan_out(shape) == fans
    assert torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)) == fans
    assert init._calculate_fan_in_and_fan_out(jnp.zeros(shape)) == fans


def test_gain_as_torch():
    for args in [("linear",), ("conv2d",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu",)]:
        assert init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args), args


def _torch_error(fn):
    with pytest.raises(ValueError) as err:
        fn()
    return str(err.value)


def test_errors_as_torch(key):
    cases = [(lambda: init.kaiming_uniform_(key, (5,)), lambda: torch.nn.init.kaiming_uniform_(torch.empty(5))),
             (lambda: init.xavier_normal_(key, (5,)), lambda: torch.nn.init.xavier_normal_(torch.empty(5))),
             (lambda: init.kaiming_normal_(key, (3, 5), mode="fan_avg"),
              lambda: torch.nn.init.kaiming_normal_(torch.empty(3, 5), mode="fan_avg")),
             (lambda: init.calculate_gain("softmax"), lambda: torch.nn.init.calculate_gain("softmax")),
             (lambda: init.calculate_gain("leaky_relu", True),
              lambda: torch.nn.init.calculate_gain("leaky_relu", True)),
             (lambda: init.orthogonal_(key, (5,)), lambda: torch.nn.init.orthogonal_(torch.empty(5)))]
    for mine, ref in cases:
        assert _torch_error(ref) in _torch_error(mine)


def test_zero_element_and_warning(key):
    assert init.kaiming_uniform_(key, (0, 3)).shape == (0, 3)
    assert init.orthogonal_(key, (3, 0)).shape == (3, 0)
    with pytest.warns(UserWarning, match=r"trunc_normal_: mean=5.0 lies more than 2·std=2.0 outside \[a, b\]"):
        init.trunc_normal_(key, (3,), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_transformable(key):
    keys = jax.random.split(key, 3)
    ws = jax.jit(jax.vmap(lambda k: init.kaiming_normal_(k, (4, 3))))(keys)
    assert ws.shape == (3, 4, 3) and not np.allclose(ws[0], ws[1])
    assert jax.jit(init.trunc_normal_, static_argnums=1)(key, (4,)).shape == (4,)


@pytest.mark.parametrize("in_features,out_features", [(1, 3), (3, 7), (100, 10), (4096, 2), (0, 3)])
def test_linear_init_is_unchanged(in_features, out_features, key):
    """Linear now calls init.kaiming_uniform_(a=√5): the same float32 values as its former U(±1/√in) draw."""
    params, _ = nn.Linear(in_features, out_features).init(key)
    wkey, bkey = jax.random.split(key)
    bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
    old = {"weight": jax.random.uniform(wkey, (out_features, in_features), minval=-bound, maxval=bound),
           "bias": jax.random.uniform(bkey, (out_features,), minval=-bound, maxval=bound)}
    for name in ("weight", "bias"):
        np.testing.assert_array_equal(params[name], old[name], strict=True)
