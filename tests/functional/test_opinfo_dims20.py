"""torch's OpInfo samples (op_db) for issue 20's 3-D convolutions and remaining pools, against jaxdl.functional.

Every comparable sample of each op in OPS must pass in float64 and float32. CI runs one sample of every third
op (a different position in each op's list) in both dtypes; ``pytest --parity-all`` runs them all.
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402
from jaxdl.parity import _op_db  # noqa: E402

OPS = ("nn.functional.conv3d", "nn.functional.conv_transpose3d", "nn.functional.max_pool3d",
       "nn.functional.avg_pool3d", "nn.functional.adaptive_avg_pool3d", "nn.functional.adaptive_max_pool3d",
       "nn.functional.fractional_max_pool2d", "nn.functional.fractional_max_pool3d", "nn.functional.max_unpool1d",
       "nn.functional.max_unpool2d", "nn.functional.max_unpool3d", "nn.functional.max_unpool1d.grad",
       "nn.functional.max_unpool2d.grad", "nn.functional.max_unpool3d.grad")
SAMPLES, CI = [], set()
for _i, _name in enumerate(OPS):
    _ids = _op_db.op_db_samples(_name)
    if _i % 3 == 0:
        CI.add(_ids[(7 * _i) % len(_ids)])
    SAMPLES += [(sid, dtype) for sid in _ids for dtype in parity.DTYPES]


@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's note on even kernels
@pytest.mark.parametrize("sid,dtype", SAMPLES, ids=[f"{n.split('.')[-1]}-{i}-{d}" for (n, i), d in SAMPLES])
def test_op_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and sid not in CI:
        pytest.skip("an op_db sample outside CI's stratified part: pytest --parity-all runs it")
    result = parity.run_case(_op_db.op_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


@pytest.mark.parametrize("name", OPS)
def test_error_inputs_are_refused(name):
    report = _op_db.error_inputs_report(name)
    assert not report["accepted"], report
