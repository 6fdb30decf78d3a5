"""RNNCell, LSTMCell and GRUCell, as torch.nn's: one step of jaxdl.functional's cells with torch's parameters
(weight_ih (G·H, input_size), weight_hh (G·H, H), bias_ih, bias_hh (G·H,), all ~ U(±1/√hidden_size))."""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxdl import functional as F
from jaxdl.nn._module import Module, module, uniform


class _CellBase(Module):
    gates = 1

    def __post_init__(self):
        name = type(self).__name__
        if not isinstance(self.hidden_size, int) or self.hidden_size <= 0:
            raise ValueError(f"{name}: hidden_size must be an integer greater than zero; got {self.hidden_size!r}")
        if getattr(self, "nonlinearity", "tanh") not in ("tanh", "relu"):
            raise ValueError(f"{name}: Unknown nonlinearity: {self.nonlinearity}; select 'tanh' or 'relu'")

    def init(self, key, dtype=jnp.float32):
        g = self.gates * self.hidden_size
        shapes = {"weight_ih": (g, self.input_size), "weight_hh": (g, self.hidden_size)}
        if self.bias:
            shapes.update(bias_ih=(g,), bias_hh=(g,))
        bound = 1.0 / math.sqrt(self.hidden_size)  # torch's reset_parameters
        keys = jax.random.split(key, len(shapes))
        return {n: uniform(k, s, bound, dtype) for k, (n, s) in zip(keys, shapes.items())}, {}

    def _hidden(self, input, hx):
        """hx, or zeros (B, H) / (H,) of the input's batch shape and dtype, as torch's default."""
        if hx is None:
            zeros = jnp.zeros(jnp.shape(input)[:-1] + (self.hidden_size,), jnp.result_type(input))
            return (zeros, zeros) if self.gates == 4 else zeros
        return tuple(hx) if self.gates == 4 else hx

    def _step(self):
        """The jaxdl.functional cell this module applies."""
        raise NotImplementedError

    def apply(self, params, state, input, hx=None, *, training=False, key=None):
        """One step: (h', state), for LSTMCell ((h', c'), state); hx None is zeros (torch's default)."""
        return self._step()(input, self._hidden(input, hx), params["weight_ih"], params["weight_hh"],
                            params.get("bias_ih"), params.get("bias_hh")), state


@module
class RNNCell(_CellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu), as torch.nn.RNNCell. apply -> (h', state)."""

    input_size: int
    hidden_size: int
    bias: bool = True
    nonlinearity: str = "tanh"

    def _step(self):
        return F.rnn_tanh_cell if self.nonlinearity == "tanh" else F.rnn_relu_cell


@module
class LSTMCell(_CellBase):
    """One LSTM step (gates i, f, g, o), as torch.nn.LSTMCell. apply(params, state, x, (h, c)) -> ((h', c'), state)."""

    input_size: int
    hidden_size: int
    bias: bool = True
    gates = 4

    def _step(self):
        return F.lstm_cell


@module
class GRUCell(_CellBase):
    """One GRU step (gates r, z, n; h' = n + z·(h − n)), as torch.nn.GRUCell. apply -> (h', state)."""

    input_size: int
    hidden_size: int
    bias: bool = True
    gates = 3

    def _step(self):
        return F.gru_cell
