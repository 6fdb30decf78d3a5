"""Every registered parity case (the same table `jaxdl parity` prints), in float32, float64 and bf16-mixed, and
the parity rule's own tests.

The cases run in this file and in test_parity_*.py, by group (tests/helpers.PARITY_FILES), so that pytest-xdist
spreads them over its processes. CI runs every case that is not a sweep and a fixed stratified part of the sweeps
(parity.in_ci); ``pytest --parity-all`` runs them all.
"""
from pathlib import Path

import jax
import numpy as np
import pytest

from jaxdl import parity
from tests.helpers import PARITY_FILES, assert_parity, parity_params


@pytest.mark.parametrize("case,dtype", parity_params(Path(__file__).name))
def test_parity(case, dtype):
    assert_parity(case, dtype)


def test_every_parity_group_runs_in_a_test_file():
    files = {PARITY_FILES.get(c.group, Path(__file__).name) for c in parity.CASES}
    assert all((Path(__file__).parent / f).is_file() for f in files), files
    assert len(files) > 1 and set(PARITY_FILES.values()) <= files


def _product_case(ulps: float, grad_ulps: float = 0.0, dtype=np.float32):
    """x·w (torch rounds it correctly), jaxdl's value and x-gradient in ``dtype`` scaled by (1 + n·eps)."""
    eps = float(np.finfo(dtype).eps)

    def fn(env):
        value, grad = (1 + ulps * eps, 1 + grad_ulps * eps) if env.np_dtype == dtype else (1.0, 1.0)

        @jax.custom_vjp
        def perturbed(x, w):
            return x * w * value

        perturbed.defvjp(lambda x, w: (x * w * value, (x, w)), lambda res, g: (g * res[1] * grad, g * res[0]))
        return parity.compare_function(env, perturbed, lambda x, w: x * w, [env.randn(64, 32), env.randn(64, 32)],
                                       diff_argnums=(0, 1))

    return parity.Case(f"x*w perturbed by {ulps}/{grad_ulps} {np.dtype(dtype).name} ulps", "test", fn)


def test_rounding_rule_passes_torch_exact_results_and_fails_ten_ulps():
    assert parity.run_case(_product_case(0), "float32", raise_errors=True).passed
    off = parity.run_case(_product_case(10), "float32", raise_errors=True)
    assert not off.passed and 5e-7 < off.value_rel < 2e-6, parity.format_table([off])
    assert off.torch_value_rel <= 0.5 * np.finfo(np.float32).eps  # torch rounds x·w correctly
    grad_off = parity.run_case(_product_case(0, grad_ulps=10), "float32", raise_errors=True)
    assert not grad_off.passed and grad_off.value_rel < 1e-7, parity.format_table([grad_off])


def test_float32_is_judged_against_float64_not_by_a_tolerance():
    # a stand-in for a different machine's rounding: a 3-ulp difference passes, because torch's own error
    # in float32 plus the floor covers it; the float64 rule is elementwise and unchanged
    row = parity.run_case(_product_case(3), "float32", raise_errors=True)
    assert row.passed and row.torch_value_rel is not None, parity.format_table([row])
    assert parity.run_case(_product_case(3), "float64", raise_errors=True).passed  # the perturbation is float32-only


def _underflow_case():
    """(x·2⁻¹³⁰)·2¹⁰⁰ on x in [1, 2): the product is a float32 subnormal, which torch keeps and XLA:CPU's runtime
    flushes to zero, so jaxdl's float32 result is 0 against torch's 2⁻³⁰·x (rounded to a subnormal's few bits)."""
    def fn(env):
        def f(x):
            return (x * 2.0 ** -130) * 2.0 ** 100

        return parity.compare_function(env, f, f, [env.uniform(8, low=1.0, high=2.0)], diff_argnums=())

    return parity.Case("x scaled through the subnormals", "test", fn)


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="XLA:CPU's flush of subnormals")
def test_a_failed_float32_row_is_probed_in_xla_cpus_arithmetic():
    # torch's first run keeps the subnormal product: jaxdl's zeros fail against it; the probes run torch with
    # subnormals flushed, as XLA:CPU runs, where torch's error is jaxdl's, and the row passes as probed
    row = parity.run_case(_underflow_case(), "float32", raise_errors=True)
    assert row.passed and row.probed and row.value_rel == 1.0, parity.format_table([row])
    assert "pass (probed)" in parity.format_table([row])
    # a row that fails on a real difference stays failed after its probes (torch rounds x·w correctly in each)
    off = parity.run_case(_product_case(10), "float32", raise_errors=True)
    assert not off.passed and off.probed and off.torch_value_rel <= 0.5 * np.finfo(np.float32).eps


def test_a_failed_float64_gradient_is_probed_by_splitting_its_cotangent():
    # torch's float64 gradient of a nearly saturated attention row is formed by cancellation: computed for its
    # cotangent in two parts, torch's own result moves by ~1e-12, as far as jaxdl's is from it (1.6e-12, above the
    # elementwise 1e-12): the row fails element by element and passes as probed
    import torch

    from jaxdl.parity import _core
    from jaxdl.parity._op_db import op_db_case

    case = op_db_case("nn.functional.multi_head_attention_forward", 36)
    comparisons = _core._comparisons(case, "float64", torch, "cpu")
    assert not _core._judge(case, "float64", comparisons, None)["passed"]
    row = parity.run_case(case, "float64", torch, "cpu", raise_errors=True)
    assert row.passed and row.probed and row.grad_abs > 1e-12, parity.format_table([row])
    # a real float64 difference stays failed: x·w's gradient is a single rounding, its split moves it by an ulp
    off = parity.run_case(_product_case(0, grad_ulps=1e6, dtype=np.float64), "float64", raise_errors=True)
    assert not off.passed and off.probed, parity.format_table([off])


def test_a_probe_moves_each_float32_input_by_one_ulp_the_same_way_on_every_side():
    from jaxdl.parity._core import _nudged

    x = np.array([1.0, -3.5, 0.0, np.inf, -np.inf, np.nan, np.finfo(np.float32).max, 1e-40], np.float32)
    a, b = _nudged(x, 2), _nudged(x.copy(), 2)
    np.testing.assert_array_equal(a, b)  # the same array moves alike wherever it is converted
    finite = np.isfinite(x) & (x != 0)
    up, down = np.nextafter(x[:2], np.float32(np.inf)), np.nextafter(x[:2], np.float32(-np.inf))
    assert np.all((a[:2] == up) | (a[:2] == down))  # one ulp, either way
    assert a[6] in (x[6], np.nextafter(x[6], np.float32(0))) and a[7] != x[7]  # the largest stays finite
    np.testing.assert_array_equal(a[~finite], x[~finite])  # 0, ±inf and NaN stay
    assert any((_nudged(np.ones(64, np.float32), k) > 1).sum() not in (0, 64) for k in (2, 3))  # up and down


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


def test_every_case_runs_float32_and_float64_and_the_mixed_ones_are_declared_at_registration():
    assert all(c.dtypes[:2] == parity.DTYPES for c in parity.CASES)
    mixed = [c.name for c in parity.CASES if parity.MIXED in c.dtypes]
    assert len(mixed) == 45, mixed  # the 43 bf16-mixed rows issue 14 listed, and issue 20's conv3d, conv_transpose3d
    assert {"F.linear", "nn.GPT forward+grad", "train.fit scan vs torch loop"} <= set(mixed)


def test_stratified_ci_part_of_the_sweeps():
    cases = [parity.Case(f"s{i}", "g", None, sweep=True) for i in range(10)] + [parity.Case("core", "g", None)]
    saved = list(parity.CASES)
    parity.CASES[:] = cases
    try:
        assert [c.name for c in cases if parity.in_ci(c)] == ["s0", "s4", "s8", "core"]
    finally:
        parity.CASES[:] = saved
