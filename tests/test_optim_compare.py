"""``jaxdl compare`` takes every torch optimizer jaxdl has: a short run with NAdam, RAdam and Muon, and every name's
[optim] table builds its optimizer."""
import jax.numpy as jnp
import pytest

from jaxdl import optim
from jaxdl.config import OPTIMIZERS, load_config
from jaxdl.experiment import build_tx
from jaxdl.experiment.compare import run_compare

NEW = ("nadam", "radam", "adamax", "asgd", "rprop", "adafactor", "muon")


def test_compare_runs_nadam_radam_and_muon(tmp_path):
    variants = "[{'label': 'NAdam', 'name': 'nadam'}, {'label': 'RAdam', 'name': 'radam', 'decoupled_weight_decay': " \
               "True}, {'label': 'Muon', 'name': 'muon', 'adjust_lr_fn': 'match_rms_adamw'}]"
    cfg = load_config("configs/compare_optimizers.toml",
                      ["train.epochs=2", "compare.num_lrs=1", "compare.seeds=[0]", "compare.lr_min=0.01",
                       "compare.lr_max=0.01", f"compare.variants={variants}"])
    rows = run_compare(cfg, str(tmp_path / "cmp"), progress=False)
    assert [r["optimizer"] for r in rows] == ["NAdam", "RAdam", "Muon"]
    assert all(r["val_acc_mean"] > 0.5 for r in rows), rows  # 2 epochs on digits: far above chance (0.1)


@pytest.mark.parametrize("name", NEW)
def test_every_new_optimizer_is_a_config_name(name):
    assert name in OPTIMIZERS
    cfg = load_config("configs/logreg_moons.toml", [f"optim.name='{name}'", "optim.lr=0.01"])
    params = {"w": jnp.ones((3, 2)), "b": jnp.ones(3)}
    state = build_tx(cfg.optim).init(params)
    assert [float(lr) for lr in optim.get_lrs(state)][0] == pytest.approx(0.01)
