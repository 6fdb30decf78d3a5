"""`import jaxdl.functional as F`: torch.nn.functional's names, arguments and formulas as pure JAX functions."""
from jaxdl.functional._activation import gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, tanh
from jaxdl.functional._dropout import dropout
from jaxdl.functional._linear import embedding, linear, one_hot
from jaxdl.functional._normalization import batch_norm, layer_norm

__all__ = [
    "relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax",
    "dropout", "linear", "embedding", "one_hot", "batch_norm", "layer_norm",
]
