"""One tree assertion for every test, with the project's one tolerance table (jaxdl.parity); the one rule for
the CI part of torch's sample lists (module_db, op_db)."""
import jax
import numpy as np
import pytest

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


def stratified(samples: dict, stride: int, ids) -> list:
    """pytest parameters for every sample of every name: ``samples`` maps a name to its parameter tuples in the
    harness's order. CI runs each name's k-th tuple where k % stride == 0 (its first always); the rest are marked
    parity_all (tests/conftest.py: pytest --parity-all runs them). ``ids(params)`` names a tuple."""
    return [pytest.param(*params, id=ids(params), marks=() if k % stride == 0 else pytest.mark.parity_all)
            for name_samples in samples.values() for k, params in enumerate(name_samples)]

