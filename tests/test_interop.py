"""jaxdl.interop: torch state_dict <-> (params, state), with one error listing every mismatch."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn
from jaxdl.interop import IncompatibleKeys, flatten, load_state_dict, state_dict, unflatten


def _mlp(nn_):
    return nn_.Sequential(nn_.Linear(3, 4), nn_.BatchNorm1d(4), nn_.ReLU(), nn_.Linear(4, 2))


def test_round_trip_with_torch():
    tm = _mlp(torch.nn)
    tm.train()(torch.randn(5, 3))  # non-trivial running stats and num_batches_tracked=1
    params, state = load_state_dict(_mlp(nn), tm.state_dict())
    assert params["2"] == {} and state["0"] == {}  # stateless children stay, as init gives them
    assert state["1"]["num_batches_tracked"].dtype == jnp.int32  # JAX's default int (x64 off)
    assert int(state["1"]["num_batches_tracked"]) == 1
    sd = state_dict(params, state)
    assert list(sd) == list(tm.state_dict())  # torch's order
    for k, v in tm.state_dict().items():
        np.testing.assert_array_equal(sd[k], v.numpy())
    fresh = _mlp(torch.nn)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})  # torch accepts it back
    # a copy: in-place torch updates must not reach the loaded jax arrays
    with torch.no_grad():
        tm[0].weight.add_(1.0)
    np.testing.assert_array_equal(params["0"]["weight"], sd["0.weight"])


def test_state_dict_order_after_jit_needs_module(key):
    model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(11)])
    params, state = jax.jit(model.init)(key)  # jit returns dicts with sorted keys: "10" before "2"
    ref = list(torch.nn.Sequential(*[torch.nn.Linear(2, 2) for _ in range(11)]).state_dict())
    assert list(state_dict(params, state, module=model)) == ref
    with pytest.raises(ValueError, match="missing"):
        state_dict({}, {}, module=model)


def test_one_error_lists_every_problem():
    sd = {k: v.numpy() for k, v in _mlp(torch.nn).state_dict().items()}
    del sd["0.bias"]
    sd["extra.weight"] = np.zeros(2, np.float32)
    sd["3.weight"] = np.zeros((3, 3), np.float32)
    sd["1.running_mean"] = np.zeros(4, np.int64)
    with pytest.raises(ValueError) as err:
        load_state_dict(_mlp(nn), sd)
    msg = str(err.value)
    assert "4 problem(s)" in msg and "missing key '0.bias' (shape (4,))" in msg
    assert "unexpected key 'extra.weight'" in msg
    assert "3.weight: expected shape (2, 4), got (3, 3)" in msg
    assert "1.running_mean: expected a floating-point array, got dtype int64" in msg


def test_strict_false(key):
    sd = {k: v.numpy() for k, v in _mlp(torch.nn).state_dict().items()}
    del sd["0.bias"]
    sd["extra"] = np.zeros(1)
    with pytest.raises(ValueError, match="pass key="):
        load_state_dict(_mlp(nn), sd, strict=False)
    params, state, incompatible = load_state_dict(_mlp(nn), sd, strict=False, key=key)
    assert incompatible == IncompatibleKeys(missing_keys=["0.bias"], unexpected_keys=["extra"])
    tm = _mlp(torch.nn)  # the same lists as torch's own load_state_dict(strict=False)
    assert tuple(tm.load_state_dict({k: torch.as_tensor(v) for k, v in sd.items()}, strict=False)) == incompatible
    np.testing.assert_array_equal(params["0"]["bias"], _mlp(nn).init(key)[0]["0"]["bias"])
    np.testing.assert_array_equal(params["0"]["weight"], sd["0.weight"])
    with pytest.raises(ValueError, match="expected shape"):  # shapes are checked even when not strict
        load_state_dict(_mlp(nn), {**sd, "3.bias": np.zeros(5, np.float32)}, strict=False, key=key)


def test_float64_policy(x64):
    tm = torch.nn.Linear(3, 2).double()
    params, _ = load_state_dict(nn.Linear(3, 2), tm.state_dict())
    assert params["weight"].dtype == jnp.float64
    params, state = load_state_dict(nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2).state_dict())
    assert params["weight"].dtype == jnp.float32 and state["num_batches_tracked"].dtype == jnp.int64


def test_float64_without_x64_raises():
    with pytest.raises(ValueError, match="enable_x64"):
        load_state_dict(nn.Linear(3, 2), torch.nn.Linear(3, 2).double().state_dict())


def test_bad_state_dict_type():
    with pytest.raises(TypeError, match="mapping"):
        load_state_dict(nn.Linear(3, 2), [np.zeros((2, 3))])


def test_flatten_unflatten():
    tree = {"0": {"weight": 1, "bias": 2}, "1": {}, "2": {"a": {"b": 3}}}
    flat = flatten(tree)
    assert flat == {"0.weight": 1, "0.bias": 2, "2.a.b": 3}
    assert unflatten(flat) == {"0": {"weight": 1, "bias": 2}, "2": {"a": {"b": 3}}}
    with pytest.raises(ValueError, match="without '.'"):
        flatten({"a.b": 1})
    with pytest.raises(ValueError, match="leaf"):
        unflatten({"a": 1, "a.b": 2})
    with pytest.raises(ValueError, match="leaf"):
        unflatten({"a.b": 2, "a": 1})


def test_half_precision_state_dicts_load_with_their_dtype():
    # bfloat16 is the usual dtype of LLM checkpoints; torch's .numpy() cannot read it (TypeError)
    for tdtype, jdtype in ((torch.bfloat16, jnp.bfloat16), (torch.float16, jnp.float16)):
        tm = _mlp(torch.nn).to(tdtype)
        params, state = load_state_dict(_mlp(nn), tm.state_dict())
        assert params["0"]["weight"].dtype == jdtype and state["1"]["running_var"].dtype == jdtype
        np.testing.assert_array_equal(np.asarray(params["0"]["weight"], np.float32),
                                      tm[0].weight.detach().float().numpy())
        sd = state_dict(params, state)
        back = {k: torch.from_numpy(v.view(np.int16)).view(tdtype) if v.dtype == jnp.bfloat16 else torch.from_numpy(v)
                for k, v in sd.items()}
        _mlp(torch.nn).to(tdtype).load_state_dict(back)  # round trip (bfloat16 through its bits, as documented)
        for k, v in tm.state_dict().items():
            assert torch.equal(back[k], v), k


def test_safetensors_round_trip_and_torch_loads_it_strict(tmp_path, key):
    import safetensors.torch

    from jaxdl.interop import load_safetensors, save_safetensors

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    params, state = model.init(key)
    path = tmp_path / "w.safetensors"
    save_safetensors(path, params, state, module=model)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ref.load_state_dict(safetensors.torch.load_file(path), strict=True)
    np.testing.assert_array_equal(ref[0].weight.detach().numpy(), np.asarray(params["0"]["weight"]))
    p2, s2 = load_safetensors(path, model)
    for a, b in zip(jax.tree_util.tree_leaves((params, state)), jax.tree_util.tree_leaves((p2, s2))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert set(load_safetensors(path)) == set(ref.state_dict())  # module=None: the flat entries
    safetensors.torch.save_file(ref.state_dict(), tmp_path / "t.safetensors")  # and torch's file loads here
    assert load_safetensors(tmp_path / "t.safetensors", model)[1]["1"]["num_batches_tracked"] == 0
