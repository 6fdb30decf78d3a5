"""jaxdl.checks: the one positive-int rule (bools refused) and where it applies."""
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import functional as F
from jaxdl import nn
from jaxdl.checks import check_positive_int, check_size
from jaxdl.config import ConfigError, load_config


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.int32(1)])
def test_positive_int_accepts_ints_from_one(value):
    check_positive_int("batch_size", value)


@pytest.mark.parametrize("value,shown", [(0, "0"), (-2, "-2"), (True, "True (bool)"), (False, "False (bool)"),
                                         (np.bool_(True), "np.True_ (bool)"), (2.0, "2.0 (float)"),
                                         ("4", "'4' (str)"), (None, "None (NoneType)")])
def test_positive_int_refuses_bools_floats_and_values_below_one(value, shown):
    with pytest.raises(ValueError) as err:
        check_positive_int("batch_size", value)
    assert str(err.value) == f"batch_size must be an int ≥ 1; got {shown}"


def test_size_refuses_bools():
    check_size("Linear", "in_features", 0)  # torch allows empty layers
    with pytest.raises(ValueError, match=r"Linear: in_features must be an int ≥ 0; got True \(bool\)"):
        check_size("Linear", "in_features", True)


@pytest.mark.parametrize("build,message", [
    (lambda: nn.GPT(vocab_size=True, context_length=4, emb_dim=8, n_heads=2, n_layers=1), "GPT: vocab_size"),
    (lambda: nn.GPT(vocab_size=10, context_length=4, emb_dim=8, n_heads=2, n_layers=0), "GPT: n_layers"),
    (lambda: nn.MultiheadAttention(4, True), "MultiheadAttention: num_heads"),
    (lambda: nn.MultiheadAttention(0, 1), "MultiheadAttention: embed_dim"),
    (lambda: nn.Conv2d(2, 4, 3, groups=True), "Conv2d: groups"),
    (lambda: nn.GroupNorm(0, 4), "GroupNorm: num_groups"),
    (lambda: F.conv1d(jnp.ones((1, 2, 5)), jnp.ones((4, 2, 3)), groups=1.0), "conv1d: groups"),
    (lambda: F.group_norm(jnp.ones((2, 4, 3)), True), "group_norm: num_groups"),
])
def test_counts_in_nn_and_f_follow_the_rule(build, message):
    with pytest.raises(ValueError, match=f"{message} must be an int ≥ 1; got"):
        build()


@pytest.mark.parametrize("key", ["train.batch_size", "train.epochs", "compare.num_lrs"])
@pytest.mark.parametrize("value", ["0", "true"])
def test_config_counts_follow_the_rule(key, value):
    with pytest.raises(ConfigError, match=f"{key} = "):
        load_config("configs/digits_mlp.toml", [f"{key}={value}"])
