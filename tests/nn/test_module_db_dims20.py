"""torch's module_db samples for issue 20's 3-D layers and remaining pools, against jaxdl.nn.

Every sample of each class in CLASSES must pass (train and eval, float64 and float32). CI runs one sample of
every third class (its first training or first eval sample) in both dtypes; ``pytest --parity-all`` runs all.
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402

CLASSES = ("Conv3d", "ConvTranspose3d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d",
           "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "FractionalMaxPool2d", "FractionalMaxPool3d")
SAMPLES, CI = [], set()
for _i, _name in enumerate(CLASSES):
    _ids = parity.module_db_samples(_name)
    if _i % 3 == 0:
        CI.add(_ids[(_i % 2) * (len(_ids) // 2)])  # train #0, or eval #0 (the ids are train then eval)
    SAMPLES += [(sid, dtype) for sid in _ids for dtype in parity.DTYPES]


@pytest.mark.parametrize("sid,dtype", SAMPLES,
                         ids=[f"{n}-{'train' if t else 'eval'}-{i}-{d}" for (n, t, i), d in SAMPLES])
def test_module_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and sid not in CI:
        pytest.skip("a module_db sample outside CI's stratified part: pytest --parity-all runs it")
    result = parity.run_case(parity.module_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])
