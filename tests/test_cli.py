"""The jaxdl command: help for each command, one-line config errors with exit code 2, train and compare runs."""
import csv
import json
import os

import pytest

from jaxdl.cli import COMMANDS, main


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
    (["data.kind='npz'", "data.path='{npz}'"], "the .npz lacks ['x_train', 'y_train', 'x_val', 'y_val']"),
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
                 "--set", "compare.optimizers=['sgd_momentum', 'adamw']"]) == 0
    with open(os.path.join(out, "runs.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 * 3 * 2 and {r["optimizer"] for r in rows} == {"sgd_momentum", "adamw"}
    assert {float(r["lr"]) for r in rows} == {0.001, 0.01, 0.1}
    assert os.path.getsize(os.path.join(out, "compare.png")) > 10_000
    table = capsys.readouterr().out
    assert "SGD momentum 0.9" in table and "AdamW" in table and "±" in table
    # 3 epochs of AdamW at lr 0.01 already beat chance (0.1) by far on digits
    assert max(float(r["val_acc"]) for r in rows if r["optimizer"] == "adamw") > 0.8


def test_model_only_gpt_config_is_one_line_exit_2(capsys):
    assert main(["train", "configs/gpt2_124m.toml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and "no [train] table" in err and err.count("\n") == 1, err


@pytest.mark.parametrize("damage,words", [
    ("truncate", "is truncated or corrupt"),
    ("other_model", "does not match this model/optimizer"),
])
def test_resume_from_bad_checkpoint_is_one_line_exit_1(damage, words, tmp_path, capsys):
    out = str(tmp_path / "run")
    args = ["train", "configs/logreg_moons.toml", "--out", out, "--no-progress", "--set", "train.epochs=1"]
    assert main(args) == 0
    ckpt = os.path.join(out, "checkpoint.msgpack")
    if damage == "truncate":
        with open(ckpt, "r+b") as f:
            f.truncate(os.path.getsize(ckpt) // 2)
    else:  # the same folder resumed with a wider model: the saved weights have other shapes
        args += ["--set", "model.hidden=[8]"]
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
