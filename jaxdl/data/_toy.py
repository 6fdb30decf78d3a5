"""2-D toy classification sets from the lectures, generated with numpy from a seed: moons, circles, spirals."""
from __future__ import annotations

import numpy as np


def _check(n, noise):
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an int ≥ 2; got {n!r}")
    if not isinstance(noise, (int, float)) or noise < 0:
        raise ValueError(f"noise must be a number ≥ 0; got {noise!r}")


def two_moons(n: int = 200, *, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (as sklearn.datasets.make_moons). Returns x float32 (n, 2), y int32 (n,)."""
    _check(n, noise)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t = np.concatenate([np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n - n0)])
    y = np.concatenate([np.zeros(n0), np.ones(n - n0)]).astype(np.int32)
    x = np.where(y[:, None] == 0, np.stack([np.cos(t), np.sin(t)], 1), np.stack([1 - np.cos(t), 0.5 - np.sin(t)], 1))
    x = x + noise * rng.standard_normal(x.shape)
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def circles(n: int = 200, *, noise: float = 0.05, factor: float = 0.5, seed: int = 0):
    """A small circle (class 1, radius ``factor``) inside a unit circle (class 0). x (n, 2), y (n,)."""
    _check(n, noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1); got {factor!r}")
    rng = np.random.default_rng(seed)
    y = (np.arange(n) >= n // 2).astype(np.int32)
    t = rng.uniform(0, 2 * np.pi, n)
    r = np.where(y == 1, factor, 1.0)
    x = np.stack([r * np.cos(t), r * np.sin(t)], 1) + noise * rng.standard_normal((n, 2))
    order = rng.permutation(n)
    return x[order].astype(np.float32), y[order]


def spirals(n: int = 300, *, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``classes`` interleaved spiral arms (the CS231n spiral set), ``n // classes`` points each, radius in [0, 1].

    Returns x float32 (n', 2), y int32 (n',) with n' = classes · (n // classes).
    """
    _check(n, noise)
    if not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an int ≥ 2; got {classes!r}")
    rng = np.random.default_rng(seed)
    per = n // classes
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, per)
        t = np.linspace(c * 4.0, (c + 1) * 4.0, per) + noise * rng.standard_normal(per)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], 1))
        ys.append(np.full(per, c, np.int32))
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(x))
    return x[order].astype(np.float32), y[order]
