"""fit's EMA copy (train.ema_decay): torch's AveragedModel(get_ema_multi_avg_fn) after the same SGD steps, its
metrics, and a resume that restores it bit for bit."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch
from torch.optim import swa_utils as torch_swa

from jaxdl import nn, optim
from jaxdl.config import ConfigError, load_config
from jaxdl.data import DataLoader
from jaxdl.interop import load_state_dict, state_dict
from jaxdl.train import CheckpointError, TrainState, fit, read_checkpoint
from tests.train._common import blobs, mlp
from tests.train.test_checkpoint import _bits_equal

X, Y = blobs(n=64)
VX, VY = blobs(n=24, seed=1)
KW = dict(batch_size=16, progress=False)


@pytest.mark.parametrize("mode,use_buffers", [("scan", True)])
def test_fit_ema_equals_torch_averaged_model_after_the_same_sgd_steps(x64, mode, use_buffers):
    # float64, batches in order: torch's loop `opt.step(); ema.update_parameters(model)` over the same 2 epochs.
    # use_buffers=False in loop mode: the parity case "train.fit ema_decay vs torch AveragedModel (EMA)"
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(),
                             torch.nn.Linear(5, 3)).double()
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 3))
    params, buffers = load_state_dict(model, {k: v.numpy() for k, v in tm.state_dict().items()})
    ema = torch_swa.AveragedModel(tm, multi_avg_fn=torch_swa.get_ema_multi_avg_fn(0.8), use_buffers=use_buffers)
    opt = torch.optim.SGD(tm.parameters(), lr=0.1, momentum=0.9)
    x, y = X.astype(np.float64)[:48], Y[:48]
    for _ in range(2):
        for i in range(0, 48, 16):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(tm(torch.from_numpy(x[i:i + 16])),
                                              torch.from_numpy(y[i:i + 16]).long()).backward()
            opt.step()
            ema.update_parameters(tm)
    tx = optax.sgd(0.1, momentum=0.9)
    state = TrainState.create(model, tx, jax.random.key(0), jnp.float64)
    state = state.replace(params=params, model_state=buffers).with_ema()
    result = fit(model, tx, DataLoader((x, y), 16), epochs=2, state=state, mode=mode, ema_decay=0.8,
                 ema_use_buffers=use_buffers, progress=False)
    got = state_dict(result.state.ema.params, result.state.ema.buffers)
    want = {k: v.numpy() for k, v in ema.module.state_dict().items()}
    assert sorted(got) == sorted(want) and int(result.state.ema.n_averaged) == int(ema.n_averaged) == 6
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=0, err_msg=k)


def test_resume_restores_the_ema_copy_bit_for_bit_and_reports_its_metrics(key, tmp_path):
    kw = dict(KW, ema_decay=0.9)
    full = fit(mlp(), optim.adam(1e-2), (X, Y), (VX, VY), epochs=4, key=key, **kw)
    fit(mlp(), optim.adam(1e-2), (X, Y), (VX, VY), epochs=2, key=key, out_dir=tmp_path, **kw)
    assert "ema" in read_checkpoint(tmp_path / "checkpoint.msgpack").state
    resumed = fit(mlp(), optim.adam(1e-2), (X, Y), (VX, VY), epochs=4, key=key, out_dir=tmp_path, resume=True, **kw)
    _bits_equal(full.state, resumed.state)  # params, buffers, optimizer and the EMA copy (n_averaged included)
    assert int(resumed.state.ema.n_averaged) == 16
    assert [h["ema_val_loss"] for h in resumed.history] == [h["ema_val_loss"] for h in full.history]
    # the EMA model is evaluated, not the trained one: after 16 steps of decay 0.9 they differ
    last = full.history[-1]
    assert last["ema_val_loss"] != last["val_loss"] and 0 <= last["ema_val_acc"] <= 1


def test_a_checkpoint_without_ema_loads_and_is_refused_in_one_line_when_ema_is_asked(key, tmp_path):
    fit(mlp(), optax.sgd(0.1), (X, Y), epochs=1, key=key, out_dir=tmp_path, **KW)
    assert "ema" not in read_checkpoint(tmp_path / "checkpoint.msgpack").state  # the format of runs without EMA
    resumed = fit(mlp(), optax.sgd(0.1), (X, Y), epochs=2, key=key, out_dir=tmp_path, resume=True, **KW)
    assert resumed.state.ema is None and "ema_val_loss" not in resumed.history[-1]
    with pytest.raises(CheckpointError, match="holds no EMA copy of the model .*trained without ema_decay"):
        fit(mlp(), optax.sgd(0.1), (X, Y), epochs=3, key=key, out_dir=tmp_path, resume=True, ema_decay=0.9, **KW)


@pytest.mark.parametrize("kwargs,err,match", [
    (dict(ema_decay=True), TypeError, "ema_decay must be a float"),
    (dict(ema_decay=1.5), ValueError, r"Invalid decay value 1.5"),
    (dict(ema_decay=0.9, state="plain"), ValueError, "needs a state with an EMA copy"),
    (dict(state="ema"), ValueError, "holds an EMA copy but ema_decay is None"),
])
def test_bad_ema_arguments_are_refused(key, kwargs, err, match):
    tx = optax.sgd(0.1)
    if "state" in kwargs:
        kwargs["state"] = TrainState.create(mlp(), tx, key, ema=kwargs["state"] == "ema")
    else:
        kwargs["key"] = key
    with pytest.raises(err, match=match):
        fit(mlp(), tx, (X, Y), epochs=1, **kwargs, **KW)


@pytest.mark.parametrize("value", ["0", "1.0", "-0.5", "true"])
def test_config_ema_decay_must_lie_in_the_open_unit_interval(tmp_path, value):
    path = tmp_path / "c.toml"
    path.write_text(f"[train]\nema_decay = {value}\n")
    with pytest.raises(ConfigError, match="train.ema_decay"):
        load_config(path)
    path.write_text("[train]\nema_decay = 0.999\n")
    assert load_config(path).train.ema_decay == 0.999


def test_a_config_with_ema_decay_trains_resumes_and_refuses_dropping_it(tmp_path):
    from jaxdl.experiment import run_train

    path = tmp_path / "c.toml"
    path.write_text("[data]\nkind = 'moons'\nn = 64\n[model]\nhidden = [8]\n[train]\nepochs = 1\nbatch_size = 16\n"
                    "ema_decay = 0.9\n")
    run = tmp_path / "run"
    first = run_train(load_config(path), out_dir=run, progress=False)
    assert first["history"][0]["ema_val_acc"] is not None
    resumed = run_train(load_config(path, ["train.epochs=2"]), out_dir=run, resume=True, progress=False, log=list)
    assert [h["epoch"] for h in resumed["history"]] == [1, 2] and resumed["history"][1]["ema_val_loss"] is not None
    path.write_text(path.read_text().replace("ema_decay = 0.9\n", ""))
    with pytest.raises(ConfigError, match=r"train.ema_decay 0.9 -> None"):
        run_train(load_config(path, ["train.epochs=3"]), out_dir=run, resume=True, progress=False)


def test_resume_may_change_the_ema_decay_but_not_turn_the_ema_on_or_off():
    import dataclasses

    from jaxdl.config import TrainConfig
    from jaxdl.experiment._resume import resume_changes

    def tables(decay):
        return {"model": {}, "data": {}, "train": dataclasses.asdict(TrainConfig(ema_decay=decay)),
                "optim": {"name": "sgd"}}

    assert resume_changes(tables(0.9), tables(0.99), 3) == ["train.ema_decay 0.9 -> 0.99 from epoch 3"]
    with pytest.raises(ConfigError, match=r"train.ema_decay None -> 0.99 \(the EMA copy is in the state"):
        resume_changes(tables(None), tables(0.99), 3)
