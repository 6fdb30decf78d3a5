"""train_step / eval_step against torch (one SGD step with BatchNorm), dropout keys and eval semantics."""
import jax
import jax.numpy as jnp
import numpy as np
import chex
import optax
import pytest
import torch

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.train import TrainState, make_eval_step, make_train_step
from tests.helpers import assert_close
from tests.train._common import blobs


def _torch_copy(torch, model, params, state):
    tm = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    flat = {}
    for tree in (params, state):
        for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
            flat[".".join(p.key for p in path)] = torch.tensor(np.asarray(leaf))
    flat["1.num_batches_tracked"] = flat["1.num_batches_tracked"].long()
    tm.load_state_dict(flat)
    return tm


def test_steps_match_torch_sgd_with_batchnorm(key):
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    tx = optax.sgd(0.1)
    state = TrainState.create(model, tx, key)
    tm = _torch_copy(torch, model, state.params, state.model_state)
    opt = torch.optim.SGD(tm.parameters(), lr=0.1)
    train_step = jax.jit(make_train_step(model, tx, F.cross_entropy), donate_argnums=0)
    eval_step = jax.jit(make_eval_step(model, F.cross_entropy))
    x, y = blobs(n=32)
    for i in range(3):
        xb, yb = x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]
        state, metrics = train_step(state, xb, yb)
        tm.train()
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tm(torch.tensor(xb)), torch.tensor(yb).long())
        loss.backward()
        opt.step()
        assert_close(metrics["loss"], loss)
    sd = tm.state_dict()
    assert_close(state.params["0"]["weight"], sd["0.weight"])
    assert_close(state.params["3"]["bias"], sd["3.bias"])
    assert_close(state.model_state["1"]["running_var"], sd["1.running_var"])
    assert int(state.model_state["1"]["num_batches_tracked"]) == 3 and int(state.step) == 3
    # eval: running statistics used, not updated; dropout off
    before = jax.tree.map(np.asarray, state.model_state)
    metrics = eval_step(state, x[24:], y[24:])
    tm.eval()
    with torch.no_grad():
        out = tm(torch.tensor(x[24:]))
    assert_close(metrics["loss"], torch.nn.functional.cross_entropy(out, torch.tensor(y[24:]).long()))
    assert int(metrics["correct"]) == int((out.argmax(1).numpy() == y[24:]).sum()) and int(metrics["count"]) == 8
    assert_close(state.model_state, before)


def test_dropout_key_is_fold_in_of_key_and_step(key):
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(6, 3))
    tx = optax.sgd(0.0)
    state = TrainState.create(model, tx, key)
    train_step, eval_step = make_train_step(model, tx, F.cross_entropy), make_eval_step(model, F.cross_entropy)
    x, y = blobs(n=8)

    def expected_loss(s, step):
        k = jax.random.fold_in(jax.random.fold_in(s.key, 0), step)
        k0, k1 = jax.random.split(k)  # Sequential splits one key per child
        h = F.dropout(jnp.asarray(x), 0.5, True, key=k0)
        return F.cross_entropy(F.linear(h, s.params["1"]["weight"], s.params["1"]["bias"]), jnp.asarray(y))

    want = [float(expected_loss(state, i)) for i in range(2)]
    assert want[0] != want[1]  # fresh masks each step
    for i in range(2):
        state, m = train_step(state, x, y)
        np.testing.assert_allclose(float(m["loss"]), want[i], rtol=1e-6)
    out_eval = float(eval_step(state, x, y)["loss"])
    no_dropout = F.cross_entropy(F.linear(jnp.asarray(x), state.params["1"]["weight"], state.params["1"]["bias"]),
                                 jnp.asarray(y))
    np.testing.assert_allclose(out_eval, float(no_dropout), rtol=1e-6)


def test_the_state_is_arrays_only_and_an_equal_tx_serves(key):
    # The steps close over model and tx: a state built with another, equal optax.sgd(0.1) trains the same.
    model = nn.Linear(6, 3)
    state = TrainState.create(model, optax.sgd(0.1), key)
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(state))
    assert [f for f in state.__dataclass_fields__] == ["params", "model_state", "opt_state", "step", "key", "ema"]
    x, y = blobs(n=8)
    a, _ = jax.jit(make_train_step(model, optax.sgd(0.1), F.cross_entropy))(state, x, y)
    b, _ = make_train_step(model, optax.sgd(0.1), F.cross_entropy)(state, x, y)
    chex.assert_trees_all_close(a.params, b.params, rtol=1e-6)
    grad = jax.grad(lambda p: F.cross_entropy(model.apply(p, {}, jnp.asarray(x))[0], jnp.asarray(y)))(state.params)
    chex.assert_trees_all_close(a.params, jax.tree.map(lambda p, g: p - 0.1 * g, state.params, grad), rtol=1e-6)
    doubled = jax.vmap(lambda s: s.replace(step=s.step + 1))(jax.tree.map(lambda v: jnp.stack([v, v]), state))
    assert doubled.step.tolist() == [1, 1]


def test_the_step_logs_the_lr_each_update_used(key):
    from jaxdl import optim  # noqa: PLC0415
    from jaxdl.optim import lr_scheduler as sched  # noqa: PLC0415

    model, (x, y) = nn.Linear(6, 3), blobs(n=8)
    for tx, want in [(optim.sgd(lr=sched.StepLR(0.1, step_size=1, gamma=0.5)), [0.1, 0.05, 0.025]),
                     (optax.inject_hyperparams(optax.sgd)(learning_rate=optax.exponential_decay(0.1, 1, 0.5)),
                      [0.1, 0.05, 0.025]),
                     (optax.sgd(0.1), None)]:
        state, step = TrainState.create(model, tx, key), jax.jit(make_train_step(model, tx, F.cross_entropy))
        lrs = []
        for _ in range(3):
            state, m = step(state, x, y)
            lrs.append(float(m["lr"]) if "lr" in m else None)
        assert lrs == (pytest.approx(want) if want else [None] * 3)


def test_create_rejects_a_non_optax_tx(key):
    with pytest.raises(TypeError, match="optax.GradientTransformation"):
        TrainState.create(nn.Linear(6, 3), "adam", key)
