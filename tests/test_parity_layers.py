"""The registered parity cases of the groups tests/helpers.PARITY_FILES runs in this file (test_parity.py says
how; pytest-xdist runs each file in one process)."""
from pathlib import Path

import pytest

from tests.helpers import assert_parity, parity_params


@pytest.mark.parametrize("case,dtype", parity_params(Path(__file__).name))
def test_parity(case, dtype):
    assert_parity(case, dtype)
