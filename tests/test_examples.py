"""Shipped configs train to a sensible accuracy with `jaxdl train` (shortened where slow); the examples run."""
import pathlib
import runpy

import pytest

from jaxdl.config import load_config
from jaxdl.experiment import run_train
from tests.helpers import one_torch_thread

# (config, --set overrides, validation accuracy it must reach); full-length figures in README.md ("What you get")
CASES = [
    ("configs/logreg_moons.toml", [], 0.8),            # a line on two moons: ~0.87 (chance 0.5)
    ("configs/spirals_sigmoid.toml", [], 0.9),         # chance 0.33
    ("configs/spirals_relu.toml", [], 0.9),
    ("configs/digits_mlp.toml", ["train.epochs=8"], 0.93),  # 30 epochs: ~0.98
]


@pytest.mark.parametrize("path,sets,least", CASES)
def test_config_trains(path, sets, least):
    res = run_train(load_config(path, sets), progress=False)
    assert res["val_acc"] >= least, res["val_acc"]


@pytest.mark.parametrize("name,kwargs,least", [("logreg_moons", {"epochs": 10}, 0.8),
                                               ("spirals_mlp", {"epochs": 60}, 0.85),
                                               ("digits_mlp", {"epochs": 5}, 0.9)])
def test_example_script(name, kwargs, least):
    acc = runpy.run_path(f"examples/{name}.py")["main"](**kwargs)
    assert min(acc.values()) >= least if isinstance(acc, dict) else acc >= least, acc


def test_gpt_char_example(tmp_path, capsys):
    # the example on a shortened configs/gpt_char.toml: trains through run_train, then samples from its state
    config = tmp_path / "small.toml"
    text = pathlib.Path("configs/gpt_char.toml").read_text()
    for old, new in (("context_length = 64", "context_length = 8"), ("emb_dim = 128", "emb_dim = 16"),
                     ("n_heads = 4", "n_heads = 2"), ("n_layers = 4", "n_layers = 1"),
                     ("num_chars = 400000", "num_chars = 5000")):
        assert old in text
        text = text.replace(old, new)
    config.write_text(text)
    res = runpy.run_path("examples/gpt_char.py")["main"]([str(config), "--epochs", "1", "--out", str(tmp_path / "r")])
    assert [h["epoch"] for h in res["history"]] == [1]
    assert capsys.readouterr().out.split("sample:\n")[1].startswith("def ")


def test_unet_digits_example():
    # the U-Net (only jaxdl.nn) denoises after 2 epochs: its validation MSE is under half of both baselines
    # (the noisy input itself, the mean training image); 20 epochs reach 0.021 against 0.089 and 0.073
    figures = runpy.run_path("examples/unet_digits.py")["main"](epochs=2)
    assert figures["unet"] < 0.5 * min(figures["noisy_input"], figures["mean_image"]), figures


@pytest.mark.parity_all  # ~13 s; in CI, tests/test_readme.py runs the README's copy of this path (a torch ResNet
# trained, converted through torch.export, trained with fit, loaded back strictly, compare all within the rule)
def test_resnet_from_torch_example():
    # one epoch in torch, one with fit, on a 4-channel, 1-block ResNet: the converted model has torch's test
    # accuracy, and compare, after the weights went back to torch, finds everything within the float32 rule
    with one_torch_thread():
        res = runpy.run_path("examples/resnet_from_torch.py")["main"](
            ["--torch-epochs", "1", "--epochs", "1", "--width", "4", "--blocks", "1"])
    assert abs(res["converted_acc"] - res["torch_acc"]) <= 1 / 360, res  # one test digit of 360 may tie-flip
    assert res["comparison"].ok and res["jaxdl_acc"] > 0.5, res
