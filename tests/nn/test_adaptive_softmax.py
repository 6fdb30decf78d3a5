"""nn.AdaptiveLogSoftmaxWithLoss against torch.nn.AdaptiveLogSoftmaxWithLoss: parameter names and shapes, forward
(output and loss), log_prob and predict, values and gradients w.r.t. input and every parameter, float64 and
float32 by the parity rule (jaxdl.parity); torch's constructor and forward errors. module_db has no samples for
this class, so these cases are the measure (CI runs three of them; ``pytest --parity-all`` all)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import nn, parity
from jaxdl.interop import flatten
from jaxdl.parity._core import Case, compare_function
from jaxdl.parity._module_db import compare_module

CONFIGS = [  # (in_features, n_classes, cutoffs, div_value, head_bias, batch)
    (16, 20, (4, 10, 15), 2.0, True, 9),
    (8, 12, (3,), 4.0, False, 5),
    (10, 30, (5, 6, 20), 1.5, False, 1),
]


def _modules(env, config):
    in_features, n_classes, cutoffs, div_value, head_bias, _ = config
    env.torch.manual_seed(0)
    tm = env.torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, list(cutoffs), div_value, head_bias)
    return tm, nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value, head_bias)


def _targets(env, config):
    """Every cluster hit, the bounds of each included (0, each cutoff, each cutoff − 1, n_classes − 1)."""
    n_classes, cutoffs, batch = config[1], config[2], config[5]
    edges = sorted({0, n_classes - 1, *cutoffs, *(c - 1 for c in cutoffs)})
    return np.array((edges + list(env.randint(0, n_classes, (batch,))))[:batch], np.int64)


def _as_tuple(forward, *args):  # (output, loss): torch's _ASMoutput and jaxdl's are two namedtuple classes
    return tuple(forward(*args))


def _forward(config, batched=True):
    def fn(env):
        tm, jm = _modules(env, config)
        x, t = env.randn(config[5], config[0]), _targets(env, config)
        if not batched:
            x, t = x[0], t[0]
        torch = env.torch
        return compare_module(env, tm, jm, (torch.as_tensor(x), torch.as_tensor(t)), calls=(_as_tuple, _as_tuple))
    return fn


def _method(config, method):
    """log_prob or predict: torch's method on the same parameters (torch.func.functional_call on a wrapper)."""
    def fn(env):
        torch = env.torch
        tm, jm = _modules(env, config)
        sd = {k: v.detach().numpy().astype(env.np_dtype) for k, v in tm.state_dict().items()}
        names = list(sd)
        tm = tm.to(env.torch_dtype)

        class Method(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.m = tm

            def forward(self, x):
                return getattr(self.m, method)(x)

        def torch_fn(x, *ws):
            return torch.func.functional_call(Method(), {f"m.{n}": w for n, w in zip(names, ws)}, (x,))

        params, state = jm.init(jax.random.key(0))

        def jax_fn(x, *ws):
            p = jax.tree_util.tree_map_with_path(lambda path, _: dict(zip(names, ws))[".".join(k.key for k in path)],
                                                 params)
            return getattr(jm, method)(p, state, x)

        args = [env.randn(config[5], config[0]), *sd.values()]
        return compare_function(env, jax_fn, torch_fn, args,
                                diff_argnums=tuple(range(len(args))) if method == "log_prob" else ())
    return fn


CASES = ([Case(f"AdaptiveLogSoftmaxWithLoss forward #{i}", "adaptive", _forward(c)) for i, c in enumerate(CONFIGS)]
         + [Case("AdaptiveLogSoftmaxWithLoss forward unbatched", "adaptive", _forward(CONFIGS[0], batched=False))]
         + [Case(f"AdaptiveLogSoftmaxWithLoss {m} #{i}", "adaptive", _method(c, m))
            for m in ("log_prob", "predict") for i, c in enumerate(CONFIGS)])

CI = {"AdaptiveLogSoftmaxWithLoss forward #0", "AdaptiveLogSoftmaxWithLoss log_prob #1",
      "AdaptiveLogSoftmaxWithLoss predict #1"}  # the rest with --parity-all


@pytest.mark.parametrize("case,dtype", [
    pytest.param(c, d, id=f"{c.name.removeprefix('AdaptiveLogSoftmaxWithLoss ')}-{d}",
                 marks=() if c.name in CI else pytest.mark.parity_all)
    for c in CASES for d in ("float64", "float32")])
def test_equals_torch(case, dtype):
    result = parity.run_case(case, dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


def test_parameter_names_and_shapes_are_torchs():
    import torch

    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], div_value=2.0, head_bias=True)
    params, state = nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 10, 15], 2.0, True).init(jax.random.key(0))
    assert {k: tuple(v.shape) for k, v in flatten(params).items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert not flatten(state)


def test_predict_is_log_probs_argmax_with_the_head_shortlist_first():
    m = nn.AdaptiveLogSoftmaxWithLoss(6, 40, (2, 5))
    params, state = m.init(jax.random.key(1))
    x = jax.random.normal(jax.random.key(2), (64, 6)) * 3
    np.testing.assert_array_equal(m.predict(params, state, x), jnp.argmax(m.log_prob(params, state, x), axis=1))
    np.testing.assert_allclose(jnp.sum(jnp.exp(m.log_prob(params, state, x)), axis=1), 1.0, rtol=1e-5)


def test_jit_and_grad():
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 12, (3, 7))
    params, state = m.init(jax.random.key(0))
    x, t = jax.random.normal(jax.random.key(1), (5, 8)), jnp.array([0, 3, 7, 11, 2])
    loss = jax.jit(lambda p: m.apply(p, state, x, t)[0].loss)
    grads = jax.grad(loss)(params)
    assert jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(params)
    np.testing.assert_allclose(loss(params), m.apply(params, state, x, t)[0].loss, rtol=1e-6)
    # a traced out-of-range target cannot raise: NaN there (jaxdl.checks.validated raises)
    out = jax.jit(lambda tt: m.apply(params, state, x, tt)[0].output)(jnp.array([0, 3, 12, 11, -1]))
    assert np.isnan(out[2]) and np.isnan(out[4]) and np.isfinite(out[0])


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 12], [3, 3], [2.5]])
def test_bad_cutoffs_are_refused_as_torch_refuses_them(cutoffs):
    import torch

    with pytest.raises(ValueError):
        torch.nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs)
    with pytest.raises(ValueError, match="cutoffs"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 12, cutoffs)


@pytest.mark.parametrize("x_shape,target,match", [
    ((4, 32), [0, 1, 2], "same size in the batch dimension"),
    ((4, 32), [0, 12, 1, 2], r"Target values should be in \[0, 11\]"),
    ((4, 32), [0, -1, 1, 2], r"Target values should be in \[0, 11\]"),
    ((1, 2, 32), [0], "1D target tensor expects 2D input"),
    ((2, 32), 0, "0D target tensor expects 1D input"),
    ((2, 32), [[0], [1]], "multi-target not supported"),
])
def test_forward_errors_are_torchs(x_shape, target, match):
    import torch

    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(32, 12, [3, 7])
    with pytest.raises(RuntimeError):
        tm(torch.zeros(x_shape), torch.tensor(target))
    m = nn.AdaptiveLogSoftmaxWithLoss(32, 12, (3, 7))
    params, state = m.init(jax.random.key(0))
    with pytest.raises(ValueError, match=match):
        m.apply(params, state, jnp.zeros(x_shape), jnp.array(target))
