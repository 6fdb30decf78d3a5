"""torch's own OpInfo samples (op_db) against jaxdl.functional, through jaxdl.parity's op_db runner.

OPS are the ops whose every comparable sample must pass. CI runs a stratified part (every ``CI_STRIDE``-th
sample of each op, sample 0 included); ``pytest --parity-all`` runs them all.
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402
from jaxdl.parity import _op_db  # noqa: E402

# nn.functional.multi_head_attention_forward is not here yet: 173/192 rows pass (129 before attention's softmax took
# torch's backward, which gives torch's exact zeros where rows saturate); 12 float32 rows miss on q/k gradients made
# only of saturated rows' tiny weights (~1e-26; jaxdl's relative error there 5-7x torch's, cause not found) and 7
# float64 rows by the elementwise rule on near-zero gradient elements (|error| ~2e-12 against leaf scales of ~1)
OPS = ("nn.functional.rms_norm", "nn.functional.bilinear", "nn.functional.embedding_bag", "nn.functional.ctc_loss")
CI_STRIDE = 32
SAMPLES = [(sid, dtype) for name in OPS for sid in _op_db.op_db_samples(name) for dtype in parity.DTYPES]


@pytest.mark.parametrize("sid,dtype", SAMPLES, ids=[f"{n.split('.')[-1]}-{i}-{d}" for (n, i), d in SAMPLES])
def test_op_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and sid[1] % CI_STRIDE:
        pytest.skip("an op_db sample outside CI's stratified part: pytest --parity-all runs it")
    result = parity.run_case(_op_db.op_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


def test_runner_fails_a_wrong_counterpart(monkeypatch):
    # rms_norm with its eps ignored: torch's samples with eps=0.5 tell the difference
    monkeypatch.setitem(_op_db.OP_COUNTERPARTS, "nn.functional.rms_norm", _op_db.OpCounterpart(
        lambda x, shape, weight=None, eps=None: parity._op_db.F.rms_norm(x, shape, weight)))
    report = _op_db.op_db_report(["nn.functional.rms_norm"], dtypes=("float64",))["nn.functional.rms_norm"]
    assert report["samples"] == 6 and report["passed"] < 6, report


def test_random_samples_are_left_out_with_the_reason():
    left = _op_db.left_out_samples("nn.functional.multi_head_attention_forward")
    assert left and all("dropout" in reason for _, reason in left)
