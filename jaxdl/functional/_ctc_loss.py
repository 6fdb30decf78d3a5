"""ctc_loss, as torch.nn.functional.ctc_loss, with torch's gradient (its alpha-beta formula, not autograd's)."""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.checks import check_reduction, concrete_values, is_concrete

_NEG_INF = -jnp.inf


def _shift(x, k, fill):
    """x shifted right by k along the last axis (k < 0: left), the gap filled with ``fill``."""
    pad = jnp.full(x.shape[:-1] + (abs(k),), fill, x.dtype)
    return jnp.concatenate([pad, x[..., :-k]], -1) if k > 0 else jnp.concatenate([x[..., -k:], pad], -1)


def _lse3(a, b, c):
    return jnp.logaddexp(jnp.logaddexp(a, b), c)


def _alphas(emit, skip):
    """Forward variables log α_t(s) (T, N, 2S+1): α_0 = emissions of the blank and the first label, then
    α_t(s) = e_t(s) + lse(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2) where the skip is allowed)."""
    init = jnp.full(emit.shape[1:], _NEG_INF, emit.dtype).at[:, :2].set(emit[0, :, :2])

    def step(a, e):
        new = e + _lse3(a, _shift(a, 1, _NEG_INF), jnp.where(skip, _shift(a, 2, _NEG_INF), _NEG_INF))
        return new, new

    _, rest = jax.lax.scan(step, init, emit[1:])
    return jnp.concatenate([init[None], rest])


def _betas(emit, skip, input_lengths, target_lengths):
    """Backward variables log β_t(s) as torch's (they include e_t(s)), −inf past each input length."""
    T, _, S2 = emit.shape
    s, L = jnp.arange(S2, dtype=jnp.int32)[None, :], target_lengths[:, None]  # (1, 2S+1), (N, 1)
    last = (s == 2 * L) | ((s == 2 * L - 1) & (L > 0))  # (N, 2S+1): where the alignments end
    skip_next = _shift(skip, -2, False)  # the skip s → s+2 is allowed where it is from s+2 back to s

    def step(b, inputs):
        t, e = inputs
        rec = e + _lse3(b, _shift(b, -1, _NEG_INF), jnp.where(skip_next, _shift(b, -2, _NEG_INF), _NEG_INF))
        end = (t == input_lengths - 1)[:, None]
        new = jnp.where(end, jnp.where(last, e, _NEG_INF), jnp.where((t < input_lengths - 1)[:, None], rec, _NEG_INF))
        return new, new

    times = jnp.arange(T, dtype=jnp.int32)
    _, betas = jax.lax.scan(step, jnp.full(emit.shape[1:], _NEG_INF, emit.dtype), (times, emit), reverse=True)
    return betas


def _class_logsumexp(ab, lprime, C):
    """(T, 2S+1) values and their classes l′(s) -> (T, C): logsumexp over the s of each class (−inf if none)."""
    m = jnp.full((ab.shape[0], C), _NEG_INF, ab.dtype).at[:, lprime].max(ab)
    shift = jnp.where(jnp.isfinite(m), m, 0.0)
    total = jnp.zeros_like(m).at[:, lprime].add(jnp.exp(ab - shift[:, lprime]))
    return jnp.log(total) + shift


@functools.partial(jax.custom_vjp, nondiff_argnums=(4, 5))
def _ctc_nll(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    return _ctc_forward(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)[0]


def _ctc_forward(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    T, N, C = log_probs.shape
    lprime = jnp.full((N, 2 * targets.shape[1] + 1), blank, targets.dtype).at[:, 1::2].set(targets)  # (N, 2S+1)
    skip = (lprime != blank) & (lprime != _shift(lprime, 2, blank))
    emit = jnp.take_along_axis(log_probs, jnp.broadcast_to(lprime[None], (T,) + lprime.shape), axis=2)
    alphas = _alphas(emit, skip)  # (T, N, 2S+1)
    final = alphas[jnp.clip(input_lengths - 1, 0, T - 1), jnp.arange(N)]  # (N, 2S+1)
    at = lambda i: jnp.take_along_axis(final, jnp.clip(i, 0, None)[:, None], axis=1)[:, 0]
    ll = jnp.logaddexp(at(2 * target_lengths),
                       jnp.where(target_lengths > 0, at(2 * target_lengths - 1), _NEG_INF))
    nll = -ll
    out = jnp.where(zero_infinity & jnp.isinf(nll), jnp.zeros((), nll.dtype), nll)
    return out, (log_probs, lprime, skip, emit, alphas, nll, input_lengths, target_lengths)


def _ctc_fwd(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
    return _ctc_forward(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)


def _ctc_bwd(blank, zero_infinity, res, g):
    """torch's ctc_loss_backward: ∂/∂lp[t, n, c] = (exp(lp) − exp(lse_{s: l′(s)=c}(α+β) + nll − lp))·g_n for t below
    the input length, 0 after it; the gradient with respect to the logits under a log_softmax (the exp(lp) term
    is what log_softmax's backward takes away), not autograd's of the loss; NaN where the loss is infinite, 0 with
    zero_infinity."""
    log_probs, lprime, skip, emit, alphas, nll, input_lengths, target_lengths = res
    T, N, C = log_probs.shape
    ab = alphas + _betas(emit, skip, input_lengths, target_lengths)  # (T, N, 2S+1)
    lcab = jax.vmap(_class_logsumexp, in_axes=(1, 0, None), out_axes=1)(ab, lprime, C)  # (T, N, C)
    grad = (jnp.exp(log_probs) - jnp.exp(lcab + nll[None, :, None] - log_probs)) * g[None, :, None]
    live = jnp.arange(T, dtype=jnp.int32)[:, None] < input_lengths[None, :]  # (T, N)
    if zero_infinity:
        live = live & ~jnp.isinf(nll)[None, :]
    return jnp.where(live[:, :, None], grad, jnp.zeros((), grad.dtype)), None, None, None


_ctc_nll.defvjp(_ctc_fwd, _ctc_bwd)


def _lengths(name, lengths, N):
    lengths = jnp.asarray(lengths)
    if lengths.ndim > 1 or (lengths.ndim == 1 and lengths.shape[0] != N):
        raise ValueError(f"ctc_loss: {name} must have one entry per batch element ({N}); got shape {lengths.shape}")
    if not jnp.issubdtype(lengths.dtype, jnp.integer):
        raise TypeError(f"ctc_loss: {name} must be integers; got dtype {lengths.dtype}")
    return jnp.broadcast_to(lengths, (N,)).astype(jnp.int32)


def _padded_targets(targets, target_lengths, N):
    """Targets as (N, S): the padded 2-D form as given, the concatenated 1-D form split at the lengths."""
    if targets.ndim == 2:
        return targets
    if is_concrete(target_lengths):
        width = max(int(np.max(concrete_values(target_lengths), initial=0)), 1)
    else:
        width = max(targets.shape[0], 1)  # a traced split: the longest possible target
    offsets = jnp.cumsum(target_lengths) - target_lengths  # (N,)
    idx = jnp.clip(offsets[:, None] + jnp.arange(width, dtype=offsets.dtype)[None], 0, max(targets.shape[0] - 1, 0))
    return targets[idx] if targets.shape[0] else jnp.zeros((N, width), targets.dtype)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False):
    """−log p(target | input) summed over all CTC alignments, as torch.nn.functional.ctc_loss.

    reduction 'mean' divides each loss by its target length (at least 1) and averages over the batch, as torch.
    The gradient is torch's (alpha-beta) formula, which equals autograd's through a log_softmax but differs from
    autograd's with respect to log_probs themselves: (exp(lp) − γ)·g, γ the alignment posterior (see _ctc_bwd).

    Args:
      log_probs: (T, N, C) or unbatched (T, C), log-softmax outputs. targets: (N, S) padded, or the (ΣL,)
        concatenation of the targets (ints, blank excluded).
      input_lengths, target_lengths: (N,) ints (a tuple or array), each ≤ T and ≤ S.
    Returns:
      a scalar, or (N,) for reduction='none'.
    """
    check_reduction("ctc_loss", reduction)
    log_probs, targets = jnp.asarray(log_probs), jnp.asarray(targets)
    if not jnp.issubdtype(log_probs.dtype, jnp.floating):
        raise TypeError(f"ctc_loss: log_probs must be floating; got dtype {log_probs.dtype}")
    if not jnp.issubdtype(targets.dtype, jnp.integer):
        raise TypeError(f"ctc_loss: targets must be integers; got dtype {targets.dtype}")
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3):
        raise ValueError(f"ctc_loss: log_probs must be (T, N, C) or (T, C); got shape {log_probs.shape}")
    if unbatched:
        log_probs, targets = log_probs[:, None], targets[None] if targets.ndim == 1 else targets
        if targets.ndim != 2:
            raise ValueError(f"ctc_loss: unbatched targets must be 1-D; got shape {targets.shape}")
    T, N, C = log_probs.shape
    if not 0 <= blank < C:
        raise ValueError(f"ctc_loss: blank must be in [0, {C}) (the classes of log_probs); got {blank}")
    if targets.ndim not in (1, 2) or (targets.ndim == 2 and targets.shape[0] != N):
        raise ValueError(f"ctc_loss: targets must be (N, S) = ({N}, S) or 1-D concatenated; got {targets.shape}")
    input_lengths = _lengths("input_lengths", input_lengths, N)
    target_lengths = _lengths("target_lengths", target_lengths, N)
    if is_concrete(input_lengths) and np.any(concrete_values(input_lengths) > T):
        raise ValueError(f"ctc_loss: input_lengths must be at most T={T}; got {concrete_values(input_lengths)}")
    if targets.ndim == 2 and is_concrete(target_lengths) and np.any(concrete_values(target_lengths) > targets.shape[1]):
        raise ValueError(f"ctc_loss: target_lengths must be at most S={targets.shape[1]}; got "
                         f"{concrete_values(target_lengths)}")
    padded = jnp.clip(_padded_targets(targets, target_lengths, N), 0, C - 1).astype(jnp.int32)
    nll = _ctc_nll(log_probs, padded, input_lengths, target_lengths, int(blank), bool(zero_infinity))  # (N,)
    if reduction == "none":
        return nll[0] if unbatched else nll
    if reduction == "sum":
        return jnp.sum(nll)
    return jnp.mean(nll / jnp.maximum(target_lengths, 1).astype(nll.dtype))
