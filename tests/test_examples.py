"""Shipped configs train to a sensible accuracy with `jaxdl train` (shortened where slow); the examples run."""
import runpy

import pytest

from jaxdl.config import load_config
from jaxdl.experiment import run_train

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
