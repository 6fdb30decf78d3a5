"""The CNN of ``model.kind = "cnn"``: the MLP recipe's data, fit and accuracy (``_mlp``), with this network.

The data stay flat (N, in_channels·side²) features, as every [data] kind gives them (the digits: (N, 64)); the
network's first layer, nn.Unflatten(1, (in_channels, side, side)), makes them NCHW images. So the data builder,
the .npz reader and ``jaxdl compare`` need nothing new for images.
"""
from __future__ import annotations

import math

from jaxdl.config import CNNConfig, ConfigError


def image_side(m: CNNConfig, in_features: int) -> int:
    """The side of the square images that ``in_features`` flat features hold, or ConfigError naming the keys."""
    side = math.isqrt(in_features // m.in_channels)
    if m.in_channels * side * side != in_features:
        raise ConfigError(f"model.kind = 'cnn' needs square images of model.in_channels = {m.in_channels} "
                          f"channel(s): the data have {in_features} features per sample, not in_channels·side² "
                          f"(e.g. the digits: 64 = 1·8²)")
    if side >> len(m.channels) == 0:
        raise ConfigError(f"model.channels = {list(m.channels)}: {len(m.channels)} blocks halve the {side}×{side} "
                          f"images (MaxPool2d(2) each) to nothing; expected at most {side.bit_length() - 1} channels")
    return side


def build_cnn(m: CNNConfig, in_features: int):
    """Unflatten(1, (C, side, side)) → [Conv2d(c_in, c, k, padding=k // 2) → (BatchNorm2d(c)) → ReLU →
    MaxPool2d(2)] × len(channels) → Flatten → (Dropout) → Linear(channels[-1]·(side // 2^n)², out_features)."""
    from jaxdl import nn  # noqa: PLC0415

    side = image_side(m, in_features)
    layers, c_in = [nn.Unflatten(1, (m.in_channels, side, side))], m.in_channels
    for c in m.channels:
        layers.append(nn.Conv2d(c_in, c, m.kernel_size, padding=m.kernel_size // 2))
        if m.batchnorm:
            layers.append(nn.BatchNorm2d(c))
        layers += [nn.ReLU(), nn.MaxPool2d(2)]
        c_in = c
    layers.append(nn.Flatten())
    if m.dropout > 0:
        layers.append(nn.Dropout(m.dropout))
    layers.append(nn.Linear(c_in * (side >> len(m.channels)) ** 2, m.out_features))
    if m.sigmoid_output:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)
