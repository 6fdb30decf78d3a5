"""model.kind = "cnn" (issue 12 item 5): the schema's one-line errors, the built network equal to torch's, and the
digits CNN trained by `jaxdl train` and swept by `jaxdl compare`."""
import csv
import re

import numpy as np
import pytest

from jaxdl.cli import main
from jaxdl.config import ConfigError, load_config

CNN = "configs/digits_cnn.toml"


@pytest.mark.parametrize("sets,words", [
    (["model.channels=[]"], ["model.channels = ()", "non-empty list of ints ≥ 1"]),
    (["model.channels=[16, 0]"], ["model.channels = (16, 0)", "ints ≥ 1"]),
    (["model.kernel_size=2"], ["model.kernel_size = 2", "odd int ≥ 1"]),
    (["model.in_channels=0"], ["model.in_channels = 0", "an int ≥ 1"]),
    (["model.batchnorm=1"], ["model.batchnorm = 1", "expected bool"]),
    (["model.hidden=[8]"], ["model.hidden does not apply to cnn", "mlp", "keys for cnn"]),
    (["model.kind='mlp'", "model.in_channels=3"], ["model.in_channels does not apply to mlp", "cnn"]),
])
def test_cnn_config_errors(sets, words):
    with pytest.raises(ConfigError) as err:
        load_config(CNN, sets)
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_cnn_does_not_train_on_text(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[model]\nkind = 'cnn'\n[data]\nkind = 'stdlib_text'\n")
    with pytest.raises(ConfigError, match="model.kind = 'cnn' cannot train on data.kind = 'stdlib_text': .* a CNN"):
        load_config(str(path))


@pytest.mark.parametrize("sets,words", [
    (["model.channels=[4, 4, 4, 4]"], ["model.channels = [4, 4, 4, 4]", "8×8", "at most 3"]),
    (["model.in_channels=2"], ["model.in_channels = 2", "64 features", "square images"]),   # 64 = 2·32
    (["data.kind='moons'"], ["square images", "2 features"]),
])
def test_cnn_that_cannot_fit_the_data_is_one_line_exit_2(sets, words, capsys):
    assert main(["train", CNN, "--no-progress", *(a for s in sets for a in ("--set", s))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jaxdl: error: ") and err.count("\n") == 1 and all(w in err for w in words), err


def _torch_cnn(channels, k, dropout):
    import torch

    tnn = torch.nn
    layers, c_in = [tnn.Unflatten(1, (1, 8, 8))], 1
    for c in channels:
        layers += [tnn.Conv2d(c_in, c, k, padding=k // 2), tnn.BatchNorm2d(c), tnn.ReLU(), tnn.MaxPool2d(2)]
        c_in = c
    side = 8 >> len(channels)
    return tnn.Sequential(*layers, tnn.Flatten(), *([tnn.Dropout(dropout)] if dropout else []),
                          tnn.Linear(c_in * side * side, 10))


@pytest.mark.parametrize("channels,k,dropout", [((4, 6), 5, 0.0), ((2, 3, 4), 1, 0.5)])
def test_cnn_network_equals_torchs(channels, k, dropout):
    # the builder's network has torch's layers and state_dict, and with torch's weights computes torch's output
    import jax
    import jax.numpy as jnp
    import torch

    from jaxdl.experiment import build_model
    from jaxdl.interop import load_state_dict

    sets = [f"model.channels={list(channels)}", f"model.kernel_size={k}", f"model.dropout={dropout}"]
    model = build_model(load_config(CNN, sets), 64)
    torch.manual_seed(0)
    ref = _torch_cnn(channels, k, dropout)
    assert [type(m).__name__ for m in model.layers] == [type(m).__name__ for m in ref]
    params, state = load_state_dict(model, ref.state_dict())  # the same names and shapes, or it raises
    x = np.random.default_rng(0).random((5, 64), dtype=np.float32)
    with torch.no_grad():
        want_eval = ref.eval()(torch.from_numpy(x)).numpy()
        want_train = ref.train()(torch.from_numpy(x)).numpy() if not dropout else None  # BN on batch statistics
    apply = jax.jit(model.apply, static_argnames="training")  # one compile, not one per op
    got_eval, _ = apply(params, state, jnp.asarray(x), training=False)
    np.testing.assert_allclose(np.asarray(got_eval), want_eval, rtol=1e-5, atol=1e-5)
    if want_train is not None:
        got_train, _ = apply(params, state, jnp.asarray(x), training=True)
        np.testing.assert_allclose(np.asarray(got_train), want_train, rtol=1e-4, atol=1e-5)


def test_jaxdl_train_digits_cnn_learns(capsys):
    # three epochs of the shipped config through the CLI (val_acc 0.964); chance is 0.1, the full 10 epochs 0.992
    assert main(["train", CNN, "--no-progress", "--set", "train.epochs=3"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    acc = float(re.search(r"val_acc ([0-9.]+)", last).group(1))
    assert acc >= 0.93, last


def test_jaxdl_compare_runs_on_the_cnn(tmp_path, capsys):
    out = tmp_path / "cmp"
    args = ["compare", "configs/compare_optimizers_cnn.toml", "--out", str(out), "--no-progress",
            "--set", "compare.variants=[{'label': 'Adam', 'name': 'adam'}]",  # one variant: one compile
            "--set", "compare.lr_min=3e-3", "--set", "compare.lr_max=3e-2", "--set", "compare.num_lrs=2",
            "--set", "compare.seeds=[0]", "--set", "train.epochs=2", "--set", "model.channels=[8]"]
    assert main(args) == 0
    with open(out / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["optimizer"], float(r["lr"]), r["seed"]) for r in rows] == [("Adam", 3e-3, "0"), ("Adam", 3e-2, "0")]
    acc = [float(r["val_acc"]) for r in rows]
    assert min(acc) > 0.75, acc  # both copies of the vmapped sweep learn (0.84, 0.91; chance: 0.1)
    assert "Adam" in (out / "table.txt").read_text() and (out / "compare.png").stat().st_size > 0
