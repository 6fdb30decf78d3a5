"""Checkpoints: resume equals the uninterrupted run bit for bit; corrupt files and NaN losses are caught."""
import json
import os

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import serialization

from jaxdl import functional as F
from jaxdl.data import DataLoader
from jaxdl.train import (CheckpointError, NonFiniteLossError, TrainState, fit, load_checkpoint,
                         load_checkpoint_model, make_train_step, read_checkpoint_metadata, save_checkpoint)
from tests.train._common import blobs, mlp

X, Y = blobs(n=64)
VX, VY = blobs(n=24, seed=1)
KW = dict(batch_size=16, progress=False)


def _bits_equal(a, b):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        if jax.dtypes.issubdtype(u.dtype, jax.dtypes.prng_key):
            u, v = jax.random.key_data(u), jax.random.key_data(v)
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v), strict=True)


@pytest.mark.standard_promotion("optax.adam")
def test_resume_after_epoch_k_equals_the_uninterrupted_run(key, tmp_path):
    kw = dict(KW, patience=3)  # the early-stopping bookkeeping (best.msgpack, wait) must resume too
    full = fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=4, key=key, **kw)
    fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=2, key=key, out_dir=tmp_path, **kw)
    resumed = fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=4, key=key, out_dir=tmp_path, resume=True, **kw)
    assert resumed.best_epoch == full.best_epoch and (tmp_path / "best.msgpack").exists()
    _bits_equal(full.state.params, resumed.state.params)
    _bits_equal(full.state.model_state, resumed.state.model_state)
    _bits_equal(full.state.opt_state, resumed.state.opt_state)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    lines = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3, 4] and [r["step"] for r in lines] == [4, 8, 12, 16]
    np.testing.assert_allclose([r["step_loss"] for r in lines], [r["step_loss"] for r in full.history], rtol=1e-6)


def test_fit_from_a_given_state(key, tmp_path):
    from jaxdl import optim

    # state= TrainState.create(model, tx, key) is the run key= starts: bit for bit
    tx = optim.adam(lr=1e-2)
    by_key = fit(mlp(), tx, (X, Y), (VX, VY), epochs=2, key=key, **KW)
    by_state = fit(mlp(), tx, (X, Y), (VX, VY), epochs=2, state=TrainState.create(mlp(), tx, key), **KW)
    _bits_equal(by_key.state, by_state.state)
    # resume from a restored state with its lr changed: epochs 3-4 use the new lr from their first step, the
    # parameters equal those of a run whose lr is set by hand after epoch 2 (the first run continued from state=)
    fit(mlp(), tx, (X, Y), (VX, VY), epochs=2, key=key, out_dir=tmp_path, **KW)
    restored, _ = load_checkpoint(tmp_path / "checkpoint.msgpack", TrainState.create(mlp(), tx, key))
    restored = restored.replace(opt_state=optim.set_lr(restored.opt_state, 3e-3))
    resumed = fit(mlp(), tx, (X, Y), (VX, VY), epochs=4, state=restored, out_dir=tmp_path, resume=True, **KW)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    np.testing.assert_allclose(resumed.history[2]["step_lr"] + resumed.history[3]["step_lr"], 3e-3, rtol=1e-6)
    assert resumed.history[1]["step_lr"] == pytest.approx([1e-2] * 4)
    state = by_state.state.replace(opt_state=optim.set_lr(by_state.state.opt_state, 3e-3))
    step = jax.jit(make_train_step(mlp(), tx, F.cross_entropy))
    loader = DataLoader((X, Y), 16, shuffle=True, key=state.data_key(), drop_last=True)
    for epoch in (3, 4):
        for xb, yb in loader.batches(epoch):
            state, _ = step(state, xb, yb)
    assert int(state.step) == int(resumed.state.step) == 16
    chex.assert_trees_all_close(resumed.state.params, state.params, rtol=1e-5, atol=1e-7)
    # a state that is not the checkpoint's, and key= with state=, are refused
    with pytest.raises(ValueError, match="state is at step 0, but .* is at step 16"):
        fit(mlp(), tx, (X, Y), epochs=5, state=TrainState.create(mlp(), tx, key), out_dir=tmp_path, resume=True, **KW)
    with pytest.raises(ValueError, match="pass exactly one; got both"):
        fit(mlp(), tx, (X, Y), epochs=1, key=key, state=restored, **KW)


def test_save_load_roundtrip_and_corrupt_files(key, tmp_path):
    state = TrainState.create(mlp(), optax.adam(1e-3), key)
    path = tmp_path / "checkpoint.msgpack"
    save_checkpoint(path, state, {"epoch": 3})
    restored, extra = load_checkpoint(path, state)
    _bits_equal(restored, state)
    assert extra == {"epoch": 3} and jax.dtypes.issubdtype(restored.key.dtype, jax.dtypes.prng_key)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_checkpoint(path, state)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        load_checkpoint(path, state)
    path.write_bytes(good)
    other = TrainState.create(mlp(hidden=5), optax.adam(1e-3), key)
    with pytest.raises(ValueError, match="does not match"):
        load_checkpoint(path, other)


def test_a_failed_write_keeps_the_previous_checkpoint(key, tmp_path, monkeypatch):
    state = TrainState.create(mlp(), optax.adam(1e-3), key)
    path = tmp_path / "checkpoint.msgpack"
    save_checkpoint(path, state, {"epoch": 1})
    good = path.read_bytes()

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, state.replace(step=state.step + 1), {"epoch": 2})
    assert path.read_bytes() == good and os.listdir(tmp_path) == ["checkpoint.msgpack"]


def _nan_after(k):
    """An optax transform that turns every update into NaN from update k+1 on (a diverging run, on cue)."""
    def init(params):
        return jnp.zeros((), jnp.int32)

    def update(updates, count, params=None):
        bad = count >= k
        return jax.tree.map(lambda u: jnp.where(bad, jnp.nan, u), updates), count + 1

    return optax.GradientTransformation(init, update)


@pytest.mark.parametrize("mode", ["scan", "loop"])
def test_nan_loss_stops_with_epoch_and_step_and_keeps_the_last_good_checkpoint(key, tmp_path, mode):
    tx = optax.chain(optax.sgd(0.1), _nan_after(4))  # 64 // 16 = 4 steps per epoch: epoch 2 goes bad
    with pytest.raises(NonFiniteLossError, match=r"at epoch 2, step 2 of 4 \(global step 6\).*last good checkpoint"):
        fit(mlp(), tx, (X, Y), (VX, VY), epochs=3, key=key, out_dir=tmp_path, mode=mode, **KW)
    state, extra = load_checkpoint(tmp_path / "checkpoint.msgpack", TrainState.create(mlp(), tx, key))
    assert extra["epoch"] == 1 and int(state.step) == 4
    assert all(np.all(np.isfinite(leaf)) for leaf in jax.tree.leaves(state.params))


def test_nan_in_the_first_epoch_does_not_claim_a_good_checkpoint(key, tmp_path):
    tx = optax.chain(optax.sgd(0.1), _nan_after(1))
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1, step 3 of 4 .*No checkpoint was written") as err:
        fit(mlp(), tx, (X, Y), (VX, VY), epochs=2, key=key, out_dir=tmp_path, **KW)
    assert "last good checkpoint" not in str(err.value) and not (tmp_path / "checkpoint.msgpack").exists()


def test_a_flipped_bit_in_a_weight_is_caught_not_loaded(key, tmp_path):
    # Such bytes still parse as msgpack: before the SHA-256 they loaded silently as a different weight.
    state = TrainState.create(mlp(), optax.adam(1e-3), key)
    path = tmp_path / "checkpoint.msgpack"
    save_checkpoint(path, state, {"epoch": 1})
    data = bytearray(path.read_bytes())
    at = bytes(data).find(np.asarray(state.params["0"]["weight"]).tobytes())
    assert at > 0
    data[at + 5] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt.*SHA-256 does not match"):
        load_checkpoint(path, state)


def test_metadata_travels_in_the_file_under_the_checksum(key, tmp_path):
    state = TrainState.create(mlp(), optax.adam(1e-3), key)
    path = tmp_path / "checkpoint.msgpack"
    meta = {"model": {"kind": "mlp", "hidden": [8]}, "vocab": "ab\n"}
    save_checkpoint(path, state, {"epoch": 1}, metadata=meta)
    assert read_checkpoint_metadata(path) == meta
    assert load_checkpoint(path, state)[1] == {"epoch": 1}
    data = bytearray(path.read_bytes())
    at = bytes(data).find(b'"mlp"')
    data[at + 1] = ord("n")  # "nlp": still valid JSON, still valid msgpack
    path.write_bytes(bytes(data))
    for read in (read_checkpoint_metadata, lambda p: load_checkpoint(p, state)):
        with pytest.raises(CheckpointError, match=f"{path}.*SHA-256 does not match"):
            read(path)
    with pytest.raises(TypeError, match="metadata must be JSON-serialisable"):
        save_checkpoint(path, state, metadata={"x": object()})


@pytest.mark.parametrize("damage", ["missing", "truncated", "not a checkpoint", "other payload"])
def test_every_reader_names_the_file_on_a_bad_one(key, tmp_path, damage):
    state = TrainState.create(mlp(), optax.adam(1e-3), key)
    path = tmp_path / "checkpoint.msgpack"
    save_checkpoint(path, state, metadata={"a": 1})
    good = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(good[:-7])
    elif damage == "not a checkpoint":
        path.write_bytes(b"\x00\x01 hello")
    else:
        path.write_bytes(serialization.msgpack_serialize({"params": {"w": np.zeros(3)}}))
    for read in (read_checkpoint_metadata, lambda p: load_checkpoint(p, state),
                 lambda p: load_checkpoint_model(p, mlp())):
        with pytest.raises(CheckpointError, match=str(path)) as err:
            read(path)
        assert "\n" not in str(err.value)


def test_load_checkpoint_model_needs_only_the_model(key, tmp_path):
    state = TrainState.create(mlp(), optax.adam(1e-3), key)
    path = tmp_path / "checkpoint.msgpack"
    save_checkpoint(path, state)
    params, model_state = load_checkpoint_model(path, mlp())
    _bits_equal((params, model_state), (state.params, state.model_state))
    save_checkpoint(path, TrainState.create(mlp(hidden=5), optax.adam(1e-3), key))
    with pytest.raises(CheckpointError, match=r"does not match.*running_mean'\]: expected shape \(8,\), got \(5,\)"):
        load_checkpoint_model(path, mlp())


@pytest.mark.standard_promotion("optax.adam")
def test_fit_writes_its_metadata_into_both_checkpoints(key, tmp_path):
    meta = {"config": {"lr": 0.01}}
    fit(mlp(), optax.adam(1e-2), (X, Y), (VX, VY), epochs=1, key=key, out_dir=tmp_path, patience=1,
        metadata=meta, **KW)
    assert read_checkpoint_metadata(tmp_path / "checkpoint.msgpack") == meta
    assert read_checkpoint_metadata(tmp_path / "best.msgpack") == meta
    with pytest.raises(TypeError, match="metadata must be a dict"):
        fit(mlp(), optax.adam(1e-2), (X, Y), epochs=1, key=key, out_dir=tmp_path, metadata=[1], **KW)
