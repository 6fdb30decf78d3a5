"""fit: loop and scan modes agree, early stopping restores the best epoch, reports, errors, no recompiles."""
import json
import logging

import chex
import jax
import numpy as np
import optax
import pytest

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.data import DataLoader
from jaxdl.train import TrainState, data_parallel_mesh, fit, make_eval_step, make_train_step
from tests.helpers import assert_close
from tests.train._common import blobs, mlp

X, Y = blobs(n=100)  # 100 % 16 != 0: exercises drop_last (train) and the smaller final batch (validation)
VX, VY = blobs(n=40, seed=1)


@pytest.mark.standard_promotion("optax.adam")
def test_loop_and_scan_give_the_same_parameters_and_history(key):
    runs = [fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=3, batch_size=16, key=key, mode=mode,
                progress=False) for mode in ("loop", "scan")]
    assert_close(runs[0].state.params, runs[1].state.params)
    assert_close(runs[0].state.model_state, runs[1].state.model_state)
    assert int(runs[0].state.step) == int(runs[1].state.step) == 3 * (100 // 16)
    for a, b in zip(runs[0].history, runs[1].history):
        np.testing.assert_allclose([a["train_loss"], a["val_loss"]], [b["train_loss"], b["val_loss"]], rtol=1e-5)
        assert a["train_acc"] == b["train_acc"] and a["val_acc"] == b["val_acc"]
    assert runs[1].history[-1]["val_loss"] < runs[1].history[0]["val_loss"]  # it learns


@pytest.mark.standard_promotion("optax.adam")
def test_early_stopping_restores_the_best_epoch(key):
    rng = np.random.default_rng(3)
    y_noise, vy_noise = rng.integers(0, 3, 100).astype(np.int32), rng.integers(0, 3, 40).astype(np.int32)
    model = nn.Sequential(nn.Linear(6, 64), nn.ReLU(), nn.Linear(64, 3))  # memorises random labels: val rises
    kw = dict(epochs=30, batch_size=20, key=key, progress=False)
    res = fit(model, optax.adam(3e-2), (X, y_noise), (VX, vy_noise), patience=2, **kw)
    val = [h["val_loss"] for h in res.history]
    assert len(res.history) < 30, "expected an early stop"
    assert res.best_epoch == 1 + int(np.argmin(val)) and len(res.history) == res.best_epoch + 2
    again = fit(model, optax.adam(3e-2), (X, y_noise), (VX, vy_noise), **dict(kw, epochs=res.best_epoch))
    assert_close(res.state.params, again.state.params)


@pytest.mark.standard_promotion("optax.adam")
def test_reports_progress_metrics_and_plot(key, tmp_path, capsys):
    fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=2, batch_size=16, key=key, out_dir=tmp_path)
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2]
    assert {"train_loss", "train_acc", "val_loss", "val_acc", "examples_per_s"} <= set(lines[0])
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "ex_per_s" in err and "loss=" in err


@pytest.mark.standard_promotion("optax.adam")
def test_regression_and_token_targets(key):
    reg = fit(nn.Linear(6, 1), optax.sgd(0.1), (X, X[:, :1] * 2.0), epochs=2, batch_size=10, key=key,
              loss_fn=F.mse_loss, progress=False, mode="loop")
    assert reg.history[-1]["train_acc"] is None and reg.history[-1]["train_loss"] < reg.history[0]["train_loss"]
    tokens = np.random.default_rng(0).integers(0, 5, (12, 4)).astype(np.int32)  # (B, T) like the GPT's
    lm = nn.Sequential(nn.Embedding(5, 8), nn.Linear(8, 5))
    res = fit(lm, optax.adam(1e-2), (tokens, np.roll(tokens, -1, axis=1)), (tokens, tokens), epochs=1,
              batch_size=4, key=key, loss_fn=lambda o, t: F.cross_entropy(o.reshape(-1, 5), t.reshape(-1)),
              progress=False)
    assert 0.0 <= res.history[0]["val_acc"] <= 1.0


@pytest.mark.parametrize("kwargs, data, match", [
    ({}, (X, Y[:-1]), "different lengths: 100 examples vs 99 labels"),
    ({}, (X, Y + 1), r"labels must lie in \[0, 3\).*\[1, 3\]"),
    ({"batch_size": 101}, (X, Y), "train_data yields no batch: batch_size=101 is larger than its 100 examples"),
    ({"batch_size": None}, (X, Y), "batch_size is required when train_data is arrays"),
    ({"batch_size": True}, (X, Y), r"batch_size must be an int ≥ 1; got True \(bool\)"),
    ({"epochs": True}, (X, Y), r"epochs must be an int ≥ 1; got True \(bool\)"),
    ({"epochs": 0}, (X, Y), "epochs must be an int ≥ 1; got 0"),
    ({"patience": True}, (X, Y), r"patience must be an int ≥ 1; got True \(bool\)"),
    ({"key": None}, (X, Y), "pass exactly one"),
    ({"loss_fn": F.mse_loss}, (X, X[:, :2]), "does not fit loss_fn mse_loss"),
    ({}, (X[:, :5], Y), r"does not accept inputs of shape \(16, 5\)"),
    ({"mode": "fused"}, (X, Y), "mode must be one of"),
    ({"patience": 2}, (X, Y), "patience=2 needs val_data"),
])
def test_bad_input_raises_before_training(key, kwargs, data, match):
    with pytest.raises(ValueError, match=match):
        fit(mlp(), optax.sgd(0.1), data, **{"epochs": 1, "batch_size": 16, "key": key, "progress": False, **kwargs})


@pytest.mark.standard_promotion("optax.adam")
def test_no_recompiles_after_the_first_epoch(key, caplog):
    # a first fit warms JAX's process-wide caches (key splitting, unstack, ...), which a test running first in
    # its process (pytest-xdist) would otherwise count in the 1-epoch run only
    fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=1, batch_size=16, key=key, progress=False)
    counts = {}
    for epochs in (1, 3):
        caplog.clear()
        with jax.log_compiles(), caplog.at_level(logging.WARNING, logger="jax"):
            fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=epochs, batch_size=16, key=key, progress=False)
        counts[epochs] = sum("Finished XLA compilation" in r.getMessage() for r in caplog.records)
    assert counts[1] > 0 and counts[3] == counts[1], counts


@pytest.mark.standard_promotion("optax.adam")
def test_ignore_index_targets_are_left_out_of_accuracy(key):
    # Padded token targets (-100, cross_entropy's default ignore_index) are accepted and not counted.

    model = nn.Sequential(nn.Embedding(5, 8), nn.Linear(8, 5))
    tokens = np.random.default_rng(1).integers(0, 5, (8, 6)).astype(np.int32)
    targets = np.roll(tokens, -1, axis=1)
    targets[:, -2:] = -100
    loss_fn = lambda o, t: F.cross_entropy(o.reshape(-1, 5), t.reshape(-1))  # noqa: E731
    res = fit(model, optax.adam(1e-2), (tokens, targets), (tokens, targets), epochs=1, batch_size=4, key=key,
              loss_fn=loss_fn, progress=False)
    state = res.state
    logits, _ = model.apply(state.params, state.model_state, tokens)
    keep = targets != -100
    expected = np.sum((np.argmax(np.asarray(logits), -1) == targets) & keep) / keep.sum()
    np.testing.assert_allclose(res.history[0]["val_acc"], expected, rtol=1e-6)
    metrics = make_eval_step(model, loss_fn)(state, tokens, targets)
    assert int(metrics["count"]) == keep.sum() == 32
    with pytest.raises(ValueError, match=r"or equal ignore_index=-100\); got labels in \[-1, 4\]"):
        fit(model, optax.adam(1e-2), (tokens, np.where(keep, targets, -1)), epochs=1, batch_size=4, key=key,
            loss_fn=loss_fn, progress=False)


def test_state_with_a_shared_init_array_can_be_donated(key):
    class SharedZeros(nn.Linear):  # an init that hands out the same zeros array twice
        def init(self, key, dtype=None):
            params, state = super().init(key)
            shared = jax.numpy.zeros(self.out_features)
            return {"weight": params["weight"], "bias": shared, "bias2": shared}, state

        def apply(self, params, state, x, training=False, key=None):
            return super().apply({"weight": params["weight"], "bias": params["bias"] + params["bias2"]}, state, x)

    model = SharedZeros(6, 3)
    tx = optax.sgd(0.1)
    state = TrainState.create(model, tx, key)
    train_step = jax.jit(make_train_step(model, tx, F.cross_entropy), donate_argnums=0)
    new_state, metrics = train_step(state, X[:16], Y[:16])
    assert np.isfinite(float(metrics["loss"])) and int(new_state.step) == 1


@pytest.mark.standard_promotion("optax.adam")
def test_a_dataloader_over_memory_mapped_files_replays_the_arrays_run(key, tmp_path):
    files = []
    for name, a in (("x", X), ("y", Y), ("vx", VX), ("vy", VY)):
        np.save(tmp_path / f"{name}.npy", a)
        files.append(str(tmp_path / f"{name}.npy"))
    data_key = TrainState.create(mlp(), optax.adam(1e-2), key).data_key()
    train = DataLoader(tuple(files[:2]), 16, shuffle=True, key=data_key, drop_last=True)
    val = DataLoader(tuple(files[2:]), 16)
    kw = dict(epochs=2, key=key, progress=False)
    streamed = fit(mlp(), optax.adam(1e-2), train, val, mode="loop", **kw)
    arrays = fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), batch_size=16, mode="scan", **kw)
    chex.assert_trees_all_close(streamed.state.params, arrays.state.params, rtol=1e-5, atol=1e-7)
    chex.assert_trees_all_close(streamed.state.model_state, arrays.state.model_state, rtol=1e-5, atol=1e-7)
    for a, b in zip(streamed.history, arrays.history):
        np.testing.assert_allclose([a["val_loss"], *a["step_loss"]], [b["val_loss"], *b["step_loss"]], rtol=1e-5)
    # torch's default drop_last=False: a smaller last step, and every example counted
    partial = fit(mlp(), optax.adam(1e-2), DataLoader((X, Y), 16), mode="loop", **kw)
    assert len(partial.history[0]["step_loss"]) == 7 and int(partial.state.step) == 14
    # fewer examples than one batch: torch's loader still yields that one smaller batch
    small = fit(mlp(), optax.adam(1e-2), DataLoader((X[:5], Y[:5]), 16), (VX, VY), mode="loop", **kw)
    assert [len(h["step_loss"]) for h in small.history] == [1, 1] and int(small.state.step) == 2
    assert all(np.isfinite(h["val_loss"]) for h in small.history)
    with pytest.raises(ValueError, match="train_data yields no batch"):  # drop_last=True: nothing to train on
        fit(mlp(), optax.adam(1e-2), DataLoader((X[:5], Y[:5]), 16, drop_last=True), mode="loop", **kw)


@pytest.mark.standard_promotion("optax.adam")
@pytest.mark.parametrize("n, shuffle, drop_last", [(100, True, False), (100, False, True), (100, True, True),
                                                  (5, True, False)])
def test_scan_mode_trains_a_dataloader_as_loop_mode_does(key, n, shuffle, drop_last):
    # scan reads the loader's arrays in its epoch_permutation order: the same steps as loop's host batches,
    # including torch's smaller last batch (drop_last=False) and a batch_size larger than the data (one batch)
    train = DataLoader((X[:n], Y[:n]), 16, shuffle, key=jax.random.key(7) if shuffle else None, drop_last=drop_last)
    val = DataLoader((VX, VY), 16, drop_last=drop_last)
    runs = [fit(mlp(), optax.adam(1e-2), train, val, epochs=2, key=key, mode=mode, progress=False)
            for mode in ("loop", "scan")]
    assert_close(runs[0].state.params, runs[1].state.params)
    assert int(runs[0].state.step) == int(runs[1].state.step) == 2 * len(train)
    assert len(runs[1].history[0]["step_loss"]) == (n // 16 if drop_last else -(-n // 16))
    for a, b in zip(runs[0].history, runs[1].history):
        np.testing.assert_allclose([a["val_loss"], *a["step_loss"]], [b["val_loss"], *b["step_loss"]], rtol=1e-5)
        assert a["val_acc"] == b["val_acc"]


@pytest.mark.standard_promotion("optax.adam")
def test_val_loss_averages_the_examples_a_drop_last_loader_evaluates(key):
    # 24 validation rows, batches of 16, drop_last: the mean is over the 16 rows evaluated, not all 24
    kw = dict(epochs=1, batch_size=16, key=key, progress=False, mode="loop")
    loader = fit(mlp(), optax.adam(1e-2), (X, Y), DataLoader((VX[:24], VY[:24]), 16, drop_last=True), **kw)
    arrays = fit(mlp(), optax.adam(1e-2), (X, Y), (VX[:16], VY[:16]), **kw)
    np.testing.assert_allclose(loader.history[0]["val_loss"], arrays.history[0]["val_loss"], rtol=1e-6)
    assert loader.history[0]["val_acc"] == arrays.history[0]["val_acc"]


@pytest.mark.parametrize("loader_kw, kwargs, match", [
    ({"num_replicas": 2, "rank": 1, "drop_last": True}, {"mode": "scan"}, "mode='scan' keeps the whole data set"),
    ({"drop_last": True}, {"val_data": DataLoader((VX[:5], VY[:5]), 16, drop_last=True)}, "val_data yields no batch"),
    ({}, {"batch_size": 8}, "batch_size=8 disagrees with the DataLoader's batch_size=16"),
    ({"num_replicas": 2, "rank": 1, "drop_last": True}, {}, "needs a mesh that spans the processes"),
    ({"num_replicas": 2, "rank": 1, "drop_last": True}, {"mesh": "mesh"}, r"num_replicas=2 processes, but 1 run"),
])
def test_dataloader_misuse_raises(key, loader_kw, kwargs, match):
    if kwargs.get("mesh") == "mesh":
        kwargs = dict(kwargs, mesh=data_parallel_mesh())
    with pytest.raises(ValueError, match=match):
        fit(mlp(), optax.sgd(0.1), DataLoader((X, Y), 16, **loader_kw), epochs=1, key=key, progress=False,
            **{"mode": "loop", **kwargs})


@pytest.mark.parametrize("mode", ["scan", "loop"])
def test_per_step_loss_and_lr_callbacks_and_tensorboard(key, tmp_path, mode):
    from jaxdl import optim  # noqa: PLC0415
    from jaxdl.optim import lr_scheduler as sched  # noqa: PLC0415

    seen = []
    tx = optim.sgd(lr=sched.StepLR(0.1, step_size=3, gamma=0.5))  # halves every 3 updates
    res = fit(mlp(), tx, (X, Y), (VX, VY), epochs=2, batch_size=16, key=key, mode=mode, progress=False,
              out_dir=tmp_path, tensorboard=True, callbacks=[lambda record, state: seen.append(
                  (record["epoch"], int(state.step)))])
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in lines] == [6, 12] and seen == [(1, 6), (2, 12)]
    np.testing.assert_allclose(lines[0]["step_lr"] + lines[1]["step_lr"], 0.1 * 0.5 ** (np.arange(12) // 3),
                               rtol=1e-6)
    np.testing.assert_allclose(lines[1]["train_loss"], np.mean(lines[1]["step_loss"]), rtol=1e-6)
    assert lines == json.loads(json.dumps(res.history))
    scalars = _tensorboard_scalars(tmp_path / "tensorboard")
    assert [step for step, _ in scalars["train/lr"]] == list(range(1, 13))
    np.testing.assert_allclose([v for _, v in scalars["train/step_loss"]],
                               lines[0]["step_loss"] + lines[1]["step_loss"], rtol=1e-6)
    assert [step for step, _ in scalars["epoch/val_loss"]] == [1, 2]


def _tensorboard_scalars(folder):
    """{tag: [(step, value)]} from the event files (TFRecord framing: u64 length, u32 crc, bytes, u32 crc)."""
    import struct  # noqa: PLC0415

    from tensorboardX.proto.event_pb2 import Event  # noqa: PLC0415

    out = {}
    for path in sorted(folder.iterdir()):
        data, at = path.read_bytes(), 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for v in event.summary.value:
                out.setdefault(v.tag, []).append((event.step, v.simple_value))
    return out
