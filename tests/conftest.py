"""Test-wide JAX settings: no silent rank broadcasting and no implicit dtype promotion (a library op that
mixes dtypes must say which it computes in, as torch's kernels do); a `key` fixture; an `x64` fixture for
float64 parity; the `parity_all` marker (skipped unless `pytest --parity-all`); every test runs in the
repository root, so the shipped paths the tests name (configs/…, examples/…, as the README's commands do) are
the repository's whatever directory pytest was started from."""
from pathlib import Path

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def pytest_configure(config):
    config.addinivalue_line("markers", "standard_promotion(reason): run under JAX's standard dtype promotion, for a "
                                       "test that trains with a third-party transform written for it (the reason "
                                       "says which)")
    config.addinivalue_line("markers", "parity_all: outside CI's stratified part of a long parity sweep (torch's "
                                       "samples, the parity registry's sweeps): skipped unless pytest --parity-all")


@pytest.fixture(autouse=True)
def _standard_promotion_where_marked(request):
    """optax.adam (optax's bias correction computes float β ** int32 count) is not written for strict promotion;
    a test that passes it to jaxdl's fit says so with the marker, and everything else stays strict."""
    if request.node.get_closest_marker("standard_promotion") is None:
        yield
        return
    with jax.numpy_dtype_promotion("standard"):
        yield


def pytest_addoption(parser):
    parser.addoption("--parity-all", action="store_true",
                     help="run the tests marked parity_all too: every parity sweep case (CI runs a fixed stratified "
                          "part)")


def pytest_collection_modifyitems(config, items):
    """The one place --parity-all is read: a test (or a parameter set) marked parity_all is skipped without it."""
    if config.getoption("--parity-all"):
        return
    skip = pytest.mark.skip(reason="outside CI's stratified part: pytest --parity-all runs it")
    for item in items:
        if item.get_closest_marker("parity_all") is not None:
            item.add_marker(skip)


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture
def x64():
    """Enable float64 for one test (never globally in the library)."""
    with jax.enable_x64(True):
        yield
