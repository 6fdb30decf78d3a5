"""Tiny datasets and models shared by the train tests (kept small: compile time dominates)."""
import numpy as np

from jaxdl import nn


def blobs(n=96, d=6, classes=3, seed=0):
    """x (n, d) float32 and integer labels in [0, classes) that depend on x (learnable)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (np.argmax(x[:, :classes], axis=1)).astype(np.int32)
    return x, y


def mlp(d=6, hidden=8, classes=3, p=0.1):
    # No bias before BatchNorm: its gradient is 0 up to rounding, and Adam would blow that rounding noise
    # (which depends on reduction order: vmap, sharding) up into full-size steps.
    return nn.Sequential(nn.Linear(d, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(p),
                         nn.Linear(hidden, classes))
