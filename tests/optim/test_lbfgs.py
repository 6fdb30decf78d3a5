"""optim.lbfgs against torch.optim.LBFGS: Rosenbrock's function in float64, its error inputs, its lr state."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import optim, parity
from jaxdl.parity._cases_lbfgs import rosenbrock, trajectories


@pytest.mark.parametrize("kw", [{"line_search_fn": "strong_wolfe"}, {"lr": 0.001}])
def test_rosenbrock_follows_torch_for_50_steps(kw, x64):
    env = parity.Env("float64", torch, "cpu", 0)
    (params, counts), (ref, ref_counts) = trajectories(env, rosenbrock, {"w": np.array([-1.5, 2.0])}, (), kw).values
    np.testing.assert_allclose(np.asarray(params["w"]), ref["w"], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(np.asarray(counts), ref_counts)


@pytest.mark.parametrize("kwargs,message", [
    ({"lr": jnp.array([1e-3, 1e-3])}, r"lr must be a number or a 0-d array, got an array of shape \(2,\)"),
    ({"lr": -0.5}, "lr = -0.5 is not allowed"),
    ({"line_search_fn": "backtracking"}, "line_search_fn must be None or 'strong_wolfe'"),
    ({"history_size": 0}, "history_size"),
    ({"max_iter": 2.5}, "max_iter must be an int"),
    ({"line_search_fn": "strong_wolfe", "max_eval": 0}, "max_eval = 0"),
])
def test_error_inputs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.lbfgs(**kwargs)


def test_a_step_at_an_optimum_counts_one_evaluation_and_moves_nothing():
    opt = optim.lbfgs()
    params = {"x": jnp.ones(2)}
    loss, new, state = opt.step(lambda p: jnp.sum((p["x"] - 1.0) ** 2), params, opt.init(params))
    assert float(loss) == 0.0 and int(state.inner.func_evals) == 1 and int(state.inner.n_iter) == 0
    np.testing.assert_array_equal(np.asarray(new["x"]), np.ones(2))


def test_lr_lives_in_the_state_and_a_schedule_rewrites_it():
    params = {"x": jnp.array([3.0, -2.0])}
    opt = optim.lbfgs(lr=optim.lr_scheduler.StepLR(0.5, step_size=1, gamma=0.1), max_iter=1)
    state = opt.init(params)
    step = jax.jit(lambda p, s: opt.step(lambda q: jnp.sum(q["x"] ** 2), p, s))
    _, params, state = step(params, state)
    assert np.isclose(float(optim.get_lr(state)), 0.05)
    state = optim.set_lr(state, 0.25)
    assert float(optim.get_lr(state)) == 0.25
