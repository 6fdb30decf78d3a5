"""torch's own module tests (module_db samples) against jaxdl, through jaxdl.parity's module_db harness.

CLASSES are the classes whose every sample must pass. CI runs a stratified part (every ``CI_STRIDE``-th sample of
each class and mode, sample 0 included); ``pytest --parity-all`` runs them all.
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402
from jaxdl.nn import Linear  # noqa: E402

CLASSES = ("Linear",)
CI_STRIDE = 16
SAMPLES = [(sid, dtype) for name in CLASSES for sid in parity.module_db_samples(name) for dtype in parity.DTYPES]


@pytest.mark.parametrize("sid,dtype", SAMPLES,
                         ids=[f"{n}-{'train' if t else 'eval'}-{i}-{d}" for (n, t, i), d in SAMPLES])
def test_module_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and sid[2] % CI_STRIDE:
        pytest.skip("a module_db sample outside CI's stratified part: pytest --parity-all runs it")
    result = parity.run_case(parity.module_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


def test_harness_fails_a_wrong_counterpart(monkeypatch):
    # jaxdl's Linear with the bias dropped: torch's state_dict no longer loads, the sample fails with the reason
    monkeypatch.setitem(parity._module_db.COUNTERPARTS, "Linear",
                        parity._module_db.Counterpart(Linear, lambda a, kw: (a, {**kw, "bias": False})))
    report = parity.module_db_report(["Linear"], dtypes=("float64",))["Linear"]
    assert report["samples"] == 6 and report["passed"] < 6
    assert any("unexpected key 'bias'" in reason for _, _, reason in report["failed"]), report
