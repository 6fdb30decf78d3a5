"""One tree assertion for every test, with the project's one tolerance table (jaxdl.parity)."""
import jax
import numpy as np

from jaxdl.interop import to_numpy
from jaxdl.parity import ELEMENTWISE_FLOAT32, TOLERANCES

TOL = {np.dtype("float32"): ELEMENTWISE_FLOAT32, np.dtype("float64"): TOLERANCES["float64"]}


def assert_close(actual, expected, dtype=None, **overrides):
    """Trees equal in structure, shape and values within TOL[dtype] (dtype of the expected leaves by default)."""
    a_leaves, a_def = jax.tree_util.tree_flatten(actual, is_leaf=lambda x: hasattr(x, "detach"))
    e_leaves, e_def = jax.tree_util.tree_flatten(expected, is_leaf=lambda x: hasattr(x, "detach"))
    assert a_def == e_def, f"tree structures differ: {a_def} vs {e_def}"
    for a, e in zip(a_leaves, e_leaves):
        a, e = to_numpy(a), to_numpy(e)
        tol = dict(TOL.get(np.dtype(dtype) if dtype else e.dtype, TOL[np.dtype("float32")]))
        tol.update(overrides)
        np.testing.assert_allclose(a.astype(np.float64), e.astype(np.float64), strict=True, **tol)
