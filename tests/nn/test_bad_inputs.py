"""Inputs a new user gets wrong, refused in one line where torch refuses them (issue 22): params of another
spec, negative sizes, dtypes torch's kernels do not take."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn


# --- apply checks params/state against the spec (torch's load_state_dict "size mismatch") ---------------------
def test_linear_params_of_another_linear_are_refused_eager_and_jitted(key):
    p4, _ = nn.Linear(10, 4).init(key)
    x = jnp.ones((4, 10))
    for apply in (nn.Linear(10, 3).apply, jax.jit(nn.Linear(10, 3).apply)):
        with pytest.raises(ValueError, match=r"size mismatch for weight: expected shape \(3, 10\), got \(4, 10\)"):
            apply(p4, {}, x)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):  # torch refuses the same weights
        torch.nn.Linear(10, 3).load_state_dict(torch.nn.Linear(10, 4).state_dict())


def test_nested_paths_missing_unexpected_and_dtype_family(key):
    seq = nn.Sequential(nn.Linear(10, 4), nn.ReLU(), nn.BatchNorm1d(4))
    params, state = seq.init(key)
    assert seq.apply(params, state, jnp.ones((3, 10)))[0].shape == (3, 4)
    bad = {**params, "0": {**params["0"], "weight": params["0"]["weight"].T}}
    with pytest.raises(ValueError, match=r"Sequential.apply: .*size mismatch for 0.weight: expected shape \(4, 10\)"):
        seq.apply(bad, state, jnp.ones((3, 10)))
    with pytest.raises(ValueError, match="params '0.bias' is missing .*params '0.extra' is unexpected"):
        seq.apply({**params, "0": {"weight": params["0"]["weight"], "extra": 1.0}}, state, jnp.ones((3, 10)))
    with pytest.raises(ValueError, match="state '2.running_mean' is missing"):
        seq.apply(params, {"2": {}}, jnp.ones((3, 10)), training=True)
    with pytest.raises(ValueError, match="2.running_var: expected a floating array, got dtype int32"):
        seq.apply(params, {**state, "2": {**state["2"], "running_var": jnp.ones(4, jnp.int32)}}, jnp.ones((3, 10)))
    with pytest.raises(ValueError, match="params '1' is missing \\(an empty dict\\)"):  # was a KeyError
        seq.apply({k: v for k, v in params.items() if k != "1"}, state, jnp.ones((3, 10)))
    # other float widths apply (init(key, dtype) makes them)
    half = jax.tree_util.tree_map(lambda a: a.astype(jnp.bfloat16) if a.dtype == jnp.float32 else a, params)
    assert seq.apply(half, state, jnp.ones((3, 10), jnp.bfloat16))[0].dtype == jnp.bfloat16


def test_the_check_runs_at_trace_time_only(key, monkeypatch):
    from jaxdl.nn import _module

    calls = []
    real = _module.check_params
    monkeypatch.setattr(_module, "check_params", lambda *a: calls.append(1) or real(*a))
    model = nn.GPT(vocab_size=11, context_length=8, emb_dim=16, n_heads=2, n_layers=2)
    params, state = model.init(key)
    apply = jax.jit(model.apply)
    for _ in range(3):
        apply(params, state, jnp.zeros((2, 8), jnp.int32))
    assert len(calls) == 1  # once per trace, for the outermost module only (children run inside it)


# --- sizes are checked when the spec is built ----------------------------------------------------------------
@pytest.mark.parametrize("build, message", [
    (lambda: nn.BatchNorm1d(-2), "BatchNorm1d: num_features must be an int ≥ 0; got -2"),
    (lambda: nn.BatchNorm2d(2.5), r"BatchNorm2d: num_features must be an int ≥ 0; got 2.5 \(float\)"),
    (lambda: nn.Embedding(-1, 3), "Embedding: num_embeddings must be an int ≥ 0; got -1"),
    (lambda: nn.Embedding(3, -1), "Embedding: embedding_dim must be an int ≥ 0; got -1"),
    (lambda: nn.LayerNorm((3, -1)), "LayerNorm: normalized_shape must be an int ≥ 0; got -1"),
    (lambda: nn.GroupNorm(2, -4), "GroupNorm: num_channels must be an int ≥ 0; got -4"),
    (lambda: nn.InstanceNorm2d(-3, affine=True), "InstanceNorm2d: num_features must be an int ≥ 0; got -3"),
    (lambda: nn.Conv2d(-1, 3, 3), "Conv2d: in_channels must be an int ≥ 0; got -1"),
    (lambda: nn.Conv1d(3, -2, 3), "Conv1d: out_channels must be an int ≥ 0; got -2"),
    (lambda: nn.ConvTranspose2d(3, 3, 0), r"ConvTranspose2d: kernel_size must be ints ≥ 1; got \(0, 0\)"),
    (lambda: nn.PReLU(-1), "PReLU: num_parameters must be an int ≥ 0; got -1"),
])
def test_negative_sizes_are_refused_when_built(build, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        build()


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors is a no-op")
def test_sizes_torch_builds_still_build(key):
    """torch builds these (zero sizes, InstanceNorm's unused num_features): so does jaxdl."""
    for m, t in [(nn.Embedding(0, 3), torch.nn.Embedding(0, 3)), (nn.BatchNorm1d(0), torch.nn.BatchNorm1d(0)),
                 (nn.Linear(0, 2), torch.nn.Linear(0, 2)), (nn.PReLU(0), torch.nn.PReLU(0)),
                 (nn.InstanceNorm2d(-3), torch.nn.InstanceNorm2d(-3))]:
        shapes = {k: tuple(v.shape) for k, v in m.init(key)[0].items()}
        assert shapes == {k: tuple(v.shape) for k, v in t.named_parameters()}, m
    assert np.shape(nn.Embedding(0, 3).init(key)[0]["weight"]) == (0, 3)
