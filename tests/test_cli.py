"""The jaxdl command: help for each command, one-line config errors with exit code 2, train and compare runs."""
import csv
import json
import os

import pytest

from jaxdl.cli import COMMANDS, main


def flip_a_weight_bit(path):
    """Flip one bit inside the raw bytes of a weight array of a checkpoint (the file still parses)."""
    import jax

    from jaxdl.train import read_checkpoint

    weight = jax.tree.leaves(read_checkpoint(path).state["params"])[0]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    i = data.find(weight.tobytes())
    assert i >= 0
    data[i + weight.nbytes // 2] ^= 0x01
    with open(path, "wb") as f:
        f.write(bytes(data))


@pytest.mark.parametrize("command", ["train", "compare"])
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0 and "CONFIG" in capsys.readouterr().out.upper()


def test_top_level_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


@pytest.mark.parametrize("command", ["train", "compare"])
@pytest.mark.parametrize("args,words", [
    (["configs/nope.toml"], "not found"),                                        # missing file
    (["configs/digits_mlp.toml", "--set", "optim.lrr=0.1"], "unknown key optim.lrr"),
    (["configs/digits_mlp.toml", "--set", "train.epochs='ten'"], "expected int, got str"),
    (["configs/digits_mlp.toml", "--set", "model.dropout=1.5"], "model.dropout = 1.5"),
    (["configs/digits_mlp.toml", "--set", "train.precision='bf16'"],
     "train.precision = 'bf16' is not allowed: expected one of ('fp32', 'bf16-mixed', "
     "'fp16-mixed')"),
])
def test_bad_config_is_one_line_exit_2(command, args, words, capsys):
    assert main([command, *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and words in err and err.count("\n") == 1, err


@pytest.mark.parametrize("command", ["train", "compare"])
@pytest.mark.parametrize("sets,words", [  # tables that disagree with each other or the data: still one line
    (["train.loss='binary_cross_entropy'", "model.out_features=1", "model.sigmoid_output=True"],
     "needs labels 0/1; data.kind = 'digits'"),
    (["model.out_features=5"], "model.out_features = 5, but data.kind = 'digits' has 10 classes"),
    (["data.kind='spirals'", "data.n=4", "data.classes=6"], "training split is empty"),
    (["data.kind='npz'", "data.path='{npz}'"], "data.val_fraction does not apply to npz"),
])
def test_inconsistent_config_is_one_line_exit_2(command, sets, words, tmp_path, capsys):
    import numpy as np

    np.savez(tmp_path / "wrong.npz", a=np.zeros(3))
    sets = [s.format(npz=tmp_path / "wrong.npz") for s in sets]
    args = [command, "configs/compare_optimizers.toml" if command == "compare" else "configs/digits_mlp.toml",
            "--no-progress", "--out", str(tmp_path / "out"), *sum((["--set", s] for s in sets), [])]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and words in err and err.count("\n") == 1, err


def test_train_writes_outputs_and_resumes(tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "configs/logreg_moons.toml", "--out", out, "--no-progress", "--set", "train.epochs=3"]
    assert main(args) == 0
    assert {"metrics.jsonl", "checkpoint.msgpack", "curves.png"} <= set(os.listdir(out))
    assert main(args[:-1] + ["train.epochs=5", "--resume"]) == 0
    with open(os.path.join(out, "metrics.jsonl")) as f:
        assert [json.loads(line)["epoch"] for line in f] == [1, 2, 3, 4, 5]
    assert "epoch 5:" in capsys.readouterr().out


def test_compare_shortened(tmp_path, capsys):
    out = str(tmp_path / "cmp")
    assert main(["compare", "configs/compare_optimizers.toml", "--out", out, "--no-progress",
                 "--set", "train.epochs=3", "--set", "compare.num_lrs=3", "--set", "compare.seeds=[0, 1]",
                 "--set", "compare.lr_min=0.001", "--set", "compare.lr_max=0.1",
                 "--set", "compare.variants=[{'label': 'SGD momentum 0.9', 'name': 'sgd', 'momentum': 0.9},"
                 " {'label': 'AdamW', 'name': 'adamw'}]"]) == 0
    with open(os.path.join(out, "runs.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3 * 2 and {r["optimizer"] for r in rows} == {"SGD momentum 0.9", "AdamW"}
    assert {float(r["lr"]) for r in rows} == {0.001, 0.01, 0.1}
    assert os.path.getsize(os.path.join(out, "compare.png")) > 10_000
    table = capsys.readouterr().out
    with open(os.path.join(out, "table.txt")) as f:
        assert f.read().splitlines()[1:] == table.splitlines()[1:3]  # the printed table, also written
    assert "SGD momentum 0.9" in table and "AdamW" in table and "±" in table
    # 3 epochs of AdamW at lr 0.01 already beat chance (0.1) by far on digits
    assert max(float(r["val_acc"]) for r in rows if r["optimizer"] == "AdamW") > 0.8


def test_model_only_gpt_config_is_one_line_exit_2(capsys):
    assert main(["train", "configs/gpt2_124m.toml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and "no [data] or [train] table" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("damage,words", [
    ("truncate", "is truncated or corrupt"),
    ("bitflip", "SHA-256 does not match"),
])
def test_resume_from_bad_checkpoint_is_one_line_exit_1(damage, words, tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "configs/logreg_moons.toml", "--out", out, "--no-progress", "--set", "train.epochs=1"]
    assert main(args) == 0
    ckpt = os.path.join(out, "checkpoint.msgpack")
    if damage == "truncate":
        with open(ckpt, "r+b") as f:
            f.truncate(os.path.getsize(ckpt) // 2)
    else:
        flip_a_weight_bit(ckpt)
    with open(ckpt, "rb") as f:
        before = f.read()
    capsys.readouterr()
    assert main(args + ["--resume"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and words in err and ckpt in err and err.count("\n") == 1, err
    with open(ckpt, "rb") as f:
        assert f.read() == before  # the user's file is left as it was


def test_diverged_run_is_one_line_exit_1(tmp_path, capsys):
    args = ["train", "configs/digits_mlp.toml", "--out", str(tmp_path / "run"), "--no-progress",
            "--set", "train.epochs=2", "--set", "optim.lr=1e30"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and "loss is" in err and err.count("\n") == 1, err


# --- one meaning for optimizer settings (issue 11 item 2, issue 15 item 3) ------------------------------------
def updates(tx, grads, params, steps=1):
    """The update of the last of ``steps`` steps with the same ``grads``."""
    import jax.numpy as jnp

    state = tx.init(params)
    for _ in range(steps):
        upd, state = tx.update(grads, state, params)
    return {k: float(jnp.ravel(v)[0]) for k, v in upd.items()}


@pytest.mark.parametrize("config,sets,grad,steps,want", [
    # AdamW with an explicit weight_decay 0: a zero gradient gives a zero update (main: -lr·1e-2)
    ("configs/digits_mlp.toml", ["optim.weight_decay=0.0"], 0.0, 1, 0.0),
    # AdamW with weight_decay not set: torch's default 1e-2, decoupled: -lr·λ·θ at θ = 1
    ("configs/logreg_moons.toml", ["optim.name='adamw'"], 0.0, 1, -0.5 * 1e-2),
    # SGD with momentum 0.9 (spirals_relu, lr 0.1): the second step moves by lr·(1 + 0.9)
    ("configs/spirals_relu.toml", [], 1.0, 2, -0.1 * 1.9),
    # an explicit momentum 0 is no momentum (main's sgd_momentum turned 0 into 0.9)
    ("configs/spirals_relu.toml", ["optim.momentum=0.0"], 1.0, 2, -0.1),
    ("configs/spirals_relu.toml", ["optim.lr=0.3"], 1.0, 1, -0.3),
])
def test_optimizer_from_config(config, sets, grad, steps, want):
    import jax.numpy as jnp

    from jaxdl.config import load_config
    from jaxdl.experiment import build_tx

    tx = build_tx(load_config(config, sets).optim)
    got = updates(tx, {"w": jnp.full(3, grad)}, {"w": jnp.ones(3)}, steps)
    assert got["w"] == pytest.approx(want, rel=1e-6, abs=1e-12), got


@pytest.mark.parametrize("config,extra", [("configs/gpt_char.toml", ["--set", "data.num_chars=20000"]),
                                          ("configs/digits_mlp.toml", [])])
def test_train_precision_reaches_fit(config, extra, monkeypatch):
    import jaxdl.train

    seen = {}

    def fake_fit(*args, **kwargs):
        seen["precision"] = kwargs["precision"]
        raise SystemExit(0)

    monkeypatch.setattr(jaxdl.train, "fit", fake_fit)
    with pytest.raises(SystemExit):
        main(["train", config, "--set", "train.precision='bf16-mixed'", "--set", "train.out_dir=''", *extra,
              "--no-progress"])
    assert seen == {"precision": "bf16-mixed"}


def test_gpt_trains_with_the_configs_optim_lr(monkeypatch, capsys):
    # --set optim.lr on configs/gpt_char.toml changes the lr of the optimizer the GPT recipe hands to fit
    # (main read train.lr and ignored optim.lr)
    import jax.numpy as jnp

    import jaxdl.train

    seen = {}

    def fake_fit(model, tx, *args, **kwargs):
        seen["update"] = updates(tx, {"w": jnp.ones(2)}, {"w": jnp.zeros(2)})["w"]
        raise SystemExit(0)

    monkeypatch.setattr(jaxdl.train, "fit", fake_fit)
    with pytest.raises(SystemExit):
        main(["train", "configs/gpt_char.toml", "--set", "optim.lr=0.25", "--set", "data.num_chars=20000",
              "--set", "train.out_dir=''", "--no-progress"])
    assert seen["update"] == pytest.approx(-0.25, rel=1e-4)  # Adam's first step: -lr·g/(|g| + eps), in float32


def test_gpt_config_typo_is_one_line_exit_2(capsys):
    assert main(["train", "configs/gpt_char.toml", "--set", "train.lrr=0.5"]) == 2
    err = capsys.readouterr().err
    assert err == ("jaxdl: error: unknown key train.lrr; allowed keys: epochs, batch_size, seed, loss, mode, "
                   "precision, patience, out_dir, ema_decay, ema_use_buffers\n"), err


# --- the run lifecycle (issue 15 items 1, 2, 6) ---------------------------------------------------------------
MOONS = ["train", "configs/logreg_moons.toml", "--no-progress"]


def test_run_folder_is_never_overwritten_by_accident(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(MOONS + ["--out", str(out), "--set", "train.epochs=2"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / ".tmp-abc.msgpack").write_bytes(b"half a checkpoint")  # a write killed mid-way
    capsys.readouterr()
    assert main(MOONS + ["--out", str(out), "--set", "train.epochs=1"]) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err and err.count("\n") == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {**before, ".tmp-abc.msgpack": b"half a checkpoint"}
    assert main(MOONS + ["--out", str(out), "--set", "train.epochs=1", "--overwrite"]) == 0
    assert not (out / ".tmp-abc.msgpack").exists()  # cleaned up on the next start
    assert [json.loads(line)["epoch"] for line in (out / "metrics.jsonl").read_text().splitlines()] == [1]


def test_compare_refuses_to_overwrite(tmp_path, capsys):
    (tmp_path / "runs.csv").write_text("earlier results\n")
    assert main(["compare", "configs/compare_optimizers.toml", "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "already holds a comparison (runs.csv)" in err and err.count("\n") == 1, err
    assert (tmp_path / "runs.csv").read_text() == "earlier results\n"


@pytest.mark.parametrize("case,words", [
    ("resume_no_out", "--resume needs an output folder"),
    ("out_is_file", "is a file, not a folder"),
    ("read_only", "is not writable"),
    ("npz_float_labels", "y_train must be integer class labels of shape (N,); got float64 (8,)"),
    ("npz_column_labels", "got int64 (8, 1) (use y.ravel())"),
    ("npz_features", "x_val has 3 features but x_train has 2"),
    ("npz_not_a_zip", "cannot be read as an .npz"),
    ("npz_keys", "the .npz lacks ['x_val', 'y_val']; it has ['x_train', 'y_train'], expected"),
    ("config_is_a_folder", "cannot be read"),
])
def test_path_errors_are_one_line(case, words, tmp_path, monkeypatch, capsys):
    import numpy as np

    args = list(MOONS)
    x, y = np.zeros((8, 2)), np.arange(8) % 2
    npz = tmp_path / "d.npz"
    arrays = {"npz_float_labels": dict(x_train=x, y_train=y.astype(float), x_val=x, y_val=y),
              "npz_column_labels": dict(x_train=x, y_train=y[:, None], x_val=x, y_val=y),
              "npz_features": dict(x_train=x, y_train=y, x_val=np.zeros((8, 3)), y_val=y),
              "npz_keys": dict(x_train=x, y_train=y)}.get(case)
    if case.startswith("npz"):
        np.savez(npz, **arrays) if arrays else npz.write_text("not a zip")
        config = tmp_path / "c.toml"
        config.write_text(f"[model]\nout_features = 2\n[data]\nkind = 'npz'\npath = '{npz}'\n")
        args[1] = str(config)
    if case == "resume_no_out":
        args.append("--resume")
    elif case == "out_is_file":
        (tmp_path / "f").write_text("")
        args += ["--out", str(tmp_path / "f")]
    elif case == "read_only":  # os.access, since root (CI) may write anywhere
        monkeypatch.setattr(os, "access", lambda path, mode: False)
        args += ["--out", str(tmp_path)]
    elif case == "config_is_a_folder":
        args[1] = str(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and words in err and err.count("\n") == 1, err


def test_resume_applies_changeable_settings_and_refuses_the_rest(tmp_path, capsys):
    out = str(tmp_path / "run")
    digits = ["train", "configs/digits_mlp.toml", "--no-progress", "--out", out, "--set", "train.epochs=1"]
    assert main(digits) == 0
    ckpt = os.path.join(out, "checkpoint.msgpack")
    with open(ckpt, "rb") as f:
        saved = f.read()
    capsys.readouterr()
    # settings that cannot change mid-run: refused naming each key with both values; the checkpoint untouched
    assert main(digits + ["--resume", "--set", "model.hidden=[8]", "--set", "train.batch_size=16",
                          "--set", "optim.name='adam'"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(w in err for w in (
        "model.hidden [128, 64] -> [8]", "train.batch_size 64 -> 16", "optim.name 'adamw' -> 'adam'")), err
    # a new lr is used (main kept training at the saved 1e-3): at 1e30 epoch 2 diverges, exit 1
    assert main(digits[:-1] + ["train.epochs=2", "--resume", "--set", "optim.lr=1e30"]) == 1
    assert "loss is" in capsys.readouterr().err
    with open(ckpt, "rb") as f:
        assert f.read() == saved  # the last good checkpoint (epoch 1) is kept
    # ... and the run is rescued by a lower lr, each change printed in one line
    assert main(digits[:-1] + ["train.epochs=2", "--resume", "--set", "optim.lr=3e-4"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["train.epochs 1 -> 2 from epoch 2", "optim.lr 0.001 -> 0.0003 from epoch 2"], printed
    with open(os.path.join(out, "metrics.jsonl")) as f:
        assert [json.loads(line)["epoch"] for line in f] == [1, 2]


def test_resume_with_a_new_lr_uses_and_logs_it_from_its_first_step(tmp_path, capsys):
    """issue 23: after `--resume --set optim.lr=0.0003` the first step of epoch 2 logs (and uses) 0.0003, and the
    parameters equal a hand-written loop that sets the lr with jaxdl.optim.set_lr after epoch 1."""
    import jax
    import numpy as np

    from jaxdl import optim
    from jaxdl.config import load_config
    from jaxdl.data import DataLoader
    from jaxdl.experiment import build_data, build_model, loss_fn
    from jaxdl.train import TrainState, load_checkpoint, make_train_step

    out = str(tmp_path / "run")
    digits = ["train", "configs/digits_mlp.toml", "--no-progress", "--out", out]
    assert main(digits + ["--set", "train.epochs=1"]) == 0
    assert main(digits + ["--set", "train.epochs=2", "--resume", "--set", "optim.lr=0.0003"]) == 0
    assert "optim.lr 0.001 -> 0.0003 from epoch 2" in capsys.readouterr().out
    with open(os.path.join(out, "metrics.jsonl")) as f:
        lines = [json.loads(line) for line in f]
    np.testing.assert_allclose(lines[0]["step_lr"], 1e-3, rtol=1e-6)
    np.testing.assert_allclose(lines[1]["step_lr"], 3e-4, rtol=1e-6)  # its first step included

    cfg = load_config("configs/digits_mlp.toml")
    train, _, _ = build_data(cfg)
    model = build_model(cfg, train[0].shape[1])
    tx = optim.adamw(lr=1e-3, weight_decay=1e-2)  # the config's optimizer, with a float lr
    state = TrainState.create(model, tx, jax.random.key(cfg.train.seed))
    step = jax.jit(make_train_step(model, tx, loss_fn(cfg)))
    loader = DataLoader(train, cfg.train.batch_size, shuffle=True, key=state.data_key(), drop_last=True)
    for epoch in (1, 2):
        if epoch == 2:
            state = state.replace(opt_state=optim.set_lr(state.opt_state, 3e-4))
        for xb, yb in loader.batches(epoch):
            state, _ = step(state, xb, yb)
    resumed, _ = load_checkpoint(os.path.join(out, "checkpoint.msgpack"), state)
    assert int(resumed.step) == int(state.step)
    for a, b in zip(jax.tree.leaves(resumed.params), jax.tree.leaves(state.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("args", [
    ["train", "configs/digits_mlp.toml"], ["train", "configs/digits_cnn.toml"],
    ["compare", "configs/compare_optimizers.toml"]])
def test_a_batch_larger_than_the_training_set_is_one_line_exit_2(args, tmp_path, capsys):
    # fit drops each epoch's partial batch (torch's drop_last=True): no batch would remain, as for the GPT
    assert main(args + ["--no-progress", "--out", str(tmp_path / "run"), "--set", "train.batch_size=100000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: train.batch_size = 100000 is larger than the ") and err.count("\n") == 1, err
    assert "training examples of data.kind = 'digits'" in err and "no batch remains" in err, err


def test_resume_of_a_checkpoint_from_before_a_new_key():
    # a config saved before train.precision existed resumes as if it had spelled out the default
    import copy

    from jaxdl.config import load_config
    from jaxdl.experiment._resume import resume_changes

    now = load_config("configs/digits_mlp.toml").to_dict()
    saved = copy.deepcopy(now)
    del saved["train"]["precision"]
    assert resume_changes(saved, now, 3) == []
    mixed = load_config("configs/digits_mlp.toml", ["train.precision='bf16-mixed'"]).to_dict()
    assert resume_changes(saved, mixed, 3) == ["train.precision 'fp32' -> 'bf16-mixed' from epoch 3"]


def test_run_files_are_fits():
    from jaxdl.experiment._run_dir import RUN_FILES
    from jaxdl.train import _fit

    assert RUN_FILES == (_fit.CHECKPOINT, _fit.BEST, _fit.METRICS, _fit.CURVES)


# --- commands refuse what they cannot run (issue 15 items 4, 7) -----------------------------------------------
@pytest.mark.parametrize("args,words", [
    (["compare", "configs/gpt_char.toml"], "jaxdl compare sweeps optimizers on an MLP or CNN config"),
    (["compare", "configs/digits_mlp.toml"], "compare.variants is empty"),
    (["parity", "--group", "nope"], "unknown group 'nope'"),
    (["parity", "-k", "no such case"], "no parity case matches -k 'no such case'"),
])
def test_commands_refuse_what_they_cannot_run(args, words, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and words in err and err.count("\n") == 1, err


def test_params_builds_the_vocabulary_from_the_data(capsys):
    # a training setting does not stop a count: the vocabulary needs the text, not its training windows
    assert main(["params", "configs/gpt_char.toml", "--set", "data.num_chars=5000", "--set",
                 "train.batch_size=100000"]) == 0
    capsys.readouterr()
    assert main(["params", "configs/gpt_char.toml", "--set", "data.num_chars=5000"]) == 0
    out = capsys.readouterr().out
    vocab = int(out.split("vocab_size=")[1].split()[0])
    from jaxdl.data import stdlib_corpus

    assert vocab == len(set(stdlib_corpus(5000)))
    E, V, T, L = 128, vocab, 64, 4  # the GPT's count: embeddings, L blocks (4 E×E attention + 8E² MLP + norms), head
    per_block = 3 * E * E + (E * E + E) + (E * 4 * E + 4 * E) + (4 * E * E + E) + 4 * E
    assert f"{V * E + T * E + L * per_block + 2 * E + E * V:,} parameters" in out, out


def test_params_summarises_an_mlp_and_a_cnn_layer_by_layer(capsys):
    """jaxdl params on the lecture MLP and the digits CNN: one row per layer, the total equal to torch's numel."""
    import torch

    torch_mlp = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.BatchNorm1d(128), torch.nn.ReLU(),
                                    torch.nn.Dropout(0.2), torch.nn.Linear(128, 64), torch.nn.BatchNorm1d(64),
                                    torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(64, 10))
    torch_cnn = torch.nn.Sequential(torch.nn.Unflatten(1, (1, 8, 8)), torch.nn.Conv2d(1, 16, 3, padding=1),
                                    torch.nn.BatchNorm2d(16), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                    torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(),
                                    torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(32 * 2 * 2, 10))
    for config, ref in (("configs/digits_mlp.toml", torch_mlp), ("configs/digits_cnn.toml", torch_cnn)):
        assert main(["params", config]) == 0
        out = capsys.readouterr().out
        assert f"Total params: {sum(p.numel() for p in ref.parameters()):,}" in out, out
        assert "(1, 10)" in out and out.count("Linear") >= 1, out  # the output shape of the last layer


def test_train_is_fast_for_a_bad_config(tmp_path):
    # a config error is printed before JAX is imported
    import subprocess
    import sys

    code = ("import sys; from jaxdl.cli import main; rc = main(['train', 'configs/gpt_char.toml', '--set', "
            "'train.lrr=1']); assert 'jax' not in sys.modules, sorted(m for m in sys.modules if 'jax' in m); "
            "raise SystemExit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown key train.lrr" in done.stderr, done.stderr


def test_no_space_left_is_one_line_exit_1(tmp_path, monkeypatch, capsys):
    import errno

    import jaxdl.train._report as report

    def full(path, record):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(report, "append_jsonl", full)
    assert main(MOONS + ["--out", str(tmp_path / "run"), "--set", "train.epochs=1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: No space left on device (") and err.count("\n") == 1, err


TINY_GPT = ('[model]\nkind = "gpt"\ncontext_length = 8\nemb_dim = 16\nn_heads = 2\nn_layers = 1\n'
            '[data]\nnum_chars = 6000\nval_fraction = 0.2\n[optim]\nname = "adamw"\n[train]\nepochs = 1\n')


@pytest.mark.parametrize("sets,words", [
    (["train.batch_size=100000"], "train.batch_size = 100000 is larger than the 599 training windows"),
    (["data.num_chars=10"], "data.num_chars = 10 with data.val_fraction = 0.2 is too little text"),
    (["model.n_heads=3"], "emb_dim must be divisible by n_heads; got emb_dim=16, n_heads=3"),
    (["optim.name='sgd'", "optim.nesterov=True"], "Nesterov momentum requires a momentum"),
])
def test_gpt_config_that_cannot_train_is_one_line_exit_2(sets, words, tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_GPT)
    assert main(["train", str(config), "--no-progress", *sum((["--set", s] for s in sets), [])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and words in err and err.count("\n") == 1, err
