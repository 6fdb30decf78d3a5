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
# issue 20's item 2, resampling and rearranging
OPS += ("nn.functional.pixel_shuffle", "nn.functional.pixel_unshuffle", "nn.functional.channel_shuffle",
        "nn.functional.unfold")
# issue 20's item 2, resampling and rearranging (every interpolate variant)
OPS += ("nn.functional.pixel_shuffle", "nn.functional.pixel_unshuffle", "nn.functional.channel_shuffle",
        "nn.functional.unfold", "nn.functional.upsample_nearest", "nn.functional.upsample_bilinear",
        "_upsample_bilinear2d_aa", *(f"nn.functional.interpolate.{m}" for m in (
            "nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")))
OPS += ("nn.functional.grid_sample", "grid_sampler_2d", "grid_sampler_3d")
CI_STRIDE = 32
SAMPLES = [(sid, dtype) for name in OPS for sid in _op_db.op_db_samples(name) for dtype in parity.DTYPES]


@pytest.mark.filterwarnings("ignore:`nn.functional.upsample")  # torch's (and jaxdl's) deprecation warning
@pytest.mark.parametrize("sid,dtype", SAMPLES, ids=[f"{n.split('.')[-1]}-{i}-{d}" for (n, i), d in SAMPLES])
def test_op_db_sample(sid, dtype, request):
    if not request.config.getoption("--parity-all") and sid[1] % CI_STRIDE:
        pytest.skip("an op_db sample outside CI's stratified part: pytest --parity-all runs it")
    result = parity.run_case(_op_db.op_db_case(*sid), dtype, raise_errors=True)
    assert result.passed, parity.format_table([result])


# issue 20: the existing ops whose deviations on torch's samples were fixed (item 8) and the remaining losses
# (item 6), every kind of sample each has (reference includes the plain samples), drawn inside the test
# (reference_inputs are large to draw): --parity-all only; CI runs FIXED.
ITEM8 = ("gaussian_nll_loss", "margin_ranking_loss", "hinge_embedding_loss", "multi_margin_loss", "avg_pool1d",
         "avg_pool2d", "softsign", "poisson_nll_loss", "cosine_embedding_loss", "triplet_margin_loss",
         "pairwise_distance", "group_norm", "hardtanh", "relu6", "elu", "selu", "celu", "normalize", "embedding",
         "conv1d", "conv2d", "scaled_dot_product_attention", "layer_norm")
LOSSES = ("soft_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss",
          "triplet_margin_with_distance_loss", "linear_cross_entropy")
# not yet: linear_cross_entropy.chunked/.chunked_none (torch's chunked kernel): values equal, but on ~12 of 266
# samples torch's chunked gradients differ from jaxdl's (the reference formula); cause not yet found (open)
SWEEPS = [(f"nn.functional.{n}", kind) for n in ITEM8 + LOSSES for kind in ("reference", "int64", "error")]
# in CI: one sample of each deviation item 8 names, and of each new loss: (op, index, kind)
FIXED = [("gaussian_nll_loss", 12, "reference"), ("margin_ranking_loss", 26, "reference"),
         ("hinge_embedding_loss", 12, "reference"), ("multi_margin_loss", 0, "reference"),
         ("avg_pool1d", 0, "int64"), ("avg_pool2d", 1, "int64"), ("poisson_nll_loss", 0, "int64"),
         ("margin_ranking_loss", 0, "int64"), ("cosine_embedding_loss", 0, "int64"),
         ("triplet_margin_loss", 0, "int64"), ("pairwise_distance", 0, "int64"), ("group_norm", 12, "reference"),
         ("celu", 3, "reference"),
         ("normalize", 3, "reference"), ("normalize", 4, "reference"), ("pairwise_distance", 5, "reference"),
         ("embedding", 5, "reference"), ("hardtanh", 0, "error"), ("soft_margin_loss", 1, "reference"),
         ("multilabel_margin_loss", 7, "reference"), ("multilabel_soft_margin_loss", 3, "reference"),
         ("triplet_margin_with_distance_loss", 3, "reference"), ("linear_cross_entropy", 2, "reference")]


@pytest.mark.parametrize("op,index,kind", FIXED, ids=[f"{o}-{k}-{i}" for o, i, k in FIXED])
def test_fixed_deviation(op, index, kind):
    for dtype in _op_db.kind_dtypes(kind):
        result = parity.run_case(_op_db.op_db_case(f"nn.functional.{op}", index, kind), dtype, raise_errors=True)
        assert result.passed, parity.format_table([result])


@pytest.mark.parametrize("name,kind", SWEEPS, ids=[f"{n.removeprefix('nn.functional.')}-{k}" for n, k in SWEEPS])
def test_op_db_sweep(name, kind, request):
    if not request.config.getoption("--parity-all"):
        pytest.skip("a whole OpInfo sweep: pytest --parity-all runs it (CI runs FIXED)")
    failed = []
    for sid in _op_db.op_db_samples(name, kind):
        for dtype in _op_db.kind_dtypes(kind):
            result = parity.run_case(_op_db.op_db_case(*sid), dtype)
            if not result.passed:
                failed.append(parity.format_table([result]))
    assert not failed, "\n".join(failed)


def test_left_out_nan_gradients_say_why():
    left = _op_db.left_out_samples("nn.functional.hardtanh", "reference")
    assert left and all("scalar loop" in reason for _, reason in left)


def test_runner_fails_a_wrong_counterpart(monkeypatch):
    # rms_norm with its eps ignored: torch's samples with eps=0.5 tell the difference
    monkeypatch.setitem(_op_db.OP_COUNTERPARTS, "nn.functional.rms_norm", _op_db.OpCounterpart(
        lambda x, shape, weight=None, eps=None: parity._op_db.F.rms_norm(x, shape, weight)))
    report = _op_db.op_db_report(["nn.functional.rms_norm"], dtypes=("float64",))["nn.functional.rms_norm"]
    assert report["samples"] == 6 and report["passed"] < 6, report


def test_random_samples_are_left_out_with_the_reason():
    left = _op_db.left_out_samples("nn.functional.multi_head_attention_forward")
    assert left and all("dropout" in reason for _, reason in left)
