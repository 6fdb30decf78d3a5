"""scikit-learn's bundled 8×8 digits (no download), scaled and split into train/validation/test."""
from __future__ import annotations

import numpy as np


def _check_fractions(val_fraction, test_fraction):
    for name, v in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
            raise ValueError(f"{name} must be a number in [0, 1); got {v!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must be < 1; got {val_fraction} + {test_fraction}")


def split(x, y, *, val_fraction: float, test_fraction: float, seed: int):
    """Shuffle with ``seed`` and cut into ((x, y) train, (x, y) val, (x, y) test)."""
    _check_fractions(val_fraction, test_fraction)
    order = np.random.default_rng(seed).permutation(len(x))
    n_val, n_test = int(round(val_fraction * len(x))), int(round(test_fraction * len(x)))
    cuts = np.split(order, [len(x) - n_val - n_test, len(x) - n_test])
    return tuple((x[i], y[i]) for i in cuts)


def digits(*, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0):
    """The 1,797 8×8 handwritten digits of ``sklearn.datasets.load_digits``, pixels scaled from [0, 16] to [0, 1].

    Returns ``(train, val, test)``, each ``(x float32 (N, 64), y int32 (N,))``, split at random with ``seed``.
    """
    from sklearn.datasets import load_digits  # noqa: PLC0415  (sklearn is slow to import)

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int32)
    return split(x, y, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)
