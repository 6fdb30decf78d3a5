"""torch's own module tests (module_db samples) against jaxdl.nn, through jaxdl.parity's module_db harness.

Every sample of every class in CLASSES must pass: train and eval, float32 and float64. CI runs a stratified part
by one rule, the same as tests/test_op_db.py's (tests/helpers.stratified): each class's list of (mode, sample,
dtype) in the harness's order (its train samples, then its eval samples, each in float32 then float64) and every
CI_STRIDE-th entry of it, the first (train #0 in float32) included; CI_STRIDE is odd, so a long list's picks
alternate between the dtypes. ``pytest --parity-all`` runs them all. A class is added by adding its name to
CLASSES.
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402
from jaxdl.nn import Linear  # noqa: E402
from tests.helpers import KNOWN_MODULE_DB_MISSES, stratified  # noqa: E402

CLASSES = (
    # the linear and recurrent layers
    "Linear", "RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU",
    # issue 19's sequence models
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer", "Transformer",
    "CTCLoss", "RMSNorm", "Bilinear",
    # issue 20: the losses of item 6
    "SoftMarginLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
    # issue 20: padding, activation and norm modules (RReLU, AlphaDropout, FeatureAlphaDropout, Dropout3d,
    # CrossMapLRN2d, CosineSimilarity and PairwiseDistance have no module_db entry: parity's _cases_nn_extra and
    # tests/functional/test_activation_nn20.py cover them)
    "Threshold", "Hardshrink", "Softshrink", "Tanhshrink", "Softmin", "LogSoftmax", "Softmax2d", "LocalResponseNorm",
    *(f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication", "Circular") for d in (1, 2, 3)),
    # issue 20: the 3-D layers and the remaining pools
    "Conv3d", "ConvTranspose3d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "MaxPool3d",
    "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d",
    "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d",
    # issue 20's item 8: torch 2.13's bias= of GroupNorm
    "GroupNorm",
)
CI_STRIDE = 301
# the samples that miss (tests/helpers.KNOWN_MODULE_DB_MISSES, with the reason): strict xfail, so one that starts
# passing fails the run
KNOWN = {row: why for row, why in KNOWN_MODULE_DB_MISSES.items() if row[0][0] in CLASSES}
SAMPLES = stratified({name: [(sid, dtype) for sid in parity.module_db_samples(name) for dtype in parity.DTYPES]
                      for name in CLASSES}, CI_STRIDE,
                     ids=lambda p: f"{p[0][0]}-{'train' if p[0][1] else 'eval'}-{p[0][2]}-{p[1]}")
SAMPLES = [p if tuple(p.values) not in KNOWN else pytest.param(
    *p.values, id=p.id, marks=(*p.marks, pytest.mark.xfail(strict=True, reason=KNOWN[tuple(p.values)])))
    for p in SAMPLES]


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning")  # torch's own, at construction
@pytest.mark.parametrize("sid,dtype", SAMPLES)
def test_module_db_sample(sid, dtype):
    result = parity.run_case(parity.module_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


def test_known_failures_are_samples():
    assert set(KNOWN) <= {tuple(p.values) for p in SAMPLES}, set(KNOWN) - {tuple(p.values) for p in SAMPLES}
    listed = {sid for sid, _ in KNOWN_MODULE_DB_MISSES}  # the rows of classes outside CLASSES: torch's samples too
    assert all(sid in parity.module_db_samples(sid[0]) for sid in listed - {sid for sid, _ in KNOWN}), listed


def test_every_class_has_samples_in_ci():
    in_ci = {p.values[0][0] for p in SAMPLES if not p.marks}
    assert in_ci == set(CLASSES) and len(CLASSES) == len(set(CLASSES)), set(CLASSES) ^ in_ci


def test_harness_fails_a_wrong_counterpart(monkeypatch):
    # jaxdl's Linear with the bias dropped: torch's state_dict no longer loads, the sample fails with the reason
    monkeypatch.setitem(parity._module_db.COUNTERPARTS, "Linear",
                        parity._module_db.Counterpart(Linear, lambda a, kw: (a, {**kw, "bias": False})))
    report = parity.module_db_report(["Linear"], dtypes=("float64",))["Linear"]
    assert report["samples"] == 6 and report["passed"] < 6
    assert any("unexpected key 'bias'" in reason for _, _, reason in report["failed"]), report
