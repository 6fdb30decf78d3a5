"""benchmarks/gpu_check.py, the prepared GPU run: its --dry-run (tiny sizes, the same code paths) passes on CPU,
so the device minutes go to measuring, not debugging; and its FLOP count is GPT-2 small's."""
import math
import sys
from pathlib import Path

import jax
import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def gpu_check():
    sys.path.insert(0, str(BENCH))
    try:
        import gpu_check
        yield gpu_check
    finally:
        sys.path.remove(str(BENCH))


def test_dry_run_writes_the_tables(gpu_check, tmp_path):
    out = tmp_path / "gpu_check.txt"
    assert gpu_check.main(["--dry-run", "--out", str(out)]) == 0
    text = out.read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    for name in ("torch eager", "torch.compile", "jaxdl scan", "jaxdl loop"):  # the timing table, every variant
        cells = [c.strip() for c in rows[name].split("|")[1:-1]]
        assert float(cells[1]) > 0 and float(cells[3].replace(",", "")) > 0, rows[name]
    assert "loss after the first block" in text
    parity = [line for line in text.splitlines() if line.startswith(("F.linear", "nn.GPT", "train.fit"))]
    dtypes = {d for line in parity for d in ("float32", "float64", "bf16-mixed") if f" {d} " in line}
    assert dtypes == {"float32", "float64", "bf16-mixed"}, parity
    assert all(line.endswith("pass") for line in parity), parity
    assert "passed, 0 failed" in text and "all passed" in text


def test_gpt2_small_parameter_count_and_flops(gpu_check):
    from jaxdl import nn

    cfg = gpu_check.GPT2_SMALL
    shapes = jax.eval_shape(lambda: nn.GPT.from_config(cfg).init(jax.random.key(0))[0])
    counted = sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(shapes))
    assert counted == gpu_check.n_params(cfg) == 124_439_808  # transformers' GPT2LMHeadModel("gpt2") count
    assert gpu_check.flops_per_token(cfg) == 6 * 124_439_808 + 12 * 12 * 1024 * 768
