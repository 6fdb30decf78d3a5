"""sweep: every vmapped copy equals its own single fit; hyperparameters must live in the optimizer state."""
import chex
import jax
import numpy as np
import optax
import pytest

from jaxdl import optim
from jaxdl.optim import lr_scheduler as sched
from jaxdl.train import fit, sweep
from tests.helpers import assert_close
from tests.train._common import blobs, mlp

X, Y = blobs(n=64)
VX, VY = blobs(n=20, seed=1)


def make_tx(learning_rate, b1):
    return optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate, b1=b1)


@pytest.mark.standard_promotion("optax.adam")
def test_each_copy_equals_its_single_run():
    res = sweep(mlp(), make_tx, {"learning_rate": np.array([1e-2, 3e-2]), "b1": np.array([0.9, 0.8])}, [0, 5],
                (X, Y), (VX, VY), epochs=2, batch_size=16)
    assert [(c["learning_rate"], c["b1"], c["seed"]) for c in res.configs] == [
        (0.01, 0.9, 0), (0.01, 0.9, 5), (0.03, 0.8, 0), (0.03, 0.8, 5)]
    for c in (1, 2):  # one run per distinct lr and seed keeps the test lean
        cfg = res.configs[c]
        single = fit(mlp(), make_tx(cfg["learning_rate"], cfg["b1"]), (X, Y), (VX, VY), epochs=2, batch_size=16,
                     key=jax.random.key(cfg["seed"]), progress=False)
        copy = jax.tree.map(lambda leaf: leaf[c], res.states.params)
        # vmapped matmuls may associate sums differently from the unbatched ones: float tolerance
        assert_close(copy, single.state.params, rtol=1e-5, atol=1e-6)
        for mine, theirs in zip(res.histories[c], single.history):
            np.testing.assert_allclose(mine["train_loss"], theirs["train_loss"], rtol=1e-5)
            np.testing.assert_allclose(mine["val_loss"], theirs["val_loss"], rtol=1e-3)
    assert not np.allclose(res.states.params["0"]["weight"][0], res.states.params["0"]["weight"][2])


def test_jaxdl_optim_lr_can_be_swept():
    res = sweep(mlp(), lambda lr: optim.adam(lr=lr), {"lr": np.array([1e-3, 1e-1])}, [0], (X, Y), epochs=1,
                batch_size=32)
    assert [float(optim.get_lr(jax.tree.map(lambda v: v[i], res.states.opt_state))) for i in (0, 1)] == \
        pytest.approx([1e-3, 1e-1])


def test_a_swept_lr_inside_a_schedule_is_each_copys_own():
    # The update must use the copy's schedule StepLR(lr_i), not configs[0]'s: before the fix every copy
    # followed lr=1e-3's schedule from the second update on (lr after 2 epochs: 2.5e-4 for both copies).
    make = lambda lr: optim.sgd(lr=sched.StepLR(lr, step_size=3, gamma=0.5))  # noqa: E731
    res = sweep(mlp(), make, {"lr": np.array([1e-3, 0.2])}, [0], (X, Y), epochs=2, batch_size=16)
    lrs = [float(optim.get_lr(jax.tree.map(lambda v: v[i], res.states.opt_state))) for i in (0, 1)]
    assert lrs == pytest.approx([1e-3 * 0.25, 0.2 * 0.25])  # 8 updates: StepLR at count 8 = lr·0.5²
    single = fit(mlp(), make(0.2), (X, Y), epochs=2, batch_size=16, key=jax.random.key(0), progress=False)
    assert_close(jax.tree.map(lambda leaf: leaf[1], res.states.params), single.state.params, rtol=1e-5, atol=1e-6)


@pytest.mark.standard_promotion("optax.adam")
def test_a_plain_optax_transform_sweeps_its_own_lr():
    # Each copy rebuilds optax.adam(lr) from its own traced lr inside the vmapped program: nothing in the
    # optimizer state has to carry the lr.
    res = sweep(mlp(), lambda lr: optax.adam(lr), {"lr": np.array([1e-3, 3e-2])}, [0], (X, Y), epochs=1,
                batch_size=16)
    single = fit(mlp(), optax.adam(3e-2), (X, Y), epochs=1, batch_size=16, key=jax.random.key(0), progress=False)
    chex.assert_trees_all_close(jax.tree.map(lambda leaf: leaf[1], res.states.params), single.state.params,
                                rtol=1e-5, atol=1e-6)


def _python_branch(lr):
    return optax.sgd(lr) if lr > 0.01 else optax.adam(lr)


@pytest.mark.parametrize("make, hparams, match", [
    (_python_branch, {"lr": np.array([1e-2, 3e-2])}, "must accept traced floats"),
    (make_tx, {"learning_rate": np.array([1e-2]), "b1": np.array([0.9, 0.8])}, "1-D arrays of one length"),
    (make_tx, {"learning_rate": np.array([1e-2]), "b1": np.array([0.9]), "batch_size": len(X) + 1},
     f"train_data yields no batch: batch_size={len(X) + 1} is larger than its {len(X)} examples"),
    (make_tx, {"learning_rate": np.array([1e-2]), "b1": np.array([0.9]), "epochs": True},
     r"epochs must be an int ≥ 1; got True \(bool\)"),
])
def test_bad_sweeps_raise(make, hparams, match):
    run = {"epochs", "batch_size"}  # sweep's own arguments in the case, the rest are hyperparameters
    kw = {"epochs": 1, "batch_size": 16, **{k: v for k, v in hparams.items() if k in run}}
    with pytest.raises(ValueError, match=match):
        sweep(mlp(), make, {k: v for k, v in hparams.items() if k not in run}, [0], (X, Y), **kw)
