"""Parity cases for the recurrent family: nn.RNN / LSTM / GRU (layers, directions, projection, batch_first,
initial states, unbatched), the three cells, and packed variable-length batches (jaxdl.nn.utils.rnn against
torch.nn.utils.rnn): outputs, final states and the gradients w.r.t. inputs and every parameter.
"""
from jaxdl import nn
from jaxdl.nn.utils import rnn as rnn_utils
from jaxdl.parity._core import register
from jaxdl.parity._module_db import compare_module


def _t(env, x):
    return env.torch.from_numpy(x)  # compare_module casts it to the dtype under test


def _layer_case(cls, kwargs, *, states=False, unbatched=False):
    def case(env):
        tm, jm = getattr(env.torch.nn, cls)(3, 4, **kwargs), getattr(nn, cls)(3, 4, **kwargs)
        d = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
        h_out = kwargs.get("proj_size", 0) or 4
        batch = () if unbatched else (2,)
        x = env.randn(*((5,) if unbatched else (2, 5) if kwargs.get("batch_first") else (5, 2)), 3)
        args = [_t(env, x)]
        if states:
            h = _t(env, env.randn(d, *batch, h_out))
            args.append((h, _t(env, env.randn(d, *batch, 4))) if cls == "LSTM" else h)
        return [compare_module(env, tm, jm, args, training=training) for training in (False, True)]
    return case


_LAYERS = [
    ("RNN", {}, False, False), ("RNN", {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}, True, False),
    ("RNN", {"batch_first": True, "bias": False}, True, False),
    ("LSTM", {}, False, False), ("LSTM", {"num_layers": 2, "bidirectional": True}, True, False),
    ("LSTM", {"proj_size": 2, "num_layers": 2, "batch_first": True}, True, False),
    ("LSTM", {"proj_size": 3, "bidirectional": True, "bias": False}, True, True),
    ("GRU", {}, False, False), ("GRU", {"num_layers": 3, "bidirectional": True, "batch_first": True}, True, False),
    ("GRU", {"bias": False}, True, True),
]
for _cls, _kw, _states, _unbatched in _LAYERS:
    _label = ",".join([f"{k}={v}" for k, v in _kw.items()] + ["hx"] * _states + ["unbatched"] * _unbatched)
    register(f"nn.{_cls}[{_label}]", "rnn", sweep=True)(_layer_case(_cls, _kw, states=_states, unbatched=_unbatched))


def _cell_case(cls, **kwargs):
    def case(env):
        tm, jm = getattr(env.torch.nn, cls)(3, 4, **kwargs), getattr(nn, cls)(3, 4, **kwargs)
        out = []
        for batch in ((2,), ()):
            h = _t(env, env.randn(*batch, 4))
            hx = (h, _t(env, env.randn(*batch, 4))) if cls == "LSTMCell" else h
            out.append(compare_module(env, tm, jm, [_t(env, env.randn(*batch, 3)), hx]))
        out.append(compare_module(env, tm, jm, [_t(env, env.randn(2, 3))]))  # hx omitted: zeros
        return out
    return case


for _cls, _kw in (("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {}),
                  ("GRUCell", {"bias": False})):
    register(f"nn.{_cls}[{','.join(f'{k}={v}' for k, v in _kw.items())}]", "rnn", sweep=True)(_cell_case(_cls, **_kw))


def _packed_case(cls, kwargs, lengths, enforce_sorted, batch_first=False):
    """pack_padded_sequence -> module -> pad_packed_sequence on both sides: padded output (zeros past each
    length) and h_n (each sequence's last valid step; the reverse direction's first)."""
    def case(env):
        torch_rnn = env.torch.nn.utils.rnn
        tm, jm = getattr(env.torch.nn, cls)(3, 4, **kwargs), getattr(nn, cls)(3, 4, **kwargs)
        steps = max(lengths) + 1  # one step of padding beyond the longest
        x = env.randn(*((len(lengths), steps) if batch_first else (steps, len(lengths))), 3)

        def jax_call(forward, x):
            packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
            out, h_n = forward(packed)
            return rnn_utils.pad_packed_sequence(out, batch_first, total_length=steps)[0], h_n

        def torch_call(forward, x):
            packed = torch_rnn.pack_padded_sequence(x, env.torch.tensor(lengths), batch_first, enforce_sorted)
            out, h_n = forward(packed)
            return torch_rnn.pad_packed_sequence(out, batch_first, total_length=steps)[0], h_n

        return compare_module(env, tm, jm, [_t(env, x)], calls=(jax_call, torch_call))
    return case


register("nn.LSTM packed[bidirectional,num_layers=2,enforce_sorted=False]", "rnn", sweep=True)(
    _packed_case("LSTM", {"bidirectional": True, "num_layers": 2}, [3, 5, 1, 5], False))
register("nn.LSTM packed[proj_size=2,sorted,batch_first]", "rnn", sweep=True)(
    _packed_case("LSTM", {"proj_size": 2, "batch_first": True}, [4, 4, 2], True, batch_first=True))
register("nn.GRU packed[bidirectional,enforce_sorted=False]", "rnn", sweep=True)(
    _packed_case("GRU", {"bidirectional": True}, [2, 4, 3], False))
register("nn.RNN packed[relu,num_layers=2]", "rnn", sweep=True)(
    _packed_case("RNN", {"nonlinearity": "relu", "num_layers": 2}, [4, 2, 1], True))
