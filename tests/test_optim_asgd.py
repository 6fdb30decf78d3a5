"""ASGD's averaged parameters (torch's state['ax']) against torch's, and asgd_averaged_params' lookup."""
import jax
import numpy as np
import optax
import pytest
import torch

from jaxdl import optim


def test_asgd_averaged_params_equal_torch_state_ax(x64):
    rng = np.random.default_rng(0)
    a, b, w0 = rng.standard_normal((6, 4)), rng.standard_normal(6), rng.standard_normal(4)
    kw = {"lr": 0.05, "lambd": 1e-3, "t0": 10, "weight_decay": 0.01}
    w = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.ASGD([w], **kw)
    tx = optim.asgd(**kw)
    params = {"w": jax.numpy.asarray(w0)}
    state = tx.init(params)
    loss = lambda p: ((a @ p["w"] - b) ** 2).mean()  # noqa: E731
    for _ in range(30):
        opt.zero_grad()
        ((torch.tensor(a) @ w - torch.tensor(b)) ** 2).mean().backward()
        opt.step()
        updates, state = tx.update(jax.grad(loss)(params), state, params)
        params = optax.apply_updates(params, updates)
        ax = np.asarray(optim.asgd_averaged_params(state)["w"])
        np.testing.assert_allclose(ax, opt.state[w]["ax"].numpy(), rtol=1e-10, atol=1e-12)
    assert not np.allclose(ax, params["w"])  # averaging started at t0 = 10: ax is not the last iterate


def test_asgd_averaged_params_needs_an_asgd_state():
    with pytest.raises(ValueError, match="group 0 out of range: this state holds 0 ASGD state"):
        optim.asgd_averaged_params(optim.sgd().init({"w": np.zeros(2)}))
