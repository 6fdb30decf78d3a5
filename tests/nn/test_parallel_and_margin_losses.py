"""issue 20: SyncBatchNorm (jaxdl's BatchNorm under torch's name), DataParallel's refusal, and the new loss
modules against torch's."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn


def test_sync_batch_norm_is_torchs_batch_norm(x64):
    x = np.random.default_rng(0).standard_normal((4, 3, 2, 5))
    m = nn.SyncBatchNorm(3, momentum=0.3)
    params, state = m.init(jax.random.key(0), jnp.float64)
    out, new_state = m.apply(params, state, jnp.asarray(x), training=True)
    t = torch.nn.BatchNorm2d(3, momentum=0.3).double()  # torch's SyncBatchNorm needs a process group on CPU
    expected = t(torch.tensor(x))
    np.testing.assert_allclose(np.asarray(out), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(new_state["running_var"]), t.running_var.numpy(), rtol=1e-10)
    ts = torch.nn.SyncBatchNorm(3).double().eval()  # eval mode runs on CPU: the running statistics
    np.testing.assert_allclose(np.asarray(nn.SyncBatchNorm(3).apply(*nn.SyncBatchNorm(3).init(
        jax.random.key(0), jnp.float64), jnp.asarray(x))[0]), ts(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="process_group is not supported"):
        nn.SyncBatchNorm(3, process_group=object())


def test_data_parallel_points_to_fit_mesh():
    with pytest.raises(NotImplementedError, match=r"fit \(or shard"):
        nn.DataParallel(nn.Linear(2, 2))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_loss_modules_match_torch(reduction, x64):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((4, 5)), np.where(rng.random((4, 5)) > 0.5, 1.0, -1.0)
    labels = np.array([[3, 0, -1, 1, 2], [1, -1, 0, 0, 0], [4, 3, 2, 1, 0], [-1, 2, 2, 2, 2]])
    w = rng.random(5)
    a, p, n = (rng.standard_normal((4, 5)) for _ in range(3))
    pairs = [
        (nn.SoftMarginLoss(reduction=reduction), torch.nn.SoftMarginLoss(reduction=reduction), (x, y)),
        (nn.MultiLabelMarginLoss(reduction=reduction), torch.nn.MultiLabelMarginLoss(reduction=reduction),
         (x, labels)),
        (nn.MultiLabelSoftMarginLoss(weight=w, reduction=reduction),
         torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor(w), reduction=reduction), (x, (y + 1) / 2)),
        (nn.TripletMarginWithDistanceLoss(margin=2.0, swap=True, reduction=reduction),
         torch.nn.TripletMarginWithDistanceLoss(margin=2.0, swap=True, reduction=reduction), (a, p, n)),
    ]
    for mine, theirs, args in pairs:
        got = mine(*(jnp.asarray(v) for v in args))
        expected = theirs(*(torch.tensor(v) for v in args))
        np.testing.assert_allclose(np.asarray(got), expected.numpy(), rtol=1e-10, err_msg=type(mine).__name__)
    assert isinstance(nn.NLLLoss2d(), nn.NLLLoss) and issubclass(torch.nn.NLLLoss2d, torch.nn.NLLLoss)
