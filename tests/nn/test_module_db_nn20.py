"""torch's own module tests (module_db samples) for issue 20's padding, activation and norm modules, through
jaxdl.parity's module_db harness: every sample, train and eval, float64 and float32, must pass.

CI runs every 8th (class, mode, sample, dtype) of the list; ``pytest --parity-all`` runs them all.
(RReLU, AlphaDropout, FeatureAlphaDropout, Dropout3d, CrossMapLRN2d, CosineSimilarity and PairwiseDistance
have no module_db entry: parity's _cases_nn_extra and tests/functional/test_activation_nn20.py cover them.)
"""
import pytest

pytest.importorskip("torch")

from jaxdl import parity  # noqa: E402

CLASSES = ("Threshold", "Hardshrink", "Softshrink", "Tanhshrink", "Softmin", "LogSoftmax", "Softmax2d",
           "LocalResponseNorm") + tuple(f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                                                      "Circular") for d in (1, 2, 3))
CI_STRIDE = 8
SAMPLES = [(sid, dtype) for name in CLASSES for sid in parity.module_db_samples(name) for dtype in parity.DTYPES]


@pytest.mark.parametrize("sid,dtype", SAMPLES,
                         ids=[f"{n}-{'train' if t else 'eval'}-{i}-{d}" for (n, t, i), d in SAMPLES])
def test_module_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and SAMPLES.index((sid, dtype)) % CI_STRIDE:
        pytest.skip("a module_db sample outside CI's stratified part: pytest --parity-all runs it")
    result = parity.run_case(parity.module_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])
