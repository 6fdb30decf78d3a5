"""`jaxdl.nn`: torch.nn's modules as frozen specs with pure ``init(key)`` and ``apply(params, state, x, ...)``."""
from jaxdl.nn import init, utils
from jaxdl.nn._activation import (CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid,
                                  Mish, PReLU, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Softsign, Tanh)
from jaxdl.nn._adaptive_softmax import AdaptiveLogSoftmaxWithLoss
from jaxdl.nn._attention import MultiheadAttention
from jaxdl.nn._batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from jaxdl.nn._bilinear import Bilinear
from jaxdl.nn._bind import Bound, bind
from jaxdl.nn._char_lstm import CharLSTM
from jaxdl.nn._container import ModuleDict, ModuleList, Sequential, init_children, named_children
from jaxdl.nn._conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from jaxdl.nn._ctc_loss import CTCLoss
from jaxdl.nn._distance import CosineSimilarity, PairwiseDistance
from jaxdl.nn._dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from jaxdl.nn._embedding import Embedding
from jaxdl.nn._embedding_bag import EmbeddingBag
from jaxdl.nn._fold import Fold, Unfold
from jaxdl.nn._gpt import GPT, lm_loss
from jaxdl.nn._instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from jaxdl.nn._lazy import (LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d, LazyConv2d, LazyConv3d,
                            LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d, LazyInstanceNorm1d,
                            LazyInstanceNorm2d, LazyInstanceNorm3d, LazyLinear, LazyModule, materialize)
from jaxdl.nn._linear import Flatten, Identity, Linear, Unflatten
from jaxdl.nn._linear_cross_entropy_loss import LinearCrossEntropyLoss
from jaxdl.nn._loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss,
                            HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss, MSELoss,
                            MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, TripletMarginLoss)
from jaxdl.nn._lrn import CrossMapLRN2d, LocalResponseNorm
from jaxdl.nn._margin_loss import (MultiLabelMarginLoss, MultiLabelSoftMarginLoss, NLLLoss2d, SoftMarginLoss,
                                   TripletMarginWithDistanceLoss)
from jaxdl.nn._module import Module, register_module_forward_hook
from jaxdl.nn._normalization import GroupNorm, LayerNorm
from jaxdl.nn._padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                               ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                               ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from jaxdl.nn._parallel import DataParallel, SyncBatchNorm
from jaxdl.nn._parameter_containers import ParameterDict, ParameterList, ParameterSpec
from jaxdl.nn._pixel_shuffle import ChannelShuffle, PixelShuffle, PixelUnshuffle
from jaxdl.nn._pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
                               AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d, AvgPool2d, AvgPool3d,
                               FractionalMaxPool2d, FractionalMaxPool3d, LPPool1d, LPPool2d, LPPool3d, MaxPool1d,
                               MaxPool2d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
from jaxdl.nn._rms_norm import RMSNorm
from jaxdl.nn._rnn import GRU, LSTM, RNN
from jaxdl.nn._rnn_cell import GRUCell, LSTMCell, RNNCell
from jaxdl.nn._shapes import count_parameters, init_shapes
from jaxdl.nn._shrink import Hardshrink, RReLU, Softshrink, Tanhshrink, Threshold
from jaxdl.nn._softmax import LogSoftmax, Softmax2d, Softmin
from jaxdl.nn._summary import summary
from jaxdl.nn._transformer_layers import TransformerDecoderLayer, TransformerEncoderLayer
from jaxdl.nn._transformer_stack import Transformer, TransformerDecoder, TransformerEncoder
from jaxdl.nn._upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d


__all__ = [
    # the protocol, composition, initialisers and summary
    "register_module_forward_hook",
    "Module", "Sequential", "ModuleList", "ModuleDict", "named_children", "init_children", "bind", "Bound",
    "init", "init_shapes", "count_parameters", "summary",
    # layers
    "Linear", "Identity", "Flatten", "Unflatten", "Embedding",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
    "Conv3d", "ConvTranspose3d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm3d",
    "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
    "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d",
    "Dropout", "Dropout1d", "Dropout2d",
    "RMSNorm", "Bilinear", "EmbeddingBag",
    "MultiheadAttention", "GPT", "lm_loss", "CharLSTM",
    "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "utils",
    "TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer",
    # activations
    "ReLU", "LeakyReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax",
    "ELU", "SELU", "CELU", "Softplus", "Softsign", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "LogSigmoid",
    "Mish", "GLU", "PReLU",
    "Threshold", "Hardshrink", "Softshrink", "Tanhshrink", "RReLU", "Softmin", "LogSoftmax", "Softmax2d",
    # padding, and the remaining dropouts, norms and distances
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "Dropout3d", "AlphaDropout", "FeatureAlphaDropout", "LocalResponseNorm", "CrossMapLRN2d",
    "CosineSimilarity", "PairwiseDistance",
    "PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Fold", "Unfold",
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d",
    # lazy modules (shapes from nn.materialize(model, example_input))
    "LazyModule", "materialize", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
    "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
    "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
    # losses (called as criterion(input, target))
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss",
    "KLDivLoss", "HingeEmbeddingLoss", "MultiMarginLoss", "MarginRankingLoss", "CosineEmbeddingLoss",
    "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss", "CTCLoss",
    "SyncBatchNorm", "DataParallel",
    "SoftMarginLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "TripletMarginWithDistanceLoss", "NLLLoss2d",
    "AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss",
    "ParameterList", "ParameterDict", "ParameterSpec",
]
