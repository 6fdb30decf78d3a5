"""Losses: errors, torch's warning, transformations (values and gradients vs torch are parity cases)."""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import functional as F
from tests.helpers import assert_close

x2, y2 = jnp.zeros((3, 4)), jnp.array([0, 1, 3])
probs = jnp.full((3, 4), 0.25)
LOSSES = {  # name -> a call with valid arguments and a given reduction
    "cross_entropy": lambda r: F.cross_entropy(x2, y2, reduction=r),
    "nll_loss": lambda r: F.nll_loss(x2, y2, reduction=r),
    "binary_cross_entropy": lambda r: F.binary_cross_entropy(probs, probs, reduction=r),
    "binary_cross_entropy_with_logits": lambda r: F.binary_cross_entropy_with_logits(x2, probs, reduction=r),
    "mse_loss": lambda r: F.mse_loss(x2, probs, reduction=r),
    "l1_loss": lambda r: F.l1_loss(x2, probs, reduction=r),
    "smooth_l1_loss": lambda r: F.smooth_l1_loss(x2, probs, reduction=r),
    "huber_loss": lambda r: F.huber_loss(x2, probs, reduction=r),
    "kl_div": lambda r: F.kl_div(x2, probs, reduction=r),
    "hinge_embedding_loss": lambda r: F.hinge_embedding_loss(x2, x2, reduction=r),
    "margin_ranking_loss": lambda r: F.margin_ranking_loss(x2, x2, x2, reduction=r),
    "multi_margin_loss": lambda r: F.multi_margin_loss(x2, y2, reduction=r),
    "cosine_embedding_loss": lambda r: F.cosine_embedding_loss(x2, x2, y2, reduction=r),
    "triplet_margin_loss": lambda r: F.triplet_margin_loss(x2, x2, x2, reduction=r),
    "poisson_nll_loss": lambda r: F.poisson_nll_loss(x2, probs, reduction=r),
    "gaussian_nll_loss": lambda r: F.gaussian_nll_loss(x2, probs, probs, reduction=r),
}


def test_unknown_reduction_names_value_and_allowed():
    for name, call in LOSSES.items():
        with pytest.raises(ValueError, match=f"{name}: 'avg' is not a valid value for reduction; "
                                             "expected one of 'none', "):
            call("avg")
    with pytest.raises(ValueError, match="'batchmean'"):
        F.mse_loss(x2, probs, reduction="batchmean")  # only kl_div knows batchmean
    assert F.kl_div(x2, probs, reduction="batchmean").shape == ()


def test_shape_mismatch_raises_instead_of_broadcasting():
    a, b = jnp.zeros((4, 1)), jnp.zeros((4,))  # torch would warn and broadcast to (4, 4)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.kl_div, F.binary_cross_entropy,
               F.binary_cross_entropy_with_logits):
        with pytest.raises(
                ValueError, match=r"input, target must have the same shape; got input \(4, 1\), target \(4,\)"):
            fn(a, b)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(b, b, weight=jnp.ones(1))


def test_classification_errors():
    with pytest.raises(ValueError, match=r"expected target shape \(3,\) for input shape \(3, 4\)"
                                         r".*got target shape \(2,\)"):
        F.cross_entropy(x2, jnp.array([0, 1]))
    with pytest.raises(ValueError, match=r"expected target shape \(2, 5\) for input shape \(2, 4, 5\)"):
        F.nll_loss(jnp.zeros((2, 4, 5)), jnp.zeros((2, 4), int))
    with pytest.raises(TypeError, match="class-index targets must be integers"):
        F.nll_loss(x2, jnp.zeros(3))
    with pytest.raises(TypeError, match="Expected floating point type for target with class probabilities"):
        F.cross_entropy(x2, jnp.zeros((3, 4), int))
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(4,\), or be None; "
                                         r"got shape \(3,\)"):
        F.cross_entropy(x2, y2, weight=jnp.ones(3))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x2, y2, label_smoothing=1.5)
    with pytest.raises(ValueError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x2, probs, ignore_index=0)
    with pytest.raises(ValueError, match="Target 4 is out of bounds"):
        F.cross_entropy(x2, jnp.array([0, 4, 1]))
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(probs + 1.0, probs)
    with pytest.raises(ValueError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(probs, probs - 1.0)
    x4 = jnp.zeros((2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"pos_weight of shape \(3,\) must broadcast to the input shape "
                                         r"\(2, 3, 4, 5\)"):
        F.binary_cross_entropy_with_logits(x4, x4, pos_weight=jnp.ones(3))  # torch too: needs (3, 1, 1)
    with pytest.raises(ValueError, match="smooth_l1_loss does not support negative values for beta"):
        F.smooth_l1_loss(probs, probs, beta=-1.0)
    with pytest.raises(ValueError, match="huber_loss does not support non-positive values for delta"):
        F.huber_loss(probs, probs, delta=0.0)


def test_kl_div_mean_warns_where_torch_does_in_our_words():
    with pytest.warns(UserWarning) as theirs:
        torch.nn.functional.kl_div(torch.zeros(2, 3), torch.full((2, 3), 0.5))
    with pytest.warns(UserWarning) as ours:
        F.kl_div(jnp.zeros((2, 3)), jnp.full((2, 3), 0.5))
    assert len(ours) == len(theirs) == 1 and type(ours[0].message) is type(theirs[0].message)
    assert "reduction='batchmean'" in str(ours[0].message) and str(ours[0].message) != str(theirs[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(jnp.zeros((2, 3)), jnp.full((2, 3), 0.5), reduction="batchmean")  # no warning


def test_ignored_labels_give_finite_gradients():
    logits = jax.random.normal(jax.random.key(0), (4, 5))
    y = jnp.array([1, -100, 4, -100])
    g = jax.jit(jax.grad(lambda a: F.cross_entropy(a, y, label_smoothing=0.2)))(logits)
    assert bool(jnp.all(jnp.isfinite(g)))
    np.testing.assert_array_equal(np.asarray(g[1]), np.zeros(5))  # ignored rows get no gradient
    assert bool(jnp.isnan(F.cross_entropy(logits[:1], jnp.array([-100]))))  # all ignored: NaN, like torch


def test_sequence_loss_under_vmap_and_scan():
    # a batch of 3 sequences, cross entropy per sequence; vmap and scan must agree with the loop
    logits = jax.random.normal(jax.random.key(1), (3, 6, 5))  # (B, T, C)
    y = jax.random.randint(jax.random.key(2), (3, 6), 0, 5).at[0, 2].set(-100)
    per_seq = jax.jit(jax.vmap(lambda a, t: F.cross_entropy(a, t)))(logits, y)
    _, scanned = jax.lax.scan(lambda c, at: (c, F.cross_entropy(*at)), 0.0, (logits, y))
    looped = jnp.stack([F.cross_entropy(logits[i], y[i]) for i in range(3)])
    assert_close(per_seq, looped)
    assert_close(scanned, looped)
    # the (N, C, T) layout torch uses for sequences gives the same numbers as flattening
    flat = F.cross_entropy(logits.reshape(-1, 5), y.reshape(-1), reduction="sum")
    assert_close(F.cross_entropy(jnp.swapaxes(logits, 1, 2), y, reduction="sum"), flat)


def test_bce_forward_mode_and_vmap():
    p = jnp.array([0.0, 0.3, 1.0])
    y = jnp.array([1.0, 0.3, 0.0])
    # forward mode with only p perturbed: the infinite target derivative at p ∈ {0, 1} must not leak in
    _, tangent = jax.jvp(lambda a: F.binary_cross_entropy(a, y, reduction="none"), (p,), (jnp.ones(3),))
    eps = float(np.float32(1e-12))
    np.testing.assert_allclose(np.asarray(tangent), [-1 / eps, 0.0, 1 / eps], rtol=1e-6)
    batched = jax.vmap(lambda a, b: F.binary_cross_entropy(a, b))(jnp.stack([p, p]), jnp.stack([y, y]))
    assert_close(batched, jnp.full(2, F.binary_cross_entropy(p, y)))


def test_regression_losses_jit_grad_vmap():
    a = jax.random.normal(jax.random.key(3), (4, 3))
    b = jnp.zeros((4, 3))

    def total(u):
        return (F.mse_loss(u, b) + F.l1_loss(u, b) + F.smooth_l1_loss(u, b, beta=0.5) + F.huber_loss(u, b, delta=2.0)
                + F.kl_div(jax.nn.log_softmax(u), jax.nn.softmax(b), reduction="batchmean"))

    assert_close(jax.jit(total)(a), total(a))
    g = jax.jit(jax.grad(total))(a)
    assert g.shape == a.shape and bool(jnp.all(jnp.isfinite(g)))
    per_row = jax.vmap(lambda u: F.mse_loss(u, jnp.zeros(3), reduction="sum"))(a)
    assert_close(per_row, jnp.sum(a * a, axis=1))


def test_integer_inputs_raise_like_torch():
    tF = torch.nn.functional
    xi, yi, ti = np.array([[1, -2, 3], [0, 2, -1]]), np.array([0, 2]), np.array([[1, 0, 1], [0, 1, 1]])
    calls = {  # name -> (argument that is an integer array, jaxdl call, torch call)
        "cross_entropy": ("input", lambda m, a: m.cross_entropy(a(xi), a(yi))),
        "nll_loss": ("input", lambda m, a: m.nll_loss(a(xi), a(yi))),
        "binary_cross_entropy": ("input", lambda m, a: m.binary_cross_entropy(a(ti), a(ti * 0.5))),
        "binary_cross_entropy_with_logits": ("target",
                                             lambda m, a: m.binary_cross_entropy_with_logits(a(xi * 1.0), a(ti))),
        "mse_loss": ("the promoted dtype", lambda m, a: m.mse_loss(a(xi), a(ti))),
        "l1_loss": ("the promoted dtype", lambda m, a: m.l1_loss(a(xi), a(ti))),
        "smooth_l1_loss": ("the promoted dtype", lambda m, a: m.smooth_l1_loss(a(xi), a(ti))),
        "huber_loss": ("input", lambda m, a: m.huber_loss(a(xi), a(ti * 1.0))),
        "kl_div": ("target", lambda m, a: m.kl_div(a(xi * 1.0), a(ti), reduction="sum")),
    }
    for name, (what, call) in calls.items():
        with pytest.raises((RuntimeError, NotImplementedError)):
            call(tF, torch.as_tensor)
        with pytest.raises(TypeError, match=f"{name}: {what}.* must be a floating-point array.*got dtype int"):
            call(F, jnp.asarray)
    # one float argument is enough for torch's mse/l1/smooth_l1 (and a float input for huber): they promote
    for fn in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"):
        assert_close(getattr(F, fn)(jnp.asarray(xi, jnp.float32), jnp.asarray(ti)),
                     getattr(tF, fn)(torch.as_tensor(xi, dtype=torch.float32), torch.as_tensor(ti)))
    assert_close(F.mse_loss(jnp.asarray(xi), jnp.asarray(ti, jnp.float32)),
                 tF.mse_loss(torch.as_tensor(xi), torch.as_tensor(ti, dtype=torch.float32)))


def test_kl_div_batchmean_of_a_0d_input_is_the_sum_like_torch():
    a, b = np.float32(-1.2), np.float32(0.3)
    ref = torch.nn.functional.kl_div(torch.tensor(a), torch.tensor(b), reduction="batchmean")  # no batch dim: no ÷
    assert_close(F.kl_div(jnp.asarray(a), jnp.asarray(b), reduction="batchmean"), ref)
    assert_close(F.kl_div(jnp.asarray(a)[None], jnp.asarray(b)[None], reduction="batchmean"), ref)  # 1-D: ÷ 1


def test_traced_out_of_range_targets_give_nan_not_another_class():
    x = jnp.array([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]])
    with pytest.raises(IndexError, match="Target -1 is out of bounds"):  # e.g. padding labelled -1, ignore_index -100
        torch.nn.functional.cross_entropy(torch.tensor(np.array(x)), torch.tensor([-1, 0]))
    # under jit the labels are tracers and cannot be checked: NaN, where the gather used to wrap -1 to class 2
    for y in (jnp.array([-1, 0]), jnp.array([3, 0])):
        smoothed = lambda a, t: F.cross_entropy(a, t, weight=jnp.ones(3), label_smoothing=0.1)  # noqa: E731
        for fn in (F.cross_entropy, F.nll_loss, smoothed):
            assert bool(jnp.isnan(jax.jit(fn)(x, y)))
        per_pos = jax.jit(lambda a, t: F.cross_entropy(a, t, reduction="none"))(x, y)
        assert bool(jnp.isnan(per_pos[0])) and bool(jnp.isfinite(per_pos[1]))
    assert_close(jax.jit(F.cross_entropy)(x, jnp.array([2, -100])), F.cross_entropy(x, jnp.array([2, -100])))


def test_margin_and_likelihood_loss_errors():
    with pytest.raises(ValueError, match="multi_margin_loss: p must be 1 or 2; got 3"):
        F.multi_margin_loss(x2, y2, p=3)
    with pytest.raises(ValueError, match="inconsistent target size, expected 3 but got"):
        F.multi_margin_loss(x2, jnp.array([0, 1]))
    with pytest.raises(ValueError, match="inconsistent weight size, expected 4"):
        F.multi_margin_loss(x2, y2, weight=jnp.ones(3))
    with pytest.raises(ValueError, match="target out of range"):
        F.multi_margin_loss(x2, jnp.array([0, 1, 4]))
    with pytest.raises(ValueError, match="triplet_margin_loss: margin must be > 0; got 0.0"):
        F.triplet_margin_loss(x2, x2, x2, margin=0.0)
    # torch broadcasts margin_ranking_loss's arguments of one ndim (issue 20) and refuses other ndims or shapes
    with pytest.raises(ValueError, match=r"must have the same number of dims; got \(3, 4\), \(4,\), \(3, 4\)"):
        F.margin_ranking_loss(x2, x2[0], x2)
    with pytest.raises(ValueError, match=r"must broadcast to one shape; got input1 \(3, 4\), input2 \(3, 2\)"):
        F.margin_ranking_loss(x2, x2[:, :2], x2)
    with pytest.raises(ValueError, match="1D target tensor expects 2D inputs"):
        F.cosine_embedding_loss(x2[0], x2[0], y2)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(x2, x2, jnp.ones((3, 2)))
    with pytest.raises(ValueError, match="gaussian_nll_loss: var must be ≥ 0 everywhere"):
        F.gaussian_nll_loss(x2, x2, -1.0)
    with pytest.raises(ValueError, match="gaussian_nll_loss: var must be ≥ 0 everywhere"):
        F.gaussian_nll_loss(x2, x2, -jnp.ones(3))


def test_margin_losses_under_jit_and_vmap():
    x = jax.random.normal(jax.random.key(0), (2, 3, 4))
    y = jnp.array([[0, 1, 3], [2, 2, 0]])

    def f(a, t):
        return (F.multi_margin_loss(a, t) + F.triplet_margin_loss(a, a[::-1], a + 1.0, swap=True)
                + F.cosine_embedding_loss(a, a[::-1], jnp.where(t > 1, 1.0, -1.0))
                + F.gaussian_nll_loss(a, a * 0.5, jnp.ones(3)))

    assert_close(jax.jit(jax.vmap(f))(x, y), jax.vmap(f)(x, y))
    g = jax.jit(jax.grad(lambda a: jnp.sum(jax.vmap(f)(a, y))))(x)
    assert bool(jnp.all(jnp.isfinite(g)))


def test_half_precision_mean_accumulates_in_float32_like_torch():
    # 4096 squared errors of 3600: their float16 sum overflows (max 65504), their mean does not; torch's half mean
    # accumulates in float32, and so does jaxdl's (jnp.mean), where a sum over n would give inf
    x, y = np.full(4096, 60.0, np.float16), np.zeros(4096, np.float16)
    for dtype in (jnp.float16, jnp.bfloat16):
        mine = F.mse_loss(jnp.asarray(x, dtype), jnp.asarray(y, dtype))
        theirs = torch.nn.functional.mse_loss(torch.tensor(x).to(getattr(torch, jnp.dtype(dtype).name)),
                                              torch.tensor(y).to(getattr(torch, jnp.dtype(dtype).name)))
        assert mine.dtype == dtype and float(mine) == float(theirs) == 3600.0
