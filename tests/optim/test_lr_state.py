"""One lr rule: the optimizer state holds the lr every update uses, for config-built optimizers too, whatever
type the lr was given as (float, numpy scalar, array, tracer in a vmapped sweep); set_lr and ReduceLROnPlateau
change it as torch's ``group['lr'] = ...`` and torch's ReduceLROnPlateau do."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from jaxdl import optim
from jaxdl.config import AdamConfig, SGDConfig
from jaxdl.experiment import build_tx

W0 = np.array([1.0, -2.0, 0.5], np.float32)
TARGET = np.array([0.3, 0.1, -0.4], np.float32)
WEIGHT = np.array([1.0, 3.0, 0.5], np.float32)


def _loss(w):
    weight, target = jnp.asarray(WEIGHT, w.dtype), jnp.asarray(TARGET, w.dtype)  # float64 runs: no mixed dtypes
    return jnp.sum(weight * (w - target) ** 2)


def _jax_run(tx, steps, before_step=lambda k, s: s, dtype=np.float32):
    """Params after each of ``steps`` updates and the lr each used; ``before_step(k, opt_state)`` may set it."""
    step = jax.jit(lambda w, s: tx.update(jax.grad(_loss)(w), s, w))
    w = jnp.asarray(W0, dtype)
    s, seen, lrs = tx.init(w), [], []
    for k in range(steps):
        s = before_step(k, s)
        lrs.append(float(optim.get_lr(s)))
        u, s = step(w, s)
        w = optax.apply_updates(w, u)
        seen.append(np.asarray(w))
    return np.stack(seen), lrs


def _torch_run(make, steps, before_step=lambda k, opt: None, dtype=torch.float32):
    w = torch.tensor(W0, dtype=dtype, requires_grad=True)
    opt, seen, lrs = make([w]), [], []
    for k in range(steps):
        before_step(k, opt)
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        torch.sum(torch.tensor(WEIGHT, dtype=dtype) * (w - torch.tensor(TARGET, dtype=dtype)) ** 2).backward()
        opt.step()
        seen.append(w.detach().numpy().copy())
    return np.stack(seen), lrs


def test_set_lr_changes_a_config_built_optimizer_like_torch():
    # build_tx once turned the config's float into an array that every update used as given: set_lr did nothing
    tx = build_tx(SGDConfig(name="sgd", lr=0.1, momentum=0.9))
    mine, mine_lrs = _jax_run(tx, 6, lambda k, s: optim.set_lr(s, 0.01) if k == 3 else s)

    def change(k, opt):
        if k == 3:
            for g in opt.param_groups:
                g["lr"] = 0.01

    ref, ref_lrs = _torch_run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), 6, change)
    np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mine_lrs, ref_lrs, rtol=1e-6)
    unchanged, _ = _jax_run(tx, 6)
    assert not np.allclose(unchanged[-1], mine[-1], rtol=1e-3)  # the change is visible in the params


def test_reduce_lr_on_plateau_drives_a_config_built_adam_like_torch(x64):  # float64: no rounding noise
    tx = build_tx(AdamConfig(name="adam", lr=0.1))
    plateau = optim.ReduceLROnPlateau(patience=0, factor=0.5)
    metrics = [1.0, 1.0, 0.5, 0.6, 0.6, 0.4]  # one per "epoch" of two steps: reduces after epochs 2, 4 and 5
    box = {"p": None}

    def mine_step(k, s):
        if k == 0:
            box["p"] = plateau.init(optim.get_lr(s))
        elif k % 2 == 0:
            box["p"] = plateau.step(box["p"], metrics[k // 2 - 1])
            s = optim.set_lr(s, box["p"].lr)
        return s

    mine, mine_lrs = _jax_run(tx, 12, mine_step, np.float64)
    sched = {}

    def ref_step(k, opt):
        if k == 0:
            sched["s"] = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
        elif k % 2 == 0:
            sched["s"].step(metrics[k // 2 - 1])

    ref, ref_lrs = _torch_run(lambda p: torch.optim.Adam(p, lr=0.1), 12, ref_step, torch.float64)
    np.testing.assert_allclose(mine_lrs, ref_lrs, rtol=1e-12)
    assert ref_lrs[-1] == pytest.approx(0.0125)
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)


OPTIMIZERS = [("sgd", dict(momentum=0.9, weight_decay=0.1)), ("adam", dict(amsgrad=True)), ("adamw", {}),
              ("rmsprop", dict(momentum=0.5)), ("adagrad", dict(lr_decay=0.1)), ("adadelta", {})]


@pytest.mark.parametrize("name,kw", OPTIMIZERS, ids=[n for n, _ in OPTIMIZERS])
def test_an_array_lr_and_a_float_lr_give_identical_states_and_updates(name, kw):
    make = getattr(optim, name)
    runs = [_jax_run(make(lr=lr, **kw), 3, lambda k, s: optim.set_lr(s, 0.05) if k == 2 else s)
            for lr in (0.1, np.float32(0.1), jnp.asarray(0.1))]
    states = [make(lr=lr, **kw).init(jnp.asarray(W0)) for lr in (0.1, jnp.asarray(0.1))]
    for a, b in zip(jax.tree.leaves(states[0]), jax.tree.leaves(states[1])):
        np.testing.assert_array_equal(a, b)
    for params, lrs in runs[1:]:
        np.testing.assert_array_equal(params, runs[0][0])
        assert lrs == runs[0][1] == pytest.approx([0.1, 0.1, 0.05])


def test_a_vmapped_lr_sweep_matches_per_lr_runs_and_compiles_once():
    cfg = SGDConfig(name="sgd", momentum=0.9)
    traces = []

    def train(lr, steps=4, new_lr=None):
        traces.append(1)
        tx = build_tx(cfg, lr)  # compare's grid: the lr is a tracer here
        w, s = jnp.asarray(W0), tx.init(jnp.asarray(W0))
        for k in range(steps):
            if k == 2 and new_lr is not None:
                s = optim.set_lr(s, new_lr)
            u, s = tx.update(jax.grad(_loss)(w), s, w)
            w = optax.apply_updates(w, u)
        return w, optim.get_lr(s)

    swept = jax.jit(jax.vmap(train))
    lrs = jnp.array([0.01, 0.05, 0.1])
    w, got_lrs = swept(lrs)
    swept(jnp.array([0.02, 0.03, 0.2]))
    assert len(traces) == 1  # one compile for every grid
    np.testing.assert_allclose(got_lrs, lrs)
    single = np.stack([train(float(lr))[0] for lr in lrs])
    np.testing.assert_allclose(w, single, rtol=1e-6)
    # set_lr inside the sweep changes each copy's lr (a traced lr was once fixed for the whole run)
    w, got_lrs = jax.jit(jax.vmap(lambda lr: train(lr, new_lr=lr / 10)))(lrs)
    np.testing.assert_allclose(got_lrs, lrs / 10, rtol=1e-6)
    np.testing.assert_allclose(w, np.stack([train(float(lr), new_lr=float(lr) / 10)[0] for lr in lrs]), rtol=1e-6)
    assert not np.allclose(w, single, rtol=1e-4)


def test_one_lr_rule_for_jaxdl_optim_and_the_config(tmp_path):
    # torch.optim refuses only lr < 0 ("Invalid learning rate"); the config once also refused lr = 0 (and inf)
    from jaxdl.config import ConfigError, load_config  # noqa: PLC0415

    def config_lr(text):  # TOML spells inf and nan as bare words
        (tmp_path / "c.toml").write_text(f"[optim]\nname = 'sgd'\nlr = {text}\n")
        return load_config(str(tmp_path / "c.toml")).optim.lr

    for lr, text in ((0.0, "0.0"), (float("inf"), "inf")):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
        optim.sgd(lr=lr)
        assert config_lr(text) == lr
    tx = build_tx(SGDConfig(name="sgd", lr=0.0))
    updates, _ = tx.update(jnp.ones(2), tx.init(jnp.ones(2)))
    np.testing.assert_array_equal(updates, [0.0, 0.0])
    rule = "is not allowed: expected a number ≥ 0 (torch.optim refuses only lr < 0)"
    for lr, text in ((-0.1, "-0.1"), (float("nan"), "nan")):
        with pytest.raises(ValueError, match="Invalid learning rate"):  # torch's SGD alone lets NaN through
            torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=lr)
        with pytest.raises(ValueError) as mine:
            optim.adamw(lr=lr)
        with pytest.raises(ConfigError) as config:
            config_lr(text)
        assert str(mine.value) == f"lr = {lr} {rule}"
        assert str(config.value) == f"optim.lr = {lr} {rule}"
