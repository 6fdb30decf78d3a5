"""Every registered parity case (the same table `jaxdl parity` prints), in float32 and float64."""
import pytest

from jaxdl import parity

CASES = [(c, d) for c in parity.CASES for d in c.dtypes]


@pytest.mark.parametrize("case,dtype", CASES, ids=[f"{c.name}-{d}" for c, d in CASES])
def test_parity(case, dtype):
    result = parity.run_case(case, dtype)
    assert result.passed, parity.format_table([result])


def test_parity_command_prints_the_table(capsys):
    from jaxdl.cli import main

    assert main(["parity", "--group", "nn", "--dtype", "float32", "-k", "LINEAR"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("nn.Linear")]
    assert rows and all(line.endswith("pass") and "float32" in line for line in rows), out
    assert out.rstrip().endswith(f"{len(rows)} passed, 0 failed")
