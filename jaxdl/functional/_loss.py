"""Classification losses, as torch.nn.functional defines them: cross_entropy, nll_loss, binary_cross_entropy
(+ _with_logits). torch: ``aten/src/ATen/native/LossNLL.cpp`` and ``Loss.cpp``.

The deprecated ``size_average``/``reduce`` arguments are not supported: pass ``reduction``.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import amp
from jaxdl.checks import check_floating, check_reduction, check_same_shape, check_traced, is_concrete
from jaxdl.functional._reduction import reduce

# torch's `constexpr float EPSILON = 1e-12` of Loss.cpp (binary_cross_entropy_backward, cosine_embedding_loss):
# a float32 1e-12, which differs from the float64 1e-12 by 4e-9 relative, visible in float64 results.
LOSS_CPP_EPSILON = float(np.float32(1e-12))


def _class_axis(input) -> int:
    return 0 if jnp.ndim(input) == 1 else 1


def _check_weight(name: str, weight, num_classes: int) -> None:
    if weight is not None and tuple(jnp.shape(weight)) != (num_classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({num_classes},), or be None; got "
                         f"shape {tuple(jnp.shape(weight))}")


def _broadcast_weight(weight, ndim: int, axis: int):
    """(C,) -> shape with C on the class axis and 1 elsewhere, e.g. (1, C, 1, 1) for (N, C, H, W)."""
    shape = [1] * ndim
    shape[axis] = -1
    return jnp.reshape(weight, shape)


def _check_index_target(name: str, input, target, num_classes: int, ignore_index: int) -> None:
    if not jnp.issubdtype(jnp.asarray(target).dtype, jnp.integer):
        raise TypeError(f"{name}: class-index targets must be integers; got dtype {jnp.asarray(target).dtype} "
                        f"with shape {jnp.shape(target)} "
                        f"(probability targets need the input's shape {jnp.shape(input)})")
    ishape, tshape = tuple(jnp.shape(input)), tuple(jnp.shape(target))
    expected = () if len(ishape) == 1 else ishape[:1] + ishape[2:]
    if tshape != expected:
        raise ValueError(f"{name}: expected target shape {expected} for input shape {ishape} "
                         f"(input (C,), (N, C) or (N, C, d1, ...)); got target shape {tshape}")
    message = (f"{name}: Target {{}} is out of bounds: class indices must be in [0, {num_classes}) or equal "
               f"ignore_index={ignore_index}")
    if is_concrete(target) and np.size(target):
        t = np.asarray(target)
        bad = t[(t != ignore_index) & ((t < 0) | (t >= num_classes))]
        if bad.size:
            raise ValueError(message.format(int(bad[0])))
    elif np.size(target):  # traced (jit): only jaxdl.checks.validated can check it; else NaN (see _nll)
        t = jnp.ravel(target)
        bad = (t != ignore_index) & ((t < 0) | (t >= num_classes))
        check_traced(~jnp.any(bad), message, t[jnp.argmax(bad)])


def _nll(logp, target, weight, ignore_index: int, axis: int):
    """Per-position −w_{y}·logp_{y} (0 where ignored) and the per-position weights w_{y} (0 where ignored).

    A target outside [0, C) that is not ignore_index gives NaN there (torch raises; traced targets under jit
    cannot be checked, and the gather would otherwise wrap a negative label such as −1 to class C−1).
    """
    valid = target != ignore_index
    bad = valid & ((target < 0) | (target >= jnp.shape(logp)[axis]))
    safe = jnp.where(valid & ~bad, target, 0)  # mask before the gather, so ignored labels cannot give NaN
    picked = jnp.squeeze(jnp.take_along_axis(logp, jnp.expand_dims(safe, axis), axis=axis), axis)  # target's shape
    w_y = jnp.ones_like(picked) if weight is None else jnp.take(weight, safe).astype(picked.dtype)
    w_y = jnp.where(bad, jnp.nan, jnp.where(valid, w_y, 0.0))
    return jnp.where(valid, -w_y * picked, 0.0), w_y, valid


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of class indices, as torch.nn.functional.nll_loss.

    ℓ_i = −w_{y_i}·input[i, y_i] (0 where y_i == ignore_index); 'mean' divides Σℓ by Σ w_{y_i} over the
    non-ignored positions (NaN when all are ignored, like torch). Class indices out of range raise when
    ``target`` is concrete; under jit they give NaN unless run under ``jaxdl.checks.validated`` (see cross_entropy).

    Args:
      input: log-probabilities, (C,), (N, C) or (N, C, d1, ..., dK).
      target: integer class indices, () / (N,) / (N, d1, ..., dK).
      weight: (C,) class weights or None.

    Example:
      >>> round(float(nll_loss(jnp.log(jnp.array([[0.7, 0.2, 0.1]])), jnp.array([0]))), 4)
      0.3567
    """
    input, target, weight = amp.cast("nll_loss", input, target, weight)
    check_reduction("nll_loss", reduction)
    check_floating("nll_loss", input)
    if jnp.ndim(input) < 1:
        raise ValueError(f"nll_loss: input must have shape (C,), (N, C) or (N, C, d1, ...); got {jnp.shape(input)}")
    axis = _class_axis(input)
    num_classes = jnp.shape(input)[axis]
    _check_weight("nll_loss", weight, num_classes)
    _check_index_target("nll_loss", input, target, num_classes, ignore_index)
    loss, w_y, _ = _nll(input, target, weight, ignore_index, axis)
    return reduce(loss, reduction, denominator=jnp.sum(w_y))


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    """Cross entropy of logits, as torch.nn.functional.cross_entropy (log_softmax over dim 1, then nll).

    Class-index targets: (1−ε)·NLL + (ε/C)·Σ_c −w_c·logp_c, both terms divided by Σ w_{y_i} of the
    non-ignored positions for 'mean'. Probability targets (same shape as input): t' = (1−ε)·t + ε/C,
    ℓ_i = −Σ_c w_c·t'_c·logp_c, and 'mean' divides by numel/C (not by the weights).
    Differs from optax.softmax_cross_entropy*: class axis 1, reduced, with weights and ignore_index.

    What is checked where: shapes, dtypes, reduction and label_smoothing always (at trace time); class indices
    outside [0, C) (not ignore_index) raise ValueError when ``target`` is concrete (eager), but under
    ``jax.jit`` their values are unknown in Python, so they give NaN there, as in nll_loss; wrap the function
    in ``jaxdl.checks.validated`` to have them raise under jit too (checkify).

    Args:
      input: logits, (C,), (N, C) or (N, C, d1, ..., dK).
      target: integer indices () / (N,) / (N, d1, ...), or probabilities of the input's shape.
      weight: (C,) class weights or None.
      label_smoothing: ε in [0, 1].

    Example:
      >>> logits = jnp.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]])
      >>> round(float(cross_entropy(logits, jnp.array([0, -100]))), 4)  # the ignored row is left out
      0.1698
    """
    input, target, weight = amp.cast("cross_entropy", input, target, weight)
    check_reduction("cross_entropy", reduction)
    check_floating("cross_entropy", input)
    if jnp.ndim(input) < 1:
        raise ValueError(f"cross_entropy: input must have shape (C,), (N, C) or (N, C, d1, ...); "
                         f"got {jnp.shape(input)}")
    if is_concrete(label_smoothing) and not 0.0 <= float(label_smoothing) <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    axis = _class_axis(input)
    num_classes = jnp.shape(input)[axis]
    _check_weight("cross_entropy", weight, num_classes)
    logp = jax.nn.log_softmax(input, axis=axis)
    w_b = None if weight is None else _broadcast_weight(weight, jnp.ndim(input), axis)
    smoothing = not (is_concrete(label_smoothing) and float(label_smoothing) == 0.0)

    if tuple(jnp.shape(target)) == tuple(jnp.shape(input)):  # torch: equal shapes mean probability targets
        if not jnp.issubdtype(jnp.asarray(target).dtype, jnp.floating):
            raise TypeError(f"cross_entropy: Expected floating point type for target with class probabilities, "
                            f"got {jnp.asarray(target).dtype}")
        if ignore_index >= 0:
            raise ValueError(f"cross_entropy: ignore_index is not supported for floating point target; "
                             f"got ignore_index={ignore_index}")
        t = target * (1 - label_smoothing) + label_smoothing / num_classes if smoothing else target
        prod = logp * t if w_b is None else logp * t * w_b
        loss = -jnp.sum(prod, axis=axis)  # input's shape without the class axis
        return reduce(loss, reduction, denominator=jnp.size(input) // num_classes)

    _check_index_target("cross_entropy", input, target, num_classes, ignore_index)
    nll, w_y, valid = _nll(logp, target, weight, ignore_index, axis)
    denominator = jnp.sum(w_y)
    out = reduce(nll, reduction, denominator=denominator)
    if not smoothing:
        return out
    smooth = -jnp.sum(logp if w_b is None else logp * w_b, axis=axis)  # Σ_c −w_c·logp_c, target's shape
    smooth = jnp.where(valid, smooth, 0.0)
    return (1 - label_smoothing) * out + (label_smoothing / num_classes) * reduce(
        smooth, reduction, denominator=denominator)


def _check_broadcastable(name: str, what: str, w, shape) -> None:
    """``w`` must broadcast to ``shape`` without growing it (torch expands weight/pos_weight to the loss)."""
    try:
        ok = np.broadcast_shapes(tuple(jnp.shape(w)), tuple(shape)) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: {what} of shape {tuple(jnp.shape(w))} must broadcast to the input shape "
                         f"{tuple(shape)} (trailing dimensions align, e.g. (C, 1, 1) for (N, C, H, W))")


@jax.custom_jvp
def _bce(p, y):
    # torch clamps each log at -100 so that p ∈ {0, 1} gives a finite loss (100 at most).
    return (y - 1) * jnp.maximum(jnp.log1p(-p), -100.0) - y * jnp.maximum(jnp.log(p), -100.0)


def _bce_jvp(primals, tangents):
    # torch's own derivatives, not those of the clamped formula: (p − y)/max(p(1−p), 1e-12) for the input
    # and −logit(p) for the target. Zero tangents are symbolic, so an infinite logit never meets a 0.
    (p, y), (dp, dy) = primals, tangents
    out = _bce(p, y)
    tangent = jnp.zeros_like(out)
    if not isinstance(dp, jax.custom_derivatives.SymbolicZero):
        tangent = tangent + dp * (p - y) / jnp.maximum((1 - p) * p, LOSS_CPP_EPSILON)
    if not isinstance(dy, jax.custom_derivatives.SymbolicZero):
        tangent = tangent + dy * (jnp.log1p(-p) - jnp.log(p))
    return out, tangent


_bce.defjvp(_bce_jvp, symbolic_zeros=True)


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean"):
    """Binary cross entropy of probabilities, as torch.nn.functional.binary_cross_entropy.

    ℓ = −w·[y·max(log p, −100) + (1−y)·max(log(1−p), −100)]; 'mean' = mean(ℓ) (not ÷Σw). Gradients are
    torch's: ∂ℓ/∂p = w·(p−y)/max(p(1−p), 1e-12), ∂ℓ/∂y = −w·logit(p).

    Args:
      input: probabilities in [0, 1], any shape.
      target: same shape as input.
      weight: broadcastable to the input's shape, or None.

    Example:
      >>> float(binary_cross_entropy(jnp.array([0.0, 1.0]), jnp.array([1.0, 1.0])))  # log 0 clamped at -100
      50.0
    """
    input, target, weight = amp.cast("binary_cross_entropy", input, target, weight)
    check_reduction("binary_cross_entropy", reduction)
    check_same_shape("binary_cross_entropy", input=input, target=target)
    check_floating("binary_cross_entropy", input)
    check_floating("binary_cross_entropy", target, "target")
    for what, v in (("input", input), ("target", target)):
        if is_concrete(v) and np.size(v) and not np.all((np.asarray(v) >= 0) & (np.asarray(v) <= 1)):
            raise ValueError(f"binary_cross_entropy: all elements of {what} should be between 0 and 1")
    loss = _bce(input, target)
    if weight is not None:
        _check_broadcastable("binary_cross_entropy", "weight", weight, jnp.shape(input))
        loss = loss * jnp.broadcast_to(weight, jnp.shape(input))
    return reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean", pos_weight=None):
    """Sigmoid + binary cross entropy in torch's stable form, as torch.nn.functional.binary_cross_entropy_with_logits.

    ℓ = w·[(1−y)·x − (1 + (pw−1)·y)·log σ(x)]; pos_weight broadcasts from the last dim (for (N, C, H, W)
    per-class pos_weight is (C, 1, 1)). Differs from optax.sigmoid_binary_cross_entropy: weights, reduction.

    Args:
      input: logits, any shape.
      target: same shape as input.
      weight, pos_weight: broadcastable to the input's shape, or None.

    Example:
      >>> x, y = jnp.array([0.0, 2.0]), jnp.array([1.0, 0.0])
      >>> round(float(binary_cross_entropy_with_logits(x, y, pos_weight=jnp.array([3.0]))), 4)
      2.1032
    """
    input, target, weight, pos_weight = amp.cast("binary_cross_entropy_with_logits", input, target, weight, pos_weight)
    check_reduction("binary_cross_entropy_with_logits", reduction)
    check_same_shape("binary_cross_entropy_with_logits", input=input, target=target)
    check_floating("binary_cross_entropy_with_logits", input)
    check_floating("binary_cross_entropy_with_logits", target, "target")
    shape = jnp.shape(input)
    log_sig = jax.nn.log_sigmoid(input)
    if pos_weight is None:
        loss = (1 - target) * input - log_sig
    else:
        _check_broadcastable("binary_cross_entropy_with_logits", "pos_weight", pos_weight, shape)
        log_weight = (jnp.broadcast_to(pos_weight, shape) - 1) * target + 1
        loss = (1 - target) * input - log_weight * log_sig
    if weight is not None:
        _check_broadcastable("binary_cross_entropy_with_logits", "weight", weight, shape)
        loss = loss * jnp.broadcast_to(weight, shape)
    return reduce(loss, reduction)
