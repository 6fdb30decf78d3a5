"""interop.compare against torch: a correct model (from from_torch, or written in jaxdl.nn with torch's names) is
all within the dtype's tolerance; a jaxdl model with one deliberately wrong layer is named at that submodule, with
the catalogue's cause (GELU form, eps, BatchNorm momentum convention, biased running variance, 'same' padding).
A torch submodule jaxdl computes inline keeps its output row, saying so; nn.register_module_forward_hook, which
compare's jaxdl side uses, is checked on its own. A model converted through torch.export has real output rows per
torch submodule (the replay's submodule hook): the README's ResNet is within float32, and a wrong parameter or a
wrong op mapping is named at its submodule; where the export's dataflow does not give what torch's hook sees (an
LSTM's unused (h, c)), the row says so; repeated calls pair call by call.
"""
import copy
import dataclasses
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from jaxdl import interop, nn  # noqa: E402
from jaxdl.interop import _aten  # noqa: E402
from jaxdl.interop._graph import Node, Ref, submodule_calls, submodule_hook  # noqa: E402


def _torch_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.GELU(),
                               torch.nn.Linear(8, 8), torch.nn.LayerNorm(8), torch.nn.Linear(8, 3))


def _jaxdl_mlp(gelu="none", momentum=0.1, ln_eps=1e-5):
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8, momentum=momentum), nn.GELU(approximate=gelu),
                         nn.Linear(8, 8), nn.LayerNorm(8, eps=ln_eps), nn.Linear(8, 3))


X = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)


def test_converted_model_is_all_within_float32(capsys):
    tm = _torch_mlp()
    model, params, state = interop.from_torch(tm)
    result = interop.compare(tm, model, params, state, X, training=True)
    assert result.ok and result.first is None and result.dtype == "float32", str(result)
    assert "all within the float32 tolerance" in capsys.readouterr().out
    names = {r.submodule for r in result.rows}
    assert names == {"", "0", "1", "2", "3", "4", "5"}
    whats = {r.what for r in result.rows if r.submodule == "1"}
    assert {"output", "grad weight", "grad bias", "buffer running_mean", "buffer running_var"} <= whats
    # the caller's torch module is left as it was
    assert int(tm[1].num_batches_tracked) == 0


def test_converted_model_is_all_within_float64(x64):
    tm = _torch_mlp().double()
    model, params, state = interop.from_torch(tm)
    result = interop.compare(tm, model, params, state, X.astype(np.float64), training=True, show=False)
    assert result.ok and result.dtype == "float64", str(result)
    assert max(r.rel_err for r in result.rows if r.what == "output") < 1e-12


@pytest.mark.parametrize("wrong,training,where,cause", [
    ({"gelu": "tanh"}, False, "2", "GELU form: torch approximate='none'"),
    ({"momentum": 0.9}, True, "1", "momentum convention: jaxdl momentum=0.9 is flax's"),
    ({"ln_eps": 1e-6}, False, "4", "eps: torch eps=1e-05, jaxdl 1e-06"),
])
def test_a_wrong_layer_is_named_with_its_cause(wrong, training, where, cause):
    tm = _torch_mlp()
    _, params, state = interop.from_torch(tm)
    result = interop.compare(tm, _jaxdl_mlp(**wrong), params, state, X, training=training, show=False)
    assert result.first == where and cause in result.cause, str(result)
    earlier = [r for r in result.rows if r.submodule in {"0", "1", "2"} - {where} and r.what == "output"]
    assert all(r.ok for r in earlier if r.submodule < where), str(result)
    assert "first departure: " + where in str(result)


@dataclasses.dataclass(frozen=True)
class _BiasedBatchNorm(nn.BatchNorm1d):
    """flax's running variance: the biased batch variance (torch keeps the unbiased one)."""

    def apply(self, params, state, input, *, training=False, key=None):
        out, new = super().apply(params, state, input, training=training, key=key)
        if training:
            var = jnp.var(input, axis=0)
            new = {**new, "running_var": (1 - self.momentum) * state["running_var"] + self.momentum * var}
        return out, new


def test_biased_running_variance_is_named():
    tm = _torch_mlp()
    _, params, state = interop.from_torch(tm)
    model = _jaxdl_mlp()
    model = nn.Sequential(*[_BiasedBatchNorm(8) if i == 1 else m for i, m in enumerate(model)])
    result = interop.compare(tm, model, params, state, X, training=True, show=False)
    assert result.first == "1" and "biased batch variance" in result.cause and "n=6" in result.cause, str(result)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")  # torch's own
def test_same_padding_is_named():
    tm = torch.nn.Sequential(torch.nn.Conv1d(2, 3, 4, padding="same"), torch.nn.ReLU())
    _, params, state = interop.from_torch(tm)
    model = nn.Sequential(nn.Conv1d(2, 3, 4, padding=2), nn.ReLU())
    x = np.random.default_rng(1).standard_normal((2, 2, 7)).astype(np.float32)
    result = interop.compare(tm, model, params, state, x, show=False)
    assert result.first == "0" and "'same' padding" in result.cause, str(result)


class _TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = torch.nn.Linear(3, 5), torch.nn.GELU(), torch.nn.Linear(5, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) + x[:, :2]


@dataclasses.dataclass(frozen=True)
class _JaxNet(nn.Module):
    fc1: nn.Module
    act: nn.Module
    fc2: nn.Module

    def apply(self, params, state, x, *, training=False, key=None):
        m = nn.bind(self, params, state, training=training, key=key)
        return m.fc2(m.act(m.fc1(x))) + x[:, :2], m.state


def test_a_model_written_in_jaxdl_nn_with_torch_names():
    torch.manual_seed(0)
    tm = _TorchNet()
    right = _JaxNet(nn.Linear(3, 5), nn.GELU(), nn.Linear(5, 2))
    params, state = interop.load_state_dict(right, tm.state_dict())
    x = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    assert interop.compare(tm, right, params, state, x, show=False).ok
    wrong = dataclasses.replace(right, act=nn.GELU(approximate="tanh"))
    result = interop.compare(tm, wrong, params, state, x, show=False)
    assert result.first == "act" and "GELU form" in result.cause, str(result)


def test_training_with_dropout_is_refused():
    tm = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout(0.5))
    model, params, state = interop.from_torch(tm)
    with pytest.raises(ValueError, match=r"torch\.nn\.Dropout at '1' draws random numbers"):
        interop.compare(tm, model, params, state, np.ones((1, 2), np.float32), training=True)
    assert interop.compare(tm, model, params, state, np.ones((1, 2), np.float32), show=False).ok  # eval: identity


def test_register_module_forward_hook_sees_every_apply_until_removed():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    params, state = model.init(jax.random.key(0))
    seen = []
    with nn.register_module_forward_hook(lambda m, p, args, out: seen.append((type(m).__name__, p, out.shape))):
        y, _ = model.apply(params, state, jnp.ones((4, 2)))
    assert [(n, s) for n, _, s in seen] == [("Linear", (4, 3)), ("ReLU", (4, 3)), ("Sequential", (4, 3))]
    assert seen[0][1] is params["0"] and seen[2][1] is params
    model.apply(params, state, jnp.ones((4, 2)))
    assert len(seen) == 3  # removed on leaving the with block


def _torch_calls(tm, *inputs):
    """The submodules whose forward hook fires in torch (grad enabled, as compare runs it)."""
    seen = []
    handles = [m.register_forward_hook(lambda m, a, o, n=n: seen.append(n)) for n, m in tm.named_modules()]
    tm(*(torch.as_tensor(x) for x in inputs))
    for h in handles:
        h.remove()
    return seen


def test_a_submodule_jaxdl_computes_inline_says_so():
    # torch's TransformerEncoderLayer calls linear1, dropout, ... as modules; jaxdl's computes them inline: each
    # still has its output row, saying so, with nothing judged; every torch hook has its row, none is dropped
    torch.manual_seed(0)
    tm = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    model, params, state = interop.from_torch(tm)
    result = interop.compare(tm, model, params, state, x, show=False)
    assert result.ok, str(result)
    fired = set(_torch_calls(tm, x))
    assert {"linear1", "linear2", "norm1", "self_attn"} <= fired
    outputs = {r.submodule: r for r in result.rows if r.what == "output"}
    assert set(outputs) == fired, str(result)
    inline = {n for n, r in outputs.items() if r.note == "not computed as a submodule by jaxdl"}
    assert {"linear1", "linear2"} <= inline and not {"", "norm1", "self_attn"} & inline, str(result)
    assert all(r.ok and np.isnan(r.abs_err) for n, r in outputs.items() if n in inline)
    line = next(ln for ln in str(result).splitlines() if ln.startswith("linear1 ") and "output" in ln)
    assert line.split()[2:] == ["-", "-", "-", "not", "computed", "as", "a", "submodule", "by", "jaxdl"], line
    assert {r.what for r in result.rows if r.submodule == "linear1"} == {"output", "grad weight", "grad bias"}


def test_a_submodule_torch_never_calls_has_no_output_row():
    # torch's MultiheadAttention reads out_proj's weights in F.multi_head_attention_forward: out_proj's hook never
    # fires, so neither side has an output row for it (no spurious one); its gradients are compared
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    assert _torch_calls(tm, x, x, x) == [""]
    model, params, state = interop.from_torch(tm)
    result = interop.compare(tm, model, params, state, x, x, x, show=False)
    assert result.ok, str(result)
    assert {r.what for r in result.rows if r.submodule == "out_proj"} == {"grad weight", "grad bias"}, str(result)
    assert "not computed" not in str(result)


@dataclasses.dataclass(frozen=True)
class _Remat(nn.Module):
    """Linear → ReLU → Linear with the first Linear under jax.checkpoint: its value is a tracer to compare."""

    first: nn.Module = nn.Linear(4, 8)
    second: nn.Module = nn.Linear(8, 3)

    def apply(self, params, state, x, *, training=False, key=None):
        m = nn.bind(self, params, state, training=training, key=key)
        h = jax.checkpoint(lambda x: m.first(x))(x)
        return m.second(jax.nn.relu(h)), m.state


def test_a_submodule_inside_jaxdls_own_transform_says_so():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(OrderedDict([("first", torch.nn.Linear(4, 8)), ("relu", torch.nn.ReLU()),
                                          ("second", torch.nn.Linear(8, 3))]))
    model = _Remat()
    _, params, _ = interop.from_torch(tm)
    params, state = {"first": params["first"], "second": params["second"]}, model.init(jax.random.key(0))[1]
    result = interop.compare(tm, model, params, state, X, show=False)
    notes = {r.submodule: r.note for r in result.rows if r.what == "output"}
    assert notes == {"first": "computed inside jaxdl's own jit/scan: its value is not seen",
                     "relu": "not computed as a submodule by jaxdl", "second": "", "": ""}, str(result)
    assert result.ok, str(result)


class _Block(torch.nn.Module):  # README.md's "Carrying a torch model over", at width 4
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c)
        self.conv2, self.bn2 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class _ResNet(torch.nn.Module):
    def __init__(self, c=4):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(1, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c),
                                        torch.nn.ReLU())
        self.block = _Block(c)
        self.head = torch.nn.Linear(c * 64, 10)

    def forward(self, x):
        return self.head(self.block(self.stem(x.view(-1, 1, 8, 8))).flatten(1))


X64 = np.random.default_rng(1).standard_normal((6, 64)).astype(np.float32)


@pytest.fixture(scope="module")
def exported_resnet():
    torch.manual_seed(0)
    tm = _ResNet()
    return tm, *interop.from_torch(tm, torch.as_tensor(X64))


SUBMODULES = ["stem.0", "stem.1", "stem.2", "stem", "block.conv1", "block.bn1", "block.conv2", "block.bn2", "block",
              "head", ""]


def test_an_exported_model_has_an_output_row_per_submodule(exported_resnet):
    tm, model, params, state = exported_resnet
    result = interop.compare(tm, model, params, state, X64, training=True, show=False)
    outputs = [r for r in result.rows if r.what == "output"]
    assert [r.submodule for r in outputs] == SUBMODULES, str(result)
    assert all(r.ok and not r.unjudged and not r.note for r in outputs), str(result)
    assert "not computed" not in str(result)
    assert all(r.ok for r in result.rows if r.what.startswith("buffer")), str(result)
    # the replay's hook fires as torch's forward hooks do: once per call, inner before outer, on completion
    fired = []
    with submodule_hook(lambda path, cls, outputs: fired.append((path, cls, [x.shape for x in outputs]))):
        model.apply(params, state, X64)
    assert [p for p, _, _ in fired] == _torch_calls(copy.deepcopy(tm).eval(), X64)[:-1] == SUBMODULES[:-1]
    assert fired[0][1:] == ("Conv2d", [(6, 4, 8, 8)]) and fired[-1][1:] == ("Linear", [(6, 10)])


def test_an_exported_model_departs_at_the_wrong_parameters_submodule(exported_resnet):
    tm, model, params, state = exported_resnet
    wrong = jax.tree_util.tree_map(lambda x: x, params)
    wrong["block"]["conv2"]["weight"] = 1.01 * wrong["block"]["conv2"]["weight"]
    result = interop.compare(tm, model, wrong, state, X64, show=False)
    assert result.first == "block.conv2", str(result)
    outputs = {r.submodule: r.ok for r in result.rows if r.what == "output"}
    assert all(outputs[n] for n in SUBMODULES[:SUBMODULES.index("block.conv2")]), str(result)


def test_an_exported_model_departs_at_the_wrong_ops_submodule(exported_resnet, monkeypatch):
    # relu replayed as leaky_relu: nn.ReLU's stem.2 is named, the first whose output departs in torch's order
    tm, model, params, state = exported_resnet
    monkeypatch.setitem(_aten.TABLE, "aten.relu", lambda x: jnp.where(x > 0, x, 0.01 * x))
    result = interop.compare(tm, model, params, state, X64, show=False)
    assert result.first == "stem.2", str(result)
    assert [r.ok for r in result.rows if r.what == "output"][:2] == [True, True], str(result)


def test_submodule_calls_pass_on_the_dataflow_to_the_output():
    # hand-written records: a BatchNorm call whose running statistics thread into its second call (no output of
    # the first), a submodule called twice, a parent completing at its child's last node (the child first)
    bn = "aten._native_batch_norm_legit_functional.default"

    def stack(*calls):
        return tuple((c, c.split("@")[0], "M") for c in calls)

    nodes = (
        Node("c", "aten.relu.default", (Ref("x"),), "", "float32", stack("a", "a.conv")),
        Node("k", "mul", (Ref("size"), 2), "", None, stack("a", "a.conv")),  # a size the model reuses: no output
        Node("n", "aten.add.Tensor", (Ref("nbt"), 1), "", None, stack("a", "a.bn")),
        Node("b", bn, (Ref("c"), None, None, Ref("rm"), Ref("rv"), True, 0.1, 1e-5), "", None, stack("a", "a.bn")),
        Node("b0", "getitem", (Ref("b"), 0), "", None, stack("a", "a.bn")),
        Node("b3", "getitem", (Ref("b"), 3), "", None, stack("a", "a.bn")),
        Node("b4", "getitem", (Ref("b"), 4), "", None, stack("a", "a.bn")),
        Node("n2", "aten.add.Tensor", (Ref("n"), 1), "", None, stack("a", "a.bn@1")),
        Node("d", bn, (Ref("b0"), None, None, Ref("b3"), Ref("b4"), True, 0.1, 1e-5), "", None,
             stack("a", "a.bn@1")),
        Node("d0", "getitem", (Ref("d"), 0), "", None, stack("a", "a.bn@1")),
        Node("s", "aten.add.Tensor", (Ref("d0"), Ref("c")), "", None, ()),
        Node("v", "aten.view.default", (Ref("s"), (Ref("k"), -1)), "", None, ()),
    )
    outputs = ((Ref("v"), "output", None), (Ref("n2"), "buffer", "a.bn.num_batches_tracked"))
    calls = submodule_calls(nodes, outputs)
    assert calls == {1: (("a.conv", "M", ("c",)),), 6: (("a.bn", "M", ("b0",)),),
                     9: (("a.bn", "M", ("d0",)), ("a", "M", ("c", "d0")))}


@pytest.mark.parity_all
def test_an_exported_models_partly_used_and_repeated_submodules():
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(inplace=True))
            self.act, self.lstm = torch.nn.ReLU(), torch.nn.LSTM(4, 3, batch_first=True)

        def forward(self, x):
            out, _ = self.lstm(self.act(self.act(self.stem(x)) - 0.1).flatten(2).transpose(1, 2))
            return out[:, -1]

    torch.manual_seed(0)
    tm, x = Net(), X64[:, :9].reshape(6, 1, 3, 3)
    model, params, state = interop.from_torch(tm, torch.as_tensor(x))
    result = interop.compare(tm, model, params, state, x, show=False)
    assert result.ok, str(result)
    rows = {(r.submodule, r.what): r for r in result.rows if r.what.startswith("output")}
    assert [w for n, w in rows if n == "act"] == ["output call 0", "output call 1"], str(result)
    assert all(not rows[k].unjudged for k in rows if k[0] != "lstm"), str(result)
    assert rows["lstm", "output"].unjudged and rows["lstm", "output"].note == (
        "torch's hook sees (6,9,3) (1,6,3) (1,6,3), the model uses (6,9,3) of it: not judged"), str(result)


@pytest.mark.parity_all
def test_an_exported_transformer_judges_every_submodule():
    # the layers' attention reshapes share size arithmetic (batch * heads) across layers: a size is no output
    from tests.interop import torch_models  # noqa: PLC0415

    torch.manual_seed(0)
    tm = torch_models.TransformerClassifier()
    tokens = torch.randint(0, torch_models.VOCAB, (4, torch_models.SEQ))
    padding = torch.zeros(4, torch_models.SEQ, dtype=torch.bool)
    padding[0, -2:] = True
    model, params, state = interop.from_torch(tm, tokens, padding)
    result = interop.compare(tm, model, params, state, tokens.numpy(), padding.numpy(), training=True, show=False)
    outputs = [r for r in result.rows if r.what == "output"]
    assert {"encoder.layers.0.self_attn", "encoder.layers.0", "encoder"} <= {r.submodule for r in outputs}
    assert result.ok and not any(r.unjudged for r in outputs), str(result)


@pytest.mark.parity_all
@pytest.mark.parametrize("make", ["book_gpt", "hf_gpt2"])
def test_exported_gpts_judge_every_submodule(make):
    # the book's GPTModel and transformers' GPT2LMHeadModel (its ModelOutput read as a dict on both sides)
    pytest.importorskip("transformers")
    from tests.interop import test_models  # noqa: PLC0415

    torch.manual_seed(0)
    tm = getattr(test_models, make)()
    tokens = torch.randint(0, test_models.GPT_V, (2, 10))
    model, params, state = interop.from_torch(tm, tokens)
    result = interop.compare(tm, model, params, state, tokens.numpy(), show=False)
    outputs = [r for r in result.rows if r.what.startswith("output")]
    assert len(outputs) > 20 and result.ok and not any(r.unjudged for r in outputs), str(result)
