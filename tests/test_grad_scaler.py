"""jaxdl.amp.GradScaler against torch.amp.GradScaler: the update rule against torch's own kernel, a real float16
overflow (skipped step, params bit-unchanged, scale backed off) against torch's recipe, fp16-mixed training of the
lecture MLP through the config and its resume, and the errors. The multi-step trajectory with clipping and Adam is
the parity case "amp.GradScaler fp16-mixed steps (one skipped) vs torch" (tests/test_parity.py)."""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from jaxdl import amp, nn, optim
from jaxdl import functional as F
from jaxdl.cli import main
from jaxdl.train import TrainState, fit, make_train_step, sweep


@pytest.mark.parametrize("scale, tracker, found_inf", [
    (65536.0, 0, False), (65536.0, 2, False), (65536.0, 3, True), (2.0**127, 2, False), (1.5, 1, True),
    (3.0e38, 2, False), (1e-30, 0, True)])
def test_update_is_torchs_amp_update_scale_kernel(scale, tracker, found_inf):
    kw = {"growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 3}
    t_scale, t_tracker = torch.tensor(scale, dtype=torch.float32), torch.tensor(tracker, dtype=torch.int32)
    torch._amp_update_scale_(t_scale, t_tracker, torch.tensor(float(found_inf)), kw["growth_factor"],
                             kw["backoff_factor"], kw["growth_interval"])
    state = amp.GradScaler(**kw).update(amp.GradScalerState(jnp.float32(scale), jnp.int32(tracker)),
                                        jnp.asarray(found_inf))
    assert (float(state.scale), int(state.growth_tracker)) == (t_scale.item(), t_tracker.item())


def test_a_float16_overflow_skips_the_step_and_backs_off_as_torch():
    # init_scale 2**40: the scaled loss's gradient does not fit float16 (max 65504) in the float16 backward of
    # the Linear, on both sides; backoff 2**-30 brings the scale to 2**10, where the next steps are finite
    kw = {"init_scale": 2.0**40, "backoff_factor": 2.0**-30, "growth_interval": 2}
    rng = np.random.default_rng(0)
    xs, ys = rng.standard_normal((3, 8, 4)).astype(np.float32), rng.integers(0, 3, (3, 8))
    model = nn.Sequential(nn.Linear(4, 3))
    tx = amp.GradScaler(**kw).wrap(optim.sgd(lr=0.1))
    state = TrainState.create(model, tx, jax.random.key(0))
    w0 = np.asarray(state.params["0"]["weight"])
    tm = torch.nn.Linear(4, 3)
    tm.load_state_dict({"weight": torch.tensor(w0), "bias": torch.tensor(np.asarray(state.params["0"]["bias"]))})
    opt, scaler = torch.optim.SGD(tm.parameters(), lr=0.1), torch.amp.GradScaler("cpu", **kw)
    with amp.autocast("cpu", jnp.float16):  # the jaxdl step is traced inside the region
        step = jax.jit(make_train_step(model, tx, F.cross_entropy), compiler_options=amp.EXACT_ROUNDING)
        mine, theirs = [], []
        for x, y in zip(xs, ys):
            state, _ = step(state, jnp.asarray(x), jnp.asarray(y, jnp.int32))
            with torch.autocast("cpu", dtype=torch.float16):
                loss = torch.nn.functional.cross_entropy(tm(torch.tensor(x)), torch.tensor(y))
            opt.zero_grad()
            scaler.scale(loss).backward()
            before = tm.weight.detach().clone()
            scaler.step(opt)
            scaler.update()
            mine.append((bool(state.opt_state.found_inf), float(state.opt_state.scaler.scale)))
            theirs.append((torch.equal(before, tm.weight.detach()), scaler.get_scale()))  # skipped: unchanged
            if len(mine) == 1:  # the skipped step: params bit-unchanged on both sides
                np.testing.assert_array_equal(state.params["0"]["weight"], w0)
                np.testing.assert_array_equal(tm.weight.detach().numpy(), w0)
    assert [m[0] for m in mine] == [t[0] for t in theirs] == [True, False, False]
    assert [m[1] for m in mine] == [t[1] for t in theirs] == [2.0**10, 2.0**10, 2.0**11]
    np.testing.assert_allclose(state.params["0"]["weight"], tm.weight.detach().numpy(), rtol=2e-3, atol=1e-4)


def test_fp16_mixed_trains_the_lecture_mlp_and_resumes(tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "configs/digits_mlp.toml", "--out", out, "--no-progress", "--set", "train.precision='fp16-mixed'",
            "--set", "train.epochs=2"]
    assert main(args) == 0
    assert main(args[:-1] + ["train.epochs=3", "--resume"]) == 0  # the scaler's state comes back with the optimizer's
    with open(os.path.join(out, "metrics.jsonl")) as f:
        history = [json.loads(line) for line in f]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert history[-1]["val_acc"] > 0.9 and history[-1]["train_loss"] < history[0]["train_loss"]
    capsys.readouterr()
    assert main(args[:-3] + ["train.epochs=4", "--resume"]) == 2  # fp16-mixed -> fp32: another optimizer state
    err = capsys.readouterr().err
    assert "train.precision 'fp16-mixed' -> 'fp32' (the loss scaler's state is in the optimizer's)" in err


def test_disabled_scaler_is_the_plain_optimizer():
    scaler = amp.GradScaler(enabled=False, growth_factor=1.0)  # torch checks the factors only when enabled
    tx, plain = scaler.wrap(optim.sgd(lr=0.1)), optim.sgd(lr=0.1)
    params, grads = {"w": jnp.ones(2)}, {"w": jnp.array([jnp.inf, 1.0])}
    state = tx.init(params)
    assert float(scaler.get_scale(state)) == 1.0 and scaler.scale(jnp.float32(3.0), state) == 3.0
    updates, state = tx.update(grads, state, params)
    np.testing.assert_array_equal(updates["w"], plain.update(grads, plain.init(params), params)[0]["w"])
    assert not bool(state.found_inf)


def test_errors_name_the_value():
    with pytest.raises(ValueError, match=r"growth_factor must be > 1.0; got 1.0"):
        amp.GradScaler(growth_factor=1.0)
    with pytest.raises(ValueError, match=r"backoff_factor must be < 1.0; got 1.5"):
        amp.GradScaler(backoff_factor=1.5)
    scaler = amp.GradScaler()
    with pytest.raises(ValueError, match="float16 gradients cannot be unscaled"):
        scaler.unscale({"w": jnp.ones(2, jnp.float16)}, scaler.init())
    model = nn.Sequential(nn.Linear(2, 2))
    state = TrainState.create(model, optim.sgd(lr=0.1), jax.random.key(0))  # not wrapped
    step = make_train_step(model, optim.sgd(lr=0.1), F.cross_entropy, precision="fp16-mixed")
    with pytest.raises(TypeError, match=r"a loss-scaled optimizer state expected .*amp.training_optimizer"):
        step(state, jnp.ones((4, 2)), jnp.zeros(4, jnp.int32))
    assert amp.is_loss_scaled(amp.training_optimizer(optax.sgd(0.1), "fp16-mixed"))
    assert not amp.is_loss_scaled(amp.training_optimizer(optax.sgd(0.1), "bf16-mixed"))


def test_sweep_fp16_mixed_copy_equals_fit():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 4)).astype(np.float32), rng.integers(0, 3, 64).astype(np.int32)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    res = sweep(model, lambda lr: optim.sgd(lr=lr), {"lr": np.array([0.1, 0.01])}, [0], (x, y), epochs=2,
                batch_size=16, precision="fp16-mixed")  # each copy carries its own scaler state (vmapped)
    one = fit(model, optim.sgd(lr=0.1), (x, y), epochs=2, batch_size=16, key=jax.random.key(0), progress=False,
              precision="fp16-mixed")
    assert amp.is_loss_scaled(res.states.opt_state) and res.states.opt_state.scaler.scale.shape == (2,)
    for a, b in zip(jax.tree.leaves(one.state.params), jax.tree.leaves(res.states.params)):
        np.testing.assert_allclose(a, b[0], rtol=1e-5, atol=1e-6)  # tests/train/test_sweep.py's vmap tolerance


@pytest.mark.parametrize("shape", [(), (2,)])
def test_scale_keeps_torchs_result_dtype(shape):
    expected = torch.amp.GradScaler("cpu").scale(torch.ones(shape, dtype=torch.float16))
    scaler = amp.GradScaler()
    out = scaler.scale(jnp.ones(shape, jnp.float16), scaler.init())
    assert (out.dtype.name, float(out.ravel()[0])) == (str(expected.dtype).split(".")[1], expected.ravel()[0].item())
