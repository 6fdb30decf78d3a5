"""Recurrent cells and layers as torch computes them: the cells' step functions, scanned by ``rnn``.

One step (torch's gate order; aten/src/ATen/native/RNN.cpp), with ``gi = x W_ihᵀ + b_ih`` and ``gh = h W_hhᵀ + b_hh``:
  RNN:  h' = tanh(gi + gh)  (or relu)
  LSTM: i, f, g, o = chunks of gi + gh; c' = σ(f)·c + σ(i)·tanh(g); h' = σ(o)·tanh(c') (then h' W_hrᵀ if projected)
  GRU:  r, z, n_i = chunks of gi; r_h, z_h, n_h of gh; r = σ(r_i + r_h); z = σ(z_i + z_h);
        n = tanh(n_i + r·n_h); h' = n + z·(h − n)
The layers compute ``gi`` for every time step in one matmul before the scan (torch's pre-computed input), and each
step function takes ``gi`` as given, so a cell is ``step(linear(x, W_ih, b_ih), ...)`` and the math lives once.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl import amp
from jaxdl.checks import promote
from jaxdl.functional._activation import relu, sigmoid, tanh
from jaxdl.functional._dropout import dropout as _dropout
from jaxdl.functional._linear import _add_bias, _matmul_transposed, linear

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


def _rnn_step(activation):
    def step(gi, h, w_hh, b_hh=None, w_hr=None):
        h = activation(gi + linear(h, w_hh, b_hh))  # (B, H)
        return h, h
    return step


def _mul(a, b):
    return jnp.multiply(*promote(a, b))


def _add(a, b):
    return jnp.add(*promote(a, b))


def _lstm_update(gates, c):
    """(h', c') from the summed gates (B, 4H) i, f, g, o; mixed dtypes promote as torch's ops (under autocast a
    bfloat16 gate meets a float32 cell state: torch's CPU result is float32)."""
    i, f, g, o = jnp.split(gates, 4, axis=-1)
    c = _add(_mul(sigmoid(f), c), sigmoid(i) * tanh(g))
    return _mul(sigmoid(o), tanh(c)), c


def _gru_update(gi, gh, h):
    """h' = n + z·(h − n) from the input and hidden gates (B, 3H) r, z, n (mixed dtypes promote as torch's)."""
    ri, zi, ni = jnp.split(gi, 3, axis=-1)
    rh, zh, nh = jnp.split(gh, 3, axis=-1)
    r, z = sigmoid(ri + rh), sigmoid(zi + zh)
    n = tanh(ni + r * nh)
    return _add(n, _mul(z, _add(h, -n)))


def _lstm_step(gi, hc, w_hh, b_hh=None, w_hr=None):
    h, c = hc
    h, c = _lstm_update(gi + linear(h, w_hh, b_hh), c)  # gates (B, 4H): i, f, g, o
    if w_hr is not None:
        h = linear(h, w_hr)  # (B, H) -> (B, proj_size)
    return (h, c), h


def _gru_step(gi, h, w_hh, b_hh=None, w_hr=None):
    h = _gru_update(gi, linear(h, w_hh, b_hh), h)  # gh (B, 3H): r, z, n
    return h, h


STEPS = {"RNN_TANH": _rnn_step(tanh), "RNN_RELU": _rnn_step(relu), "LSTM": _lstm_step, "GRU": _gru_step}


def _check_cell(name, input, hx, w_ih):
    if jnp.ndim(input) not in (1, 2):
        raise ValueError(f"{name}: Expected input to be 1D or 2D, got {jnp.ndim(input)}D instead")
    for h in (hx if isinstance(hx, (tuple, list)) else (hx,)):
        if jnp.ndim(h) != jnp.ndim(input):
            raise ValueError(f"{name}: Expected hidden to be {jnp.ndim(input)}D like the input, got "
                             f"{jnp.ndim(h)}D instead")
    if jnp.shape(input)[-1] != jnp.shape(w_ih)[1]:
        raise ValueError(f"{name}: input has inconsistent input_size: got {jnp.shape(input)[-1]} expected "
                         f"{jnp.shape(w_ih)[1]}")


def _fused(mode, input, hx, w_ih, w_hh, b_ih, b_hh, low):
    """torch's CUDA cell kernels (_thnn_fused_lstm_cell / _gru_cell): the two gate products in the low dtype,
    biases and gate math in float32, h' (and c') rounded once to ``low``."""
    f32 = lambda a: None if a is None else a.astype(jnp.float32)  # noqa: E731
    h = hx[0] if mode == "LSTM" else hx
    gi, gh = f32(linear(input, w_ih)), f32(linear(h, w_hh))
    add = lambda g, b: g if b is None else g + jnp.broadcast_to(f32(b), g.shape)  # noqa: E731
    gi, gh = add(gi, b_ih), add(gh, b_hh)
    if mode == "LSTM":
        return tuple(a.astype(low) for a in _lstm_update(gi + gh, f32(hx[1])))
    return _gru_update(gi, gh, f32(h)).astype(low)


def _cell(name, mode, input, hx, w_ih, w_hh, b_ih, b_hh):
    """One step of torch.<name> under the active autocast policy. torch's CUDA autocast list names the cells:
    every floating input is cast to the low dtype (LSTM and GRU then run the fused kernel, ``_fused``); its CPU
    list does not, and the cell's linears are lowered one by one (jaxdl.amp: LOWER_BY_DEVICE)."""
    _check_cell(name, input, hx, w_ih)
    hx = tuple(hx) if mode == "LSTM" else hx
    low, (input, w_ih, w_hh) = amp.lowered(name, input, w_ih, w_hh)
    if low is not None:
        hx = tuple(amp.cast(name, *hx)) if mode == "LSTM" else amp.cast(name, hx)[0]
        b_ih, b_hh = amp.cast(name, b_ih, b_hh)
        if mode in ("LSTM", "GRU"):
            return _fused(mode, input, hx, w_ih, w_hh, b_ih, b_hh, low)
    return STEPS[mode](linear(input, w_ih, b_ih), hx, w_hh, b_hh)[0]


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), as torch.rnn_tanh_cell (nn.RNNCell's step).

    Args:
      input: (B, input_size) or (input_size,). hx: (B, H) or (H,). w_ih: (H, input_size). w_hh: (H, H).
    """
    return _cell("rnn_tanh_cell", "RNN_TANH", input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), as torch.rnn_relu_cell (nn.RNNCell(nonlinearity='relu'))."""
    return _cell("rnn_relu_cell", "RNN_RELU", input, hx, w_ih, w_hh, b_ih, b_hh)


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') of one LSTM step (module docstring), as torch.lstm_cell (nn.LSTMCell's step).

    Args:
      input: (B, input_size) or (input_size,). hx: (h, c), each (B, H) or (H,). w_ih: (4H, input_size), rows
        i, f, g, o as torch. w_hh: (4H, H).
    """
    return _cell("lstm_cell", "LSTM", input, hx, w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' of one GRU step (module docstring: torch's n + z·(h − n)), as torch.gru_cell (nn.GRUCell's step).

    Args:
      input: (B, input_size) or (input_size,). hx: (B, H) or (H,). w_ih: (3H, input_size), rows r, z, n.
    """
    return _cell("gru_cell", "GRU", input, hx, w_ih, w_hh, b_ih, b_hh)


def _reversal(lengths, steps):
    """(T, B) time indices reversing each sequence within its length (an involution); positions past a length stay."""
    t = jnp.arange(steps)[:, None]  # (T, 1)
    return jnp.where(t < lengths[None, :], lengths[None, :] - 1 - t, t)


def _time_gather(x, index):
    return jnp.take_along_axis(x, index.reshape(index.shape + (1,) * (x.ndim - 2)), axis=0)


def _direction(mode, x, carry, w, reverse, lengths):
    """One direction of one layer over time-major ``x`` (T, B, F): (outputs (T, B, H_out), final carry).

    With ``lengths`` (B,), steps past a sequence's length leave its carry unchanged and output zeros, and the
    reverse direction runs each sequence from its own last valid step: torch's result on a PackedSequence.
    """
    step = STEPS[mode]
    gi = linear(x, w["weight_ih"], w.get("bias_ih"))  # (T, B, G·H): every step's input projection in one matmul
    args = (w["weight_hh"], w.get("bias_hh"), w.get("weight_hr"))
    # the carry in the dtype a step gives it (under autocast a float32 h0 of RNN_TANH/RELU comes back bfloat16:
    # the linear it meets first casts it anyway, so casting it before is the same)
    carry = jax.tree.map(lambda c, s: c.astype(s.dtype), carry, jax.eval_shape(step, gi[0], carry, *args)[0])
    if lengths is None:
        gi = gi[::-1] if reverse else gi
        carry, ys = lax.scan(lambda c, g: step(g, c, *args), carry, gi)
        return (ys[::-1] if reverse else ys), carry
    steps = x.shape[0]
    valid = jnp.arange(steps)[:, None] < lengths[None, :]  # (T, B)
    order = _reversal(lengths, steps) if reverse else None
    gi = _time_gather(gi, order) if reverse else gi

    def body(c, gv):
        g, v = gv
        new, y = step(g, c, *args)
        keep = lambda n, o: jnp.where(v[:, None], n, o)  # noqa: E731  (B, H): frozen past the length
        return jax.tree_util.tree_map(keep, new, c), jnp.where(v[:, None], y, jnp.zeros_like(y))

    carry, ys = lax.scan(body, carry, (gi, valid))
    return (_time_gather(ys, order) if reverse else ys), carry


# torch's CPU nn.LSTM runs each layer and direction as one oneDNN op, mkldnn_rnn_layer, which is on torch's CPU
# lower-precision autocast list (jaxdl.amp.LOWER_BY_DEVICE["cpu"]); torch takes that path for an LSTM without
# projections on a batch that is not packed
ONEDNN_LSTM = "mkldnn_rnn_layer"


def _onednn_lstm(mode, x, weights, lengths) -> bool:
    """Whether torch's CPU autocast runs this LSTM as its oneDNN layers: bfloat16 only (torch's float16 oneDNN
    LSTM needs autograd off, which jaxdl cannot see: under float16 the layer runs as without autocast, torch's
    result in training)."""
    return (mode == "LSTM" and lengths is None and "weight_hr" not in weights[0]
            and amp.lowered(ONEDNN_LSTM, x)[0] == jnp.bfloat16)


def _onednn_direction(x, carry, w, reverse):
    """One direction of one layer as torch's oneDNN LSTM under bfloat16 autocast: input, weights, biases and
    states cast to bfloat16; the gates x W_ihᵀ + h W_hhᵀ summed in float32, plus b_ih + b_hh (summed in bfloat16);
    gate math and c in float32; h rounded to bfloat16 at every step (the output and the next product's operand),
    c_n at the end. oneDNN's own exp/tanh approximations are not reproduced: equal to torch to bfloat16 rounding."""
    x, w_ih, w_hh, b_ih, b_hh = amp.cast(ONEDNN_LSTM, x, w["weight_ih"], w["weight_hh"], w.get("bias_ih"),
                                         w.get("bias_hh"))
    low = x.dtype
    (h, c), f32 = amp.cast(ONEDNN_LSTM, *carry), jnp.float32
    gi = amp.accumulate(_matmul_transposed, x, w_ih)  # (T, B, 4H) float32
    bias = None if b_ih is None else _add(b_ih, b_hh).astype(f32)

    def step(hc, g):
        h, c = hc
        g = g + amp.accumulate(_matmul_transposed, h, w_hh)
        h, c = _lstm_update(g if bias is None else _add_bias(g, bias), c)
        return (h.astype(low), c), h.astype(low)

    (h, c), ys = lax.scan(step, (h, c.astype(f32)), gi[::-1] if reverse else gi)
    return (ys[::-1] if reverse else ys), (h, c.astype(low))


def rnn(mode: str, input, hx, weights, *, num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0,
        training: bool = False, key=None, lengths=None):
    """A multi-layer (bidirectional) recurrent layer over time-major input, as torch's _VF.rnn_tanh / lstm / gru.

    Each layer's output (both directions concatenated) is the next layer's input, with dropout between layers
    when training. Under jaxdl.amp.autocast("cpu", bfloat16) an LSTM without projections on an unpacked batch
    runs as torch's oneDNN layers (``_onednn_direction``: output and states bfloat16); otherwise each step's
    linears follow the autocast lists (RNN: bfloat16 output; GRU and packed LSTM: float32, as torch). Args:
      mode: "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU".
      input: (T, B, input_size). hx: (L·D, B, H_out), for LSTM (h0 (L·D, B, H_out), c0 (L·D, B, H)).
      weights: one dict per (layer, direction), layer-major: weight_ih, weight_hh and optionally bias_ih,
        bias_hh, weight_hr (LSTM's projection).
      lengths: (B,) valid steps per sequence (a packed batch), or None.
    Returns:
      (output (T, B, D·H_out), h_n) — for LSTM h_n is (h_n, c_n).
    """
    directions = 2 if bidirectional else 1
    keys = list(jax.random.split(key, num_layers)) if key is not None else [None] * num_layers
    onednn = _onednn_lstm(mode, input, weights, lengths)
    x, finals = input, []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            i = layer * directions + d
            carry = (hx[0][i], hx[1][i]) if mode == "LSTM" else hx[i]
            if onednn:
                y, carry = _onednn_direction(x, carry, weights[i], d == 1)
            else:
                y, carry = _direction(mode, x, carry, weights[i], d == 1, lengths)
            outs.append(y)
            finals.append(carry)
        x = jnp.concatenate(outs, axis=-1) if directions == 2 else outs[0]  # (T, B, D·H_out)
        if layer < num_layers - 1 and training and dropout > 0:
            x = _dropout(x, dropout, True, key=keys[layer])
    if mode == "LSTM":
        return x, (jnp.stack([h for h, _ in finals]), jnp.stack([c for _, c in finals]))
    return x, jnp.stack(finals)
