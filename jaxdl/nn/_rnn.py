"""RNN, LSTM and GRU, as torch.nn's recurrent layers: torch's parameter names, layout, init and return structure.

Parameters per layer l and direction ("" or "_reverse"): weight_ih_l{l} (G·H, input), weight_hh_l{l} (G·H, H_out),
bias_ih_l{l}, bias_hh_l{l} (G·H,), and LSTM's weight_hr_l{l} (proj_size, H) — G = 1 (RNN), 3 (GRU: r, z, n),
4 (LSTM: i, f, g, o); all ~ U(±1/√hidden_size) as torch. The math is jaxdl.functional's ``rnn`` (a lax.scan of the
cells' step functions). Input (T, B, input_size), (B, T, ...) with batch_first, unbatched (T, input_size), or a
jaxdl.nn.utils.rnn.PackedSequence (then the output is one too).
"""
from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn._module import Module, module, uniform
from jaxdl.nn.utils.rnn import PackedSequence


def _check_args(name, hidden_size, num_layers, dropout, proj_size=0):
    if not isinstance(hidden_size, int) or hidden_size <= 0:
        raise ValueError(f"{name}: hidden_size must be an integer greater than zero; got {hidden_size!r}")
    if not isinstance(num_layers, int) or num_layers <= 0:
        raise ValueError(f"{name}: num_layers must be an integer greater than zero; got {num_layers!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of an "
                         f"element being zeroed; got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                      f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      UserWarning, stacklevel=3)
    if proj_size < 0:
        raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections; "
                         f"got {proj_size}")
    if proj_size >= hidden_size:
        raise ValueError(f"{name}: proj_size has to be smaller than hidden_size; got proj_size={proj_size}, "
                         f"hidden_size={hidden_size}")


class _RNNBase(Module):
    """The shared init/apply of RNN, LSTM and GRU (their fields are torch's constructor arguments)."""

    proj_size = 0
    gates = 1  # rows of weight_ih / weight_hh per hidden unit

    @property
    def mode(self) -> str:
        return {"RNN": f"RNN_{getattr(self, 'nonlinearity', 'tanh').upper()}"}.get(type(self).__name__,
                                                                                   type(self).__name__)

    def __post_init__(self):
        name = type(self).__name__
        _check_args(name, self.hidden_size, self.num_layers, self.dropout, self.proj_size)
        if getattr(self, "nonlinearity", "tanh") not in ("tanh", "relu"):
            raise ValueError(f"{name}: Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")

    def _names(self):
        """(layer, suffix) in torch's _flat_weights order."""
        suffixes = ("", "_reverse") if self.bidirectional else ("",)
        return [(layer, f"_l{layer}{s}") for layer in range(self.num_layers) for s in suffixes]

    def init(self, key, dtype=jnp.float32):
        h_out = self.proj_size or self.hidden_size
        gates = self.gates * self.hidden_size
        bound = 1.0 / math.sqrt(self.hidden_size)  # torch's reset_parameters: every weight ~ U(±1/√hidden_size)
        shapes = {}
        for layer, sfx in self._names():
            fan_in = self.input_size if layer == 0 else h_out * (2 if self.bidirectional else 1)
            shapes[f"weight_ih{sfx}"] = (gates, fan_in)
            shapes[f"weight_hh{sfx}"] = (gates, h_out)
            if self.bias:
                shapes[f"bias_ih{sfx}"] = shapes[f"bias_hh{sfx}"] = (gates,)
            if self.proj_size:
                shapes[f"weight_hr{sfx}"] = (self.proj_size, self.hidden_size)
        keys = jax.random.split(key, len(shapes))
        return {n: uniform(k, s, bound, dtype) for k, (n, s) in zip(keys, shapes.items())}, {}

    def _initial(self, hx, batch, dtype):
        name, d = type(self).__name__, self.num_layers * (2 if self.bidirectional else 1)
        h_out = self.proj_size or self.hidden_size
        expected = [(d, batch, h_out)] + ([(d, batch, self.hidden_size)] if self.mode == "LSTM" else [])
        if hx is None:
            states = [jnp.zeros(s, dtype) for s in expected]
        else:
            states = list(hx) if self.mode == "LSTM" else [hx]
            for s, want in zip(states, expected):
                if tuple(jnp.shape(s)) != want:
                    raise ValueError(f"{name}: Expected hidden size {want}, got {tuple(jnp.shape(s))}")
        return tuple(states) if self.mode == "LSTM" else states[0]

    def apply(self, params, state, input, hx=None, *, training=False, key=None):
        """((output, h_n), state) — for LSTM ((output, (h_n, c_n)), state). hx: initial state(s) or None."""
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        x, lengths = (input.data, input.lengths) if packed else (input, None)
        batched = packed or jnp.ndim(x) == 3
        if not packed and jnp.ndim(x) not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {jnp.ndim(x)}D tensor instead")
        if jnp.shape(x)[-1] != self.input_size:
            raise ValueError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                             f"got {jnp.shape(x)[-1]}")
        if not batched:
            x = x[:, None]  # (T, F) -> (T, 1, F)
            for h in (hx if self.mode == "LSTM" else [hx]) if hx is not None else []:
                if jnp.ndim(h) != 2:
                    raise ValueError(f"{name}: For unbatched 2-D input, hx should also be 2-D but got "
                                     f"{jnp.ndim(h)}-D tensor")
            hx = None if hx is None else jax.tree_util.tree_map(lambda h: h[:, None], hx)
        elif self.batch_first and not packed:
            x = jnp.swapaxes(x, 0, 1)  # (B, T, F) -> (T, B, F)
        weights = [{b: params[b + sfx] for b in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")
                    if b + sfx in params} for _, sfx in self._names()]
        out, h_n = F.rnn(self.mode, x, self._initial(hx, x.shape[1], x.dtype), weights, num_layers=self.num_layers,
                       bidirectional=self.bidirectional, dropout=self.dropout, training=training, key=key,
                       lengths=lengths)
        if packed:
            return (input._replace(data=out), h_n), state
        if not batched:
            return (out[:, 0], jax.tree_util.tree_map(lambda h: h[:, 0], h_n)), state
        return ((jnp.swapaxes(out, 0, 1) if self.batch_first else out), h_n), state


@module
class RNN(_RNNBase):
    """Elman RNN, h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (or relu), as torch.nn.RNN."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    nonlinearity: str = "tanh"
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False


@module
class LSTM(_RNNBase):
    """Long short-term memory (gates i, f, g, o; optional projection of h to proj_size), as torch.nn.LSTM."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False
    proj_size: int = 0
    gates = 4


@module
class GRU(_RNNBase):
    """Gated recurrent unit (gates r, z, n; h' = n + z·(h − n)), as torch.nn.GRU."""

    gates = 3
    input_size: int
    hidden_size: int
    num_layers: int = 1
    bias: bool = True
    batch_first: bool = False
    dropout: float = 0.0
    bidirectional: bool = False
