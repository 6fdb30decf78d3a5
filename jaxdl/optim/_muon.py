"""Muon with torch.optim.Muon's Newton–Schulz iteration (bfloat16, torch's coefficients) and adjust_lr_fn."""
from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl import checks as V
from jaxdl.optim._adafactor import check_real
from jaxdl.optim._lr import torch_optimizer
from jaxdl.optim._transform import scalar_dtype, torch_lerp

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)  # torch/optim/_muon.py DEFAULT_A, DEFAULT_B, DEFAULT_C
ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def _mm(a, b):
    return jnp.matmul(a, b, preferred_element_type=jnp.float32, precision=jax.lax.Precision.HIGHEST)


def _two_sum(a, b):
    """Knuth's TwoSum: s + e == a + b exactly, s = fl(a + b)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _sum_to_odd(a, b):
    """a + b rounded to odd (the neighbour with an odd last bit when inexact; Boldo & Melquiond 2008)."""
    u, e = _two_sum(a, b)
    even = (jax.lax.bitcast_convert_type(u, jnp.int32) & 1) == 0
    return jnp.where((e != 0) & even, jnp.nextafter(u, jnp.where(e > 0, jnp.inf, -jnp.inf).astype(u.dtype)), u)


def _fma(beta, c, t):
    """float32 fma(β, C, T) = β·C + T rounded once, for C with ≤ 8 significant bits (bfloat16 values): β·C is
    split exactly (β's high 16 bits times C is exact), then the sum is rounded once (Boldo–Melquiond's emulated
    FMA, ph + (pl via round-to-odd)); JAX has no fma. β may be traced."""
    b32 = jnp.asarray(beta, jnp.float32)
    b_hi = jax.lax.bitcast_convert_type(jax.lax.bitcast_convert_type(b32, jnp.uint32) & jnp.uint32(0xFFFF0000),
                                        jnp.float32)
    b_lo = b32 - b_hi
    ph = b32 * c
    pl = (b_hi * c - ph) + b_lo * c
    th, tl = _two_sum(t, ph)
    return th + _sum_to_odd(tl, pl)


def _addmm(c, a, b, beta, alpha):
    """torch.addmm on bfloat16 as torch's CPU gemm: fma(β, C, α·(A@B)) in float32 (its compiler contracts
    ``beta * c + alpha * dot`` into one fma), rounded to bfloat16 once."""
    return _fma(beta, c.astype(jnp.float32), jnp.asarray(alpha, jnp.float32) * _mm(a, b)).astype(jnp.bfloat16)


def zeropower_via_newtonschulz(g, ns_coefficients=NS_COEFFICIENTS, ns_steps: int = 5, eps: float = 1e-7):
    """torch's ``_zeropower_via_newtonschulz``: X = bf16(G) (transposed if tall) / max(‖X‖, eps), then
    ``ns_steps`` × [A = XXᵀ;  B = bA + cA²;  X = aX + BX], in bfloat16 as torch (float32 accumulation).

    Matches torch's CPU kernels bit for bit on small matrices; a product sum of more terms (K ≳ 16) can
    round differently (1 bfloat16 ulp): torch's kernels sum in their own blocked order, XLA's dot in another.
    """
    a, b, c = ns_coefficients
    tall = g.shape[0] > g.shape[1]
    x = g.astype(jnp.bfloat16)
    x = x.T if tall else x
    norm = jnp.sqrt(jnp.sum(jnp.square(x.astype(jnp.float32)))).astype(jnp.bfloat16)
    x = (x.astype(jnp.float32) / jnp.maximum(norm, jnp.asarray(eps, jnp.bfloat16)).astype(jnp.float32)
         ).astype(jnp.bfloat16)
    for _ in range(ns_steps):
        gram = _mm(x, x.T).astype(jnp.bfloat16)
        x = _addmm(x, _addmm(gram, gram, gram, b, c), x, a, 1.0)
    return x.T if tall else x


def adjusted_lr_ratio(adjust_lr_fn, shape) -> float:
    """torch's ``_adjust_lr`` factor: √max(1, A/B) ("original", None) or 0.2·√max(A, B) ("match_rms_adamw")."""
    rows, cols = shape[:2]
    if adjust_lr_fn in (None, "original"):
        return math.sqrt(max(1, rows / cols))
    return 0.2 * math.sqrt(max(rows, cols))


class MuonState(NamedTuple):
    momentum_buffer: optax.Updates


def check_2d(params) -> None:
    """torch's rule: Muon takes 2-D params only (give the others to another optimizer with ``param_groups``)."""
    for p in jax.tree.leaves(params):
        if p.ndim != 2:
            raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: {p.shape}"
                             " (optimize it with another optimizer in optim.param_groups)")


def scale_by_torch_muon(momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn, weight_decay=0.0,
                        lr_dtype=None):
    """Muon's update from the lr, as torch/optim/_muon.py ``_single_tensor_muon`` (an ``applies_lr`` direction):
    B ← lerp(B, g, 1-μ);  U = lerp(g, B, μ) (nesterov) or B;  θ ← θ(1 - lr·λ) - lr·ratio(shape)·NS(U).

    ``1 - lr·λ`` and ``lr·ratio`` are computed in ``lr_dtype`` (default: Python float arithmetic,
    ``scalar_dtype()``): torch keeps a tensor lr a tensor there, so a float32 lr rounds them in float32.
    """

    def init_fn(params):
        check_real("Muon", params)
        check_2d(params)
        return MuonState(optax.tree.zeros_like(params))

    def update_fn(updates, state, params, *, lr, **extra):
        del extra
        lr = lr.astype(lr_dtype or scalar_dtype())  # scalar_dtype at trace time (x64 may be on by then)
        keep = 1 - lr * weight_decay  # torch: param.mul_(1 - lr * weight_decay)
        buf = jax.tree.map(lambda g, b: torch_lerp(b, g, 1 - momentum), updates, state.momentum_buffer)

        def update(g, b, p=None):
            u = torch_lerp(g, b, momentum) if nesterov else b
            o = zeropower_via_newtonschulz(u, ns_coefficients, ns_steps, eps)
            step = (lr * adjusted_lr_ratio(adjust_lr_fn, g.shape)).astype(g.dtype)  # torch: add_(o, alpha=-lr·r)
            return -step * o.astype(g.dtype) - (0 if p is None else (1 - keep).astype(p.dtype) * p)

        if V.is_zero(weight_decay):
            return jax.tree.map(update, updates, buf), MuonState(buf)
        if params is None:
            raise ValueError("Muon with weight_decay > 0 needs the params: tx.update(grads, state, params)")
        return jax.tree.map(update, updates, buf, params), MuonState(buf)

    return optax.GradientTransformationExtraArgs(init_fn, update_fn)


def muon(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_coefficients=NS_COEFFICIENTS, eps=1e-7,
         ns_steps=5, adjust_lr_fn=None) -> optax.GradientTransformation:
    """Muon, as ``torch.optim.Muon``: momentum, then Newton–Schulz orthogonalization, for 2-D params only.

    θ ← θ(1 - lr·λ);  θ ← θ - lr·ratio·NS(U), U and NS as ``scale_by_torch_muon``. Its init refuses a
    param that is not 2-D, as torch's constructor: give biases, norms and embeddings to another optimizer,
    ``optim.param_groups({"muon": optim.muon(), "adamw": optim.adamw()}, labels)``. The iteration runs in
    bfloat16 as torch's does (its numbers are torch's). No maximize (torch's Muon has none).

    Args:
      lr: float, 0-d array or schedule (a 0-d array keeps its dtype for 1 - lr·λ and lr·ratio, as torch's
        tensor lr: float32 there even for float64 params). weight_decay: λ ≥ 0 (decoupled). momentum: μ ≥ 0.
        nesterov: use lerp(g, B, μ). ns_coefficients: (a, b, c). eps: the norm's floor. ns_steps: < 100.
      adjust_lr_fn: None or "original" (√max(1, A/B)), or "match_rms_adamw" (0.2·√max(A, B)).

    Example:
      >>> import jax.numpy as jnp, jaxdl.optim as optim
      >>> tx = optim.muon(lr=0.1, weight_decay=0.0)
      >>> updates, _ = tx.update({"w": jnp.eye(2)}, tx.init({"w": jnp.zeros((2, 2))}))
      >>> [round(float(u), 4) for u in jnp.diag(updates["w"])]  # NS(I) in bfloat16 is 1.125·I, as torch's
      [-0.1125, -0.1125]
    """
    V.check_nonneg("momentum", momentum)
    V.check_nonneg("weight_decay", weight_decay)
    if adjust_lr_fn not in ADJUST_LR_FNS:
        raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported: expected one of "
                         f"{ADJUST_LR_FNS}")
    if not isinstance(ns_steps, int) or isinstance(ns_steps, bool) or not 0 <= ns_steps < 100:
        raise ValueError(f"ns_steps must be an int in [0, 100) (torch: 'Number of steps must be less than 100'), "
                         f"got {ns_steps!r}")
    if len(tuple(ns_coefficients)) != 3:
        raise ValueError(f"Coefficients must be a tuple of exactly 3 values, got {ns_coefficients!r}")
    lr_dtype = lr.dtype if isinstance(lr, (jax.Array, np.ndarray)) else None  # torch's tensor lr: kept a tensor
    direction = scale_by_torch_muon(momentum, nesterov, tuple(ns_coefficients), eps, ns_steps, adjust_lr_fn,
                                    weight_decay, lr_dtype)
    return torch_optimizer(lr, direction, applies_lr=True)
