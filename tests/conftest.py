"""Test-wide JAX settings: no silent rank broadcasting; a `key` fixture; an `x64` fixture for float64 parity."""
import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_addoption(parser):
    parser.addoption("--parity-all", action="store_true",
                     help="run every parity sweep case (CI runs a fixed stratified part: jaxdl.parity.in_ci)")


@pytest.fixture
def key():
    return jax.random.key(0)


@pytest.fixture
def x64():
    """Enable float64 for one test (never globally in the library)."""
    with jax.enable_x64(True):
        yield
