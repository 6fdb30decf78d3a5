"""`jaxdl.nn`: torch.nn's modules as frozen specs with pure ``init(key)`` and ``apply(params, state, x, ...)``."""
from jaxdl.nn._activation import GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softmax, Tanh
from jaxdl.nn._activation import (CELU, ELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LogSigmoid, Mish, PReLU,
                                  ReLU6, Softplus, Softsign)
from jaxdl.nn._attention import MultiheadAttention
from jaxdl.nn._batchnorm import BatchNorm1d
from jaxdl.nn._batchnorm import BatchNorm2d
from jaxdl.nn._container import Sequential
from jaxdl.nn._conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from jaxdl.nn._dropout import Dropout
from jaxdl.nn._dropout import Dropout1d, Dropout2d
from jaxdl.nn._embedding import Embedding
from jaxdl.nn._gpt import GPT, count_parameters, lm_loss
from jaxdl.nn._linear import Flatten, Identity, Linear
from jaxdl.nn._loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss,
                            HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
                            MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, TripletMarginLoss)
from jaxdl.nn._module import Module
from jaxdl.nn._normalization import LayerNorm
from jaxdl.nn._normalization import GroupNorm
from jaxdl.nn._instancenorm import InstanceNorm2d
from jaxdl.nn._linear import Flatten, Identity, Linear, Unflatten
from jaxdl.nn._module import Module
from jaxdl.nn._normalization import LayerNorm
from jaxdl.nn._pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, AvgPool1d,
                               AvgPool2d, MaxPool1d, MaxPool2d)

__all__ = [
    "Module", "Linear", "Identity", "Flatten", "ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax",
    "Dropout", "BatchNorm1d", "LayerNorm", "Embedding", "Sequential",
    "MultiheadAttention", "GPT", "count_parameters", "lm_loss",
    "ELU", "SELU", "CELU", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid",
    "Mish", "GLU", "PReLU",
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
    "KLDivLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MarginRankingLoss", "CosineEmbeddingLoss",
    "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "BatchNorm2d", "GroupNorm", "InstanceNorm2d", "Dropout1d", "Dropout2d",
    "Unflatten", "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
    "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
]
