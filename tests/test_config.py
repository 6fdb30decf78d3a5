"""Configs: every shipped file validates; each kind of mistake gives one ConfigError line naming the key."""
from pathlib import Path

import pytest

from jaxdl.config import ConfigError, load_config, parse_set


SHIPPED = sorted((Path(__file__).parents[1] / "configs").glob("*.toml"))  # the repository's, whatever the cwd


def test_shipped_configs_found():
    assert {"digits_mlp.toml", "gpt_char.toml", "digits_cnn.toml"} <= {p.name for p in SHIPPED}, SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    load_config(str(path))


def write(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text,sets,words", [
    ("[optim]\nlrr = 0.1\n", [], ["unknown key optim.lrr", "allowed keys"]),
    ("[bogus]\n", [], ["unknown section [bogus]"]),
    ("[optim]\nlr = 'fast'\n", [], ["optim.lr = 'fast'", "expected float, got str"]),
    ("[train]\nepochs = 2.5\n", [], ["train.epochs = 2.5", "expected int"]),
    ("", ["optim.lr=-0.1"], ["optim.lr = -0.1 is not allowed", "a number ≥ 0"]),
    ("", ["model.dropout=1.5"], ["model.dropout = 1.5", "[0, 1)"]),
    ("", ["optim.name='lbfgs'"], ["optim.name = 'lbfgs'", "one of"]),
    ("", ["data.kind='npz'", "data.path='/no/such/file.npz'"], ["data.path", "not found"]),
    ("", ["optim.lr"], ["SECTION.KEY=VALUE"]),
    ("", ["optim.name='adam'", "optim.momentum=0.9"], ["optim.momentum does not apply to adam", "betas"]),
    ("", ["optim.name='sgd_momentum'"], ["optim.name = 'sgd_momentum'", "name = 'sgd' with momentum = 0.9"]),
    ("", ["optim.name=adam", "optim.betas=[0.9]"], ["optim.betas = (0.9,)", "two numbers"]),
    ("", ["data.n=100"], ["data.n does not apply to digits", "moons"]),
    ("", ["model.emb_dim=8"], ["model.emb_dim does not apply to mlp", "gpt"]),
    ("[compare]\noptimizers = ['sgd']\n", [], ["unknown key compare.optimizers", "compare.variants"]),
    ("[compare]\nvariants = [{name = 'sgd'}]\n", [], ["compare.variants[0]", "label"]),
    ("[compare]\nvariants = [{label = 'A', name = 'adam', momentum = 0.9}]\n", [],
     ["compare.variants[0].momentum does not apply to adam"]),
    ("[compare]\nvariants = [{label = 'A', name = 'sgd', lr = 0.1}]\n", [], ["compare.variants[0].lr", "grid"]),
    ("[model]\nkind = 'gpt'\nemb_dim = 8\n", [], ["model.kind = 'gpt' needs", "model.context_length",
                                                    "model.vocab_size"]),
    ("[model]\nkind = 'gpt'\n[data]\nkind = 'digits'\n", [], ["model.kind = 'gpt' cannot train on "
                                                                  "data.kind = 'digits'"]),
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


@pytest.mark.parametrize("sets,words", [
    (["train.lrr=0.5"], ["unknown key train.lrr", "allowed keys"]),
    (["train.lr=0.5"], ["unknown key train.lr"]),                     # the GPT's lr lives in [optim] now
    (["model.hidden=[8]"], ["model.hidden does not apply to gpt"]),
    (["model.n_heads=0"], ["model.n_heads = 0", "an int ≥ 1"]),
    (["model.vocab_size=50"], ["model.vocab_size = 50", "comes from the text"]),
    (["data.num_chars='many'"], ["data.num_chars = 'many'", "expected int"]),
    (["train.loss='binary_cross_entropy'"], ["does not apply to model.kind = 'gpt'"]),
])
def test_gpt_config_uses_the_same_schema(sets, words):
    with pytest.raises(ConfigError) as err:
        load_config("configs/gpt_char.toml", sets)
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_gpt_config_values():
    cfg = load_config("configs/gpt_char.toml", ["optim.lr=7", "model.drop_rate=0"])
    assert cfg.optim.name == "adamw" and cfg.optim.kwargs() == {"lr": 7.0, "weight_decay": 0.1}
    assert cfg.model.model_kwargs() == {"context_length": 64, "emb_dim": 128, "n_heads": 4, "n_layers": 4,
                                      "drop_rate": 0.0, "qkv_bias": False, "tie_weights": False}
    assert cfg.data.num_chars == 400_000 and cfg.train.out_dir == "runs/gpt_char"


def test_unset_hyperparameters_are_left_to_the_optimizer():
    # only what the file sets is passed on, so an explicit 0 is 0 and the rest is torch's default
    cfg = load_config("configs/digits_mlp.toml", ["optim.weight_decay=0"])
    assert cfg.optim.kwargs() == {"lr": 1e-3, "weight_decay": 0.0}
    variants = load_config("configs/compare_optimizers.toml").compare.variants
    assert [(v.label, v.optim.kwargs()) for v in variants] == [
        ("SGD", {}), ("SGD momentum 0.9", {"momentum": 0.9}), ("Adam", {}), ("AdamW", {"weight_decay": 0.01})]


def test_gpt_activations_are_the_models():
    """The config lists nn.GPT's activations by hand (it must not import JAX): the two lists must agree."""
    from jaxdl.config._schema import GPT_ACTIVATIONS
    from jaxdl.nn._transformer import ACTIVATIONS

    assert set(GPT_ACTIVATIONS) == set(ACTIVATIONS)


@pytest.mark.parametrize("sets,words", [
    (["optim.eps=[0.001]"], ["optim.eps = (0.001,)", "a pair [eps1, eps2]"]),
    (["optim.eps=[-1, 0.001]"], ["optim.eps = (-1, 0.001)", "≥ 0"]),
    (["optim.eps=0.001"], ["optim.eps = 0.001", "expected a list"]),
])
def test_adafactor_eps_pair_is_checked(sets, words):
    with pytest.raises(ConfigError) as err:
        load_config("configs/digits_mlp.toml", ["optim.name='adafactor'", *sets])
    assert all(w in str(err.value) for w in words), str(err.value)


def test_adafactor_eps_pair_from_the_config_is_torchs():
    # eps = [eps1, eps2] reaches jaxdl.optim.adafactor: its first update equals torch's Adafactor(eps=(eps1, eps2))
    import jax.numpy as jnp
    import numpy as np
    import torch

    from jaxdl.experiment import build_tx

    cfg = load_config("configs/digits_mlp.toml", ["optim.name='adafactor'", "optim.eps=[0.5, 0.25]"])
    kwargs = cfg.optim.kwargs()
    assert kwargs["eps"] == (0.5, 0.25)
    theta, grad = np.array([[0.1, -0.2], [0.3, 0.05]], np.float32), np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    tx = build_tx(cfg.optim)
    update, _ = tx.update({"w": jnp.asarray(grad)}, tx.init({"w": jnp.asarray(theta)}), {"w": jnp.asarray(theta)})
    p = torch.nn.Parameter(torch.from_numpy(theta.copy()))
    p.grad = torch.from_numpy(grad)
    torch.optim.Adafactor([p], **kwargs).step()
    np.testing.assert_allclose(theta + np.asarray(update["w"]), p.detach().numpy(), rtol=1e-6, atol=0)
    default = build_tx(load_config("configs/digits_mlp.toml", ["optim.name='adafactor'"]).optim)
    other, _ = default.update({"w": jnp.asarray(grad)}, default.init({"w": jnp.asarray(theta)}),
                              {"w": jnp.asarray(theta)})
    assert not np.allclose(np.asarray(other["w"]), np.asarray(update["w"]))  # the pair changed the update


def test_ema_use_buffers_reaches_fit(monkeypatch):
    # train.ema_use_buffers is fit's ema_use_buffers (AveragedModel's use_buffers); without ema_decay it is refused
    import jaxdl.train
    from jaxdl.cli import main

    seen = {}

    def fake_fit(*args, **kwargs):
        seen.update(ema_decay=kwargs["ema_decay"], ema_use_buffers=kwargs["ema_use_buffers"])
        raise SystemExit(0)

    monkeypatch.setattr(jaxdl.train, "fit", fake_fit)
    for flag in (True, False):
        with pytest.raises(SystemExit):
            main(["train", "configs/digits_cnn.toml", "--set", "train.ema_decay=0.9", "--set",
                  f"train.ema_use_buffers={str(flag).lower()}", "--set", "train.out_dir=''", "--no-progress"])
        assert seen == {"ema_decay": 0.9, "ema_use_buffers": flag}
    with pytest.raises(ConfigError, match="train.ema_use_buffers = true needs train.ema_decay"):
        load_config("configs/digits_cnn.toml", ["train.ema_use_buffers=true"])
