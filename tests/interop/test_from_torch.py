"""interop.from_torch against torch: torch's own module_db samples with jaxdl's module converted from torch's
(instead of constructed), export back into torch with strict=True, nested containers, refusals, and the converted
model under jit, grad, vmap and fit.

module_db: every class of torch's module_db that jaxdl.nn has. CI runs one sample of every CI_STRIDE-th class
(its first training or first eval sample, float32 and float64); ``pytest --parity-all`` runs every sample of
every class (per-class counts: ``python -m jaxdl.parity._module_db --from-torch CLS...``).
"""
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from jaxdl import interop, nn, parity  # noqa: E402
from jaxdl.parity import _module_db  # noqa: E402
from tests.helpers import KNOWN_MODULE_DB_MISSES  # noqa: E402

CLASSES = tuple(n for n in sorted(_module_db.module_infos()) if hasattr(nn, n))
CI_STRIDE = 29
CI = [(name, (i // CI_STRIDE) % 2 == 0, 0) for i, name in enumerate(CLASSES) if i % CI_STRIDE == 0]


def test_every_module_db_class_jaxdl_has_is_swept():
    # torch 2.13's module_db: jaxdl has all but LinearCrossEntropyLoss
    assert len(CLASSES) >= 110 and "Linear" in CLASSES and "LSTM" in CLASSES and "TransformerEncoder" in CLASSES


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")  # torch's own, at construction
@pytest.mark.parametrize("dtype", parity.DTYPES)
@pytest.mark.parametrize("sid", CI, ids=[f"{n}-{'train' if t else 'eval'}-{i}" for n, t, i in CI])
def test_module_db_sample_through_from_torch(sid, dtype):
    result = parity.run_case(parity.module_db_case(*sid, converted=True), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


# samples that fail with jaxdl's own constructor too (parity's module_db harness, same seed, same numbers), so not
# from_torch's doing: tests/helpers.KNOWN_MODULE_DB_MISSES, by case name and dtype; every other failure fails the test
KNOWN_GAPS = {(parity.module_db_case(*sid).name, dtype) for sid, dtype in KNOWN_MODULE_DB_MISSES}


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch's and jaxdl's notes (kl_div 'mean', nested tensors, ...)
@pytest.mark.parity_all  # every module_db sample through from_torch
@pytest.mark.parametrize("name", CLASSES)
def test_module_db_class_through_from_torch(name):
    report = _module_db.module_db_report([name], converted=True)[name]
    failed = [f for f in report["failed"] if f[:2] not in KNOWN_GAPS]
    assert not failed, _module_db.format_module_db_report({name: report})


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(OrderedDict([
        ("conv", torch.nn.Conv2d(2, 4, 3, padding="same")),
        ("bn", torch.nn.BatchNorm2d(4)),
        ("act", torch.nn.ReLU()),
        ("pool", torch.nn.AdaptiveAvgPool2d(1)),
        ("flat", torch.nn.Flatten()),
        ("head", torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.GELU(), torch.nn.Dropout(0.0),
                                     torch.nn.Linear(8, 3))),
    ]))


def test_nested_model_converts_with_torch_names_and_exports_back_strictly():
    tm = _net()
    model, params, state = interop.from_torch(tm)
    assert isinstance(model, nn.Sequential) and model.names == ("conv", "bn", "act", "pool", "flat", "head")
    assert model.conv == nn.Conv2d(2, 4, 3, padding="same") and model.head[1] == nn.GELU()
    sd = interop.state_dict(params, state, module=model)
    assert list(sd) == list(tm.state_dict())
    fresh = _net()
    for p in fresh.parameters():
        torch.nn.init.zeros_(p)
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
    for k, v in tm.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
    x = np.random.default_rng(0).standard_normal((5, 2, 6, 6)).astype(np.float32)
    tm.eval()
    y, _ = model.apply(params, state, jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(y), tm(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_module_list_and_dict_keep_their_names():
    tm = torch.nn.ModuleDict({"enc": torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.LayerNorm(3, eps=1e-6)]),
                              "dec": torch.nn.Linear(3, 2, bias=False)})
    model, params, state = interop.from_torch(tm)
    assert isinstance(model, nn.ModuleDict) and isinstance(model["enc"], nn.ModuleList)
    assert model["enc"][1] == nn.LayerNorm(3, eps=1e-6) and model["dec"] == nn.Linear(3, 2, bias=False)
    assert list(interop.flatten(params)) == [k for k, _ in tm.named_parameters()]


def test_transformer_encoder_reads_its_layers_configuration():
    layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", layer_norm_eps=1e-6,
                                             batch_first=True, norm_first=True)
    with pytest.warns(UserWarning, match="enable_nested_tensor"):
        tm = torch.nn.TransformerEncoder(layer, 2, norm=torch.nn.LayerNorm(8)).eval()
    model, params, state = interop.from_torch(tm)
    assert model.encoder_layer == nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu",
                                                             layer_norm_eps=1e-6, batch_first=True, norm_first=True)
    x = np.random.default_rng(0).standard_normal((2, 5, 8)).astype(np.float32)
    with torch.no_grad():
        want = tm(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(x))[0]), want, rtol=1e-5, atol=1e-5)


def test_batchnorm_with_momentum_none_is_torch_cumulative_average():
    tm = torch.nn.BatchNorm1d(3, momentum=None)
    model, params, state = interop.from_torch(tm)
    assert model.momentum is None
    rng = np.random.default_rng(0)
    for _ in range(3):  # running stats = mean of the batches' statistics so far, as torch's
        x = rng.standard_normal((6, 3)).astype(np.float32)
        tm(torch.from_numpy(x))
        _, state = model.apply(params, state, jnp.asarray(x), training=True)
    for k, v in tm.state_dict().items():
        if k in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(np.asarray(interop.flatten(state)[k]), v.numpy(), rtol=1e-6, err_msg=k)


class _Custom(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x).abs()


class _MyLinear(torch.nn.Linear):
    def forward(self, x):
        return super().forward(x) * 2


class _PlainLinear(torch.nn.Linear):  # only an __init__: still torch's Linear
    def __init__(self):
        super().__init__(2, 3)


def test_custom_forward_goes_to_the_export_fallback_naming_class_and_path():
    custom, x = _Custom(), torch.randn(3, 2)
    model, params, state = interop.from_torch(custom, x)  # through torch.export with the example input
    assert isinstance(model, interop.ExportedModel)
    np.testing.assert_allclose(np.asarray(model.apply(params, state, jnp.asarray(x.numpy()))[0]),
                               custom(x).detach().numpy(), rtol=1e-6, atol=1e-6)
    with pytest.raises(NotImplementedError, match=r"_Custom at '<root>'.*needs example inputs"):
        interop.from_torch(custom)
    nested = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(torch.nn.ReLU(), _MyLinear(2, 2)))
    with pytest.raises(NotImplementedError, match=r"_MyLinear at '1\.1'.*subclass of torch\.nn\.Linear"):
        interop.from_torch(nested)
    with pytest.raises(NotImplementedError, match=r"AdaptiveAvgPool1d at '<root>'.*subclass"):
        interop.from_torch(type("AdaptiveAvgPool1d", (torch.nn.AdaptiveAvgPool1d,), {"forward": lambda s, x: x})(2))
    assert interop.from_torch(torch.nn.AdaptiveLogSoftmaxWithLoss(32, 10, [4, 7]))[0] == nn.AdaptiveLogSoftmaxWithLoss(
        32, 10, (4, 7))
    hooked = torch.nn.Linear(2, 2)
    hooked.register_forward_hook(lambda m, a, out: out * 2)
    with pytest.raises(NotImplementedError, match="hooks"):
        interop.from_torch(hooked)
    model, _, _ = interop.from_torch(_PlainLinear())
    assert model == nn.Linear(2, 3)


def test_a_setting_jaxdl_refuses_is_one_error_naming_class_and_path():
    tm = torch.nn.Sequential(torch.nn.Embedding(5, 3, max_norm=1.0))
    with pytest.raises(ValueError, match=r"torch\.nn\.Embedding at '0' has a setting jaxdl\.nn\.Embedding "
                                         r"refuses: .*max_norm"):
        interop.from_torch(tm)
    assert interop.from_torch(torch.nn.GroupNorm(2, 4, bias=False))[0] == nn.GroupNorm(2, 4, bias=False)
    no_affine = torch.nn.GroupNorm(2, 4, affine=False, bias=False)
    assert interop.from_torch(no_affine)[0] == nn.GroupNorm(2, 4, affine=False, bias=False)
    assert interop.from_torch(torch.nn.PReLU(3, init=0.5))[0] == nn.PReLU(3, init_value=0.5)
    lazy = torch.nn.LazyLinear(3)
    with pytest.raises(NotImplementedError, match="not materialised yet"):
        interop.from_torch(lazy)


def test_float64_module_converts_under_x64(x64):
    tm = torch.nn.Linear(3, 2).double()
    _, params, _ = interop.from_torch(tm)
    assert params["weight"].dtype == jnp.float64
    np.testing.assert_array_equal(np.asarray(params["weight"]), tm.weight.detach().numpy())


def test_converted_model_under_jit_grad_vmap_and_fit():
    from jaxdl import functional as F
    from jaxdl import optim, train

    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.BatchNorm1d(16), torch.nn.ReLU(),
                             torch.nn.Linear(16, 3))
    model, params, state = interop.from_torch(tm)
    x = jnp.asarray(np.random.default_rng(0).standard_normal((8, 4)), jnp.float32)
    y = jnp.arange(8) % 3
    eager = model.apply(params, state, x)[0]
    np.testing.assert_allclose(jax.jit(lambda p: model.apply(p, state, x)[0])(params), eager, rtol=1e-6, atol=1e-6)
    per_example = jax.vmap(lambda xi: model.apply(params, state, xi[None])[0][0])(x)
    np.testing.assert_allclose(per_example, eager, rtol=1e-6, atol=1e-6)

    grads = jax.grad(lambda p: F.cross_entropy(model.apply(p, state, x, training=True)[0], y))(params)
    tm.train()
    logits = tm(torch.tensor(np.asarray(x)))
    torch.nn.functional.cross_entropy(logits, torch.tensor(np.asarray(y), dtype=torch.long)).backward()
    for k, p in tm.named_parameters():
        np.testing.assert_allclose(np.asarray(interop.flatten(grads)[k]), p.grad.numpy(), rtol=1e-4, atol=1e-6)

    tx = optim.sgd(lr=0.1)
    start = train.TrainState.create(model, tx, jax.random.key(0)).replace(params=params, model_state=state,
                                                                        opt_state=tx.init(params))
    xs = jnp.asarray(np.random.default_rng(1).standard_normal((32, 4)), jnp.float32)
    ys = (xs[:, 0] > 0).astype(jnp.int32) + (xs[:, 1] > 0).astype(jnp.int32)
    result = train.fit(model, tx, (xs, ys), epochs=2, batch_size=16, state=start, progress=False, accuracy=False)
    assert np.isfinite(result.history[-1]["train_loss"])
    assert int(result.state.model_state["1"]["num_batches_tracked"]) == 4  # 2 epochs of 2 steps from torch's 0
    sd = interop.state_dict(result.state.params, result.state.model_state, module=model)
    tm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=True)
