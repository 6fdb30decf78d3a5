"""torch's own module tests (module_db samples) against jaxdl, through jaxdl.parity's module_db harness.

CLASSES are the classes whose every sample must pass. CI runs one sample per class (its first training sample, or
for every other class its first eval sample) in both dtypes; ``pytest --parity-all`` runs them all.
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402
from jaxdl.nn import Linear  # noqa: E402

CLASSES = ("Linear", "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU")
# the sequence-model classes of issue 19 measured by the attention helper
SEQUENCE_CLASSES = ("MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
                    "Transformer", "CTCLoss", "RMSNorm", "Bilinear")
# issue 20 item 6's loss modules
LOSS_CLASSES = ("SoftMarginLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss")
SAMPLES, CI = [], set()
for _i, _name in enumerate(CLASSES + SEQUENCE_CLASSES + LOSS_CLASSES):
    _ids = parity.module_db_samples(_name)
    CI.add(_ids[(_i % 2) * (len(_ids) // 2)])  # train #0, or eval #0 (the ids are train then eval)
    SAMPLES += [(sid, dtype) for sid in _ids for dtype in parity.DTYPES]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")  # torch's own, at construction
@pytest.mark.parametrize("sid,dtype", SAMPLES,
                         ids=[f"{n}-{'train' if t else 'eval'}-{i}-{d}" for (n, t, i), d in SAMPLES])
def test_module_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and sid not in CI:
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
