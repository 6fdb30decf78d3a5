"""Configs: every shipped file validates; each kind of mistake gives one ConfigError line naming the key."""
import glob

import pytest

from jaxdl.config import ConfigError, load_config, parse_set


@pytest.mark.parametrize("path", sorted(glob.glob("configs/*.toml")))
def test_shipped_configs_validate(path):
    load_config(path)


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text,sets,words", [
    ("[optim]\nlrr = 0.1\n", [], ["unknown key optim.lrr", "allowed keys"]),
    ("[bogus]\n", [], ["unknown section [bogus]"]),
    ("[optim]\nlr = 'fast'\n", [], ["optim.lr = 'fast'", "expected float, got str"]),
    ("[train]\nepochs = 2.5\n", [], ["train.epochs = 2.5", "expected int"]),
    ("", ["optim.lr=-0.1"], ["optim.lr = -0.1", "> 0"]),
    ("", ["model.dropout=1.5"], ["model.dropout = 1.5", "[0, 1)"]),
    ("", ["optim.name='lbfgs'"], ["optim.name = 'lbfgs'", "one of"]),
    ("", ["data.kind='npz'", "data.path='/no/such/file.npz'"], ["data.path", "not found"]),
    ("", ["optim.lr"], ["SECTION.KEY=VALUE"]),
    ("[optim]\nweight_decay = inf\n", [], ["optim.weight_decay = inf", "finite"]),
    ("[compare]\nlr_max = inf\n", [], ["compare.lr_max = inf", "finite"]),
])
def test_bad_configs(tmp_path, text, sets, words):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), sets)
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_missing_file():
    with pytest.raises(ConfigError, match="'nope.toml' not found"):
        load_config("nope.toml")


def test_set_overrides_and_types(tmp_path):
    cfg = load_config(write(tmp_path, "[optim]\nlr = 0.5\n"),
                      ["optim.lr=1", "model.hidden=[8, 4]", "optim.name=adam", "train.epochs=3"])
    assert cfg.optim.lr == 1.0 and isinstance(cfg.optim.lr, float)
    assert cfg.model.hidden == (8, 4) and cfg.optim.name == "adam" and cfg.train.epochs == 3
    assert parse_set("a.b=x y") == (("a", "b"), "x y")


def test_gpt_kind_passes_raw_tables(tmp_path):
    cfg = load_config(write(tmp_path, "[model]\nkind = 'gpt'\nemb_dim = 8\n"), ["train.epochs=1"])
    assert cfg.raw["model"]["emb_dim"] == 8 and cfg.raw["train"]["epochs"] == 1
