"""`import jaxdl.functional as F`: torch.nn.functional's names, arguments and formulas as pure JAX functions.

Three more are jaxdl's own, the formulas jaxdl.nn shares with them: ``attention`` (the one softmax(Q Kᵀ) V behind
scaled_dot_product_attention, nn.MultiheadAttention and nn.GPT) and ``same_padding`` (padding='same'); and
``embedding_renorm``, the weight torch's embedding(max_norm=) leaves behind in place, as a new array.

Every matmul, einsum, dot and convolution here runs through ``jaxdl.matmul`` (``matmul.matmul``, ``matmul.einsum``,
``matmul.dot_general``, ``matmul.conv_general_dilated``), which applies ``jaxdl.set_float32_matmul_precision``
(torch's default "highest"): a new op calls those, never jnp.matmul / jnp.einsum / lax.conv_general_dilated.
"""
from jaxdl.functional._activation import gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, tanh
from jaxdl.functional._attention import attention, scaled_dot_product_attention
from jaxdl.functional._bilinear import bilinear
from jaxdl.functional._conv import conv1d, conv2d, conv_transpose1d, conv_transpose2d, same_padding
from jaxdl.functional._ctc_loss import ctc_loss
from jaxdl.functional._distance import cosine_similarity, normalize, pairwise_distance
from jaxdl.functional._embedding_bag import embedding_bag
from jaxdl.functional._alpha_dropout import alpha_dropout, feature_alpha_dropout
from jaxdl.functional._dropout import dropout, dropout1d, dropout2d, dropout3d
from jaxdl.functional._group_norm import group_norm, instance_norm
from jaxdl.functional._hard_activation import hardsigmoid, hardswish, hardtanh, prelu, relu6
from jaxdl.functional._inplace import celu_, elu_, hardtanh_, leaky_relu_, relu_, rrelu_, selu_, threshold_
from jaxdl.functional._likelihood_loss import gaussian_nll_loss, poisson_nll_loss
from jaxdl.functional._local_response_norm import local_response_norm
from jaxdl.functional._linear import embedding, embedding_renorm, linear, one_hot
from jaxdl.functional._linear_cross_entropy import linear_cross_entropy
from jaxdl.functional._loss import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, nll_loss
from jaxdl.functional._multi_head_attention import multi_head_attention_forward
from jaxdl.functional._multilabel_loss import multilabel_margin_loss, multilabel_soft_margin_loss, soft_margin_loss
from jaxdl.functional._margin_loss import (cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss,
                                           multi_margin_loss, triplet_margin_loss)
from jaxdl.functional._margin_loss import triplet_margin_with_distance_loss
from jaxdl.functional._normalization import batch_norm, layer_norm
from jaxdl.functional._padding import pad
from jaxdl.functional._pdist import pdist
from jaxdl.functional._pooling import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d,
                                       adaptive_max_pool2d, avg_pool1d, avg_pool2d, max_pool1d, max_pool2d)
from jaxdl.functional._conv import conv3d, conv_tbc, conv_transpose3d
from jaxdl.functional._pooling import (adaptive_avg_pool3d, adaptive_max_pool1d_with_indices,
                                       adaptive_max_pool2d_with_indices, adaptive_max_pool3d,
                                       adaptive_max_pool3d_with_indices, avg_pool3d, lp_pool1d, lp_pool2d, lp_pool3d,
                                       max_pool1d_with_indices, max_pool2d_with_indices, max_pool3d,
                                       max_pool3d_with_indices)
from jaxdl.functional._fractional_pool import (fractional_max_pool2d, fractional_max_pool2d_with_indices,
                                               fractional_max_pool3d, fractional_max_pool3d_with_indices)
from jaxdl.functional._unpool import max_unpool1d, max_unpool2d, max_unpool3d
from jaxdl.functional._rms_norm import rms_norm
from jaxdl.functional._regression_loss import huber_loss, kl_div, l1_loss, mse_loss, smooth_l1_loss
from jaxdl.functional._rnn import gru_cell, lstm_cell, rnn, rnn_relu_cell, rnn_tanh_cell
from jaxdl.functional._rrelu import rrelu
from jaxdl.functional._pixel_shuffle import channel_shuffle, native_channel_shuffle, pixel_shuffle, pixel_unshuffle
from jaxdl.functional._fold import fold, unfold
from jaxdl.functional._interpolate import interpolate, upsample, upsample_bilinear, upsample_nearest
from jaxdl.functional._grid_sample import affine_grid, grid_sample
from jaxdl.functional._shrink import hardshrink, softshrink, tanhshrink, threshold
from jaxdl.functional._smooth_activation import celu, elu, glu, logsigmoid, mish, selu, softplus, softsign
from jaxdl.functional._softmin import gumbel_softmax, softmin

__all__ = [
    "relu", "leaky_relu", "gelu", "silu", "sigmoid", "tanh", "softmax", "log_softmax",
    "dropout", "linear", "embedding", "one_hot", "batch_norm", "layer_norm",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
    "scaled_dot_product_attention", "multi_head_attention_forward",
    "rms_norm", "bilinear", "ctc_loss", "embedding_bag",
    "elu", "selu", "celu", "softplus", "softsign", "logsigmoid", "mish", "glu",
    "hardtanh", "relu6", "hardsigmoid", "hardswish", "prelu",
    "hinge_embedding_loss", "multi_margin_loss", "margin_ranking_loss", "cosine_embedding_loss",
    "triplet_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "normalize", "cosine_similarity", "pairwise_distance",
    "group_norm", "instance_norm", "dropout1d", "dropout2d",
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "pad",
    "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
    "conv3d", "conv_transpose3d", "conv_tbc",
    "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "adaptive_max_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d",
    "max_pool1d_with_indices", "max_pool2d_with_indices", "max_pool3d_with_indices",
    "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices",
    "max_unpool1d", "max_unpool2d", "max_unpool3d", "fractional_max_pool2d", "fractional_max_pool3d",
    "fractional_max_pool2d_with_indices", "fractional_max_pool3d_with_indices",
    "rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn",
    "threshold", "hardshrink", "softshrink", "tanhshrink", "rrelu", "softmin", "gumbel_softmax",
    "alpha_dropout", "feature_alpha_dropout", "dropout3d", "local_response_norm", "pdist",
    "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle", "fold", "unfold",
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "grid_sample", "affine_grid",
    "soft_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss", "triplet_margin_with_distance_loss",
    "linear_cross_entropy",
    # torch's in-place spellings: present, and refusing in one line (JAX arrays are immutable)
    "celu_", "elu_", "hardtanh_", "leaky_relu_", "relu_", "rrelu_", "selu_", "threshold_",
    # jaxdl's own: the formulas jaxdl.nn shares with the functions above
    "attention", "same_padding", "embedding_renorm",
]
