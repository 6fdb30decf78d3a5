"""Every registered parity case (the same table `jaxdl parity` prints), in float32 and float64."""
import pytest

from jaxdl import parity

CASES = [(c, d) for c in parity.CASES for d in c.dtypes]


@pytest.mark.parametrize("case,dtype", CASES, ids=[f"{c.name}-{d}" for c, d in CASES])
def test_parity(case, dtype):
    result = parity.run_case(case, dtype)
    assert result.passed, parity.format_table([result])
