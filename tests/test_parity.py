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


def test_parity_command_runs_bf16_mixed(capsys):
    from jaxdl.cli import main

    assert main(["parity", "--dtype", "bf16-mixed", "-k", "F.conv1d"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("F.conv1d")]
    assert len(rows) == 1 and " bf16-mixed " in rows[0] and rows[0].endswith("pass"), rows


def test_bf16_mixed_runs_only_the_listed_cases():
    listed = {c.name for c in parity.CASES if parity.MIXED in c.dtypes}
    assert listed == set(parity._cases_amp.MIXED_CASES)
    assert all(c.dtypes[:2] == parity.DTYPES for c in parity.CASES)  # every case still runs float32 and float64
