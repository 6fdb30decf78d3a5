"""Test-wide JAX settings: no silent rank broadcasting and no implicit dtype promotion (a library op that
mixes dtypes must say which it computes in, as torch's kernels do); a `key` fixture; an `x64` fixture for
float64 parity; every test runs in the repository root, so the shipped paths the tests name (configs/…,
examples/…, as the README's commands do) are the repository's whatever directory pytest was started from."""
from pathlib import Path

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_numpy_dtype_promotion", "strict")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_repository_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture
def x64():
    """Enable float64 for one test (never globally in the library)."""
    with jax.enable_x64(True):
        yield
