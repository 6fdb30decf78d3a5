"""One tree assertion for every test, with the project's one tolerance table (jaxdl.parity); the one rule for
the CI part of torch's sample lists (module_db, op_db); the parity registry's cases by the test file that runs them."""
import contextlib

import jax
import numpy as np
import pytest

from jaxdl.interop import to_numpy
from jaxdl import parity
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


def stratified(samples: dict, stride: int, ids, pinned=frozenset()) -> list:
    """pytest parameters for every sample of every name: ``samples`` maps a name to its parameter tuples in the
    harness's order. CI runs each name's k-th tuple where k % stride == 0 (its first always) and every tuple whose
    first element is in ``pinned`` (a regression sample); the rest are marked parity_all (tests/conftest.py:
    pytest --parity-all runs them). ``ids(params)`` names a tuple."""
    return [pytest.param(*params, id=ids(params),
                         marks=() if k % stride == 0 or params[0] in pinned else pytest.mark.parity_all)
            for name_samples in samples.values() for k, params in enumerate(name_samples)]


# torch's module_db rows (((class, training, sample index), dtype)) that jaxdl misses, with the reason (the float32
# rule by a hair, torch's own rounding unusually lucky). One table for both harnesses that run the samples:
# tests/test_module_db.py (jaxdl's constructor; strict xfail there: a listed row that starts passing fails the run)
# and tests/interop/test_from_torch.py (the module converted by interop.from_torch; same seed, same numbers).
KNOWN_MODULE_DB_MISSES = {
    (("BatchNorm2d", True, 1), "float32"):
        "running_mean (momentum=None: the batch mean) 1.8e-7 from float64 against 1.3e-7 allowed: torch's CPU "
        "kernel sums the batch statistics in double (acc_type<float, false>), so its mean is correctly rounded "
        "(0.3 ulp); channel 0's mean is 1/80 of max|x|, where corrected_mean's float32 second pass (kept for "
        "constant slices, instance_norm) errs by 24 ulps (plain jnp.mean: 1.3); an exact float32 sum (TwoSum "
        "tree) fixes it at about 2.5x the statistics' time, not taken",
}


# The parity registry's groups by the test file that runs them: pytest-xdist (--dist loadfile) runs each file in
# one process, and ~400 CI cases in test_parity.py alone were the run's tail; a group not named here (optim, train,
# amp, a new one) runs in test_parity.py.
PARITY_FILES = {**dict.fromkeys(("functional", "nn"), "test_parity_layers.py"),
                **dict.fromkeys(("conv", "resample", "dims"), "test_parity_conv.py"),
                **dict.fromkeys(("rnn", "transformer", "gpt"), "test_parity_sequence.py")}


def parity_params(file: str) -> list:
    """pytest parameters (case, dtype) of the registered parity cases that the test file ``file`` runs
    (PARITY_FILES), in every dtype each declares; a sweep case outside CI's stratified part (parity.in_ci) is
    marked parity_all."""
    return [pytest.param(c, d, id=f"{c.name}-{d}", marks=() if parity.in_ci(c) else pytest.mark.parity_all)
            for c in parity.CASES if PARITY_FILES.get(c.group, "test_parity.py") == file for d in c.dtypes]


def assert_parity(case, dtype):
    result = parity.run_case(case, dtype, raise_errors=True)  # a case that raises shows its traceback
    assert result.passed, parity.format_table([result])


@contextlib.contextmanager
def one_torch_thread():
    """torch on one thread for the block: small torch work on a busy machine (CI's 4 workers on 2 cores) spends
    ~10× its time in the thread pool's spin-waits (a torch epoch of the README's ResNet: 8 s CPU on 2 threads,
    0.07 s on 1)."""
    import torch  # noqa: PLC0415

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
