"""Text generation from a GPT: one compiled lax.scan over a fixed-size token buffer (no per-token recompiles).

``jaxdl sample`` (jaxdl/cli/_gpt.py) and the training recipe (jaxdl/experiment/_gpt.py) live elsewhere.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp


def top_k_logits(logits, top_k: int | None):
    """Keep the top_k largest logits per row and set the rest to −inf (ties with the k-th value are kept),
    as the lecture's generate(): logits < topk(logits, k)[..., -1] → −inf."""
    if top_k is None:
        return logits
    kth = jax.lax.top_k(logits, top_k)[0][..., -1:]  # (B, 1)
    return jnp.where(logits < kth, -jnp.inf, logits)


@functools.partial(jax.jit, static_argnames=("model", "max_new_tokens", "temperature", "top_k"))
def _generate(model, params, state, idx, key, max_new_tokens, temperature, top_k):
    B, T0 = idx.shape
    N = T0 + max_new_tokens
    W = min(N, model.context_length)  # the model always sees a window of W tokens (a fixed shape)
    buf = jnp.concatenate([idx, jnp.zeros((B, max_new_tokens), idx.dtype)], axis=1)  # (B, N)

    def step(buf, inputs):
        pos, k = inputs  # the next token goes to buf[:, pos]
        start = jnp.clip(pos - W, 0, N - W)
        window = jax.lax.dynamic_slice_in_dim(buf, start, W, axis=1)  # (B, W); causal: later zeros are unseen
        logits = model.apply(params, state, window)[0]  # (B, W, V)
        logits = jax.lax.dynamic_index_in_dim(logits, pos - 1 - start, axis=1, keepdims=False)  # (B, V)
        logits = top_k_logits(logits, top_k)
        if temperature > 0.0:
            nxt = jax.random.categorical(k, logits / temperature, axis=-1)
        else:
            nxt = jnp.argmax(logits, axis=-1)
        buf = jax.lax.dynamic_update_slice_in_dim(buf, nxt[:, None].astype(buf.dtype), pos, axis=1)
        return buf, None

    positions = jnp.arange(T0, N)
    buf, _ = jax.lax.scan(step, buf, (positions, jax.random.split(key, max_new_tokens)))
    return buf


def generate(model, params, idx, max_new_tokens: int, *, key, temperature: float = 1.0, top_k: int | None = None,
             state=None):
    """Append ``max_new_tokens`` tokens to ``idx``, each sampled from softmax(top_k(logits)/temperature).

    The lecture's generate(model, idx, max_new_tokens, context_size, temperature, top_k): the model sees the
    last context_length tokens; temperature=0 takes the argmax (greedy). Compiled once per (model, shapes,
    max_new_tokens, temperature, top_k): the loop over tokens is a lax.scan over a fixed-size buffer.

    Args:
      idx: (B, T0) or (T0,) integer prompt ids, T0 ≥ 1. key: a jax.random key.
    Returns:
      (B, T0 + max_new_tokens) ids (or 1-D for a 1-D prompt).
    """
    idx = jnp.asarray(idx)
    squeeze = idx.ndim == 1
    idx = idx[None] if squeeze else idx
    if idx.ndim != 2 or idx.shape[1] < 1 or not jnp.issubdtype(idx.dtype, jnp.integer):
        raise ValueError(f"generate: idx must be (B, T0) or (T0,) integer ids with T0 ≥ 1; got shape "
                         f"{jnp.shape(idx)} dtype {idx.dtype}")
    if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"generate: max_new_tokens must be a positive int; got {max_new_tokens!r}")
    if temperature < 0:
        raise ValueError(f"generate: temperature must be ≥ 0 (0 = greedy); got {temperature}")
    if top_k is not None and not 1 <= top_k <= model.vocab_size:
        raise ValueError(f"generate: top_k must be in [1, vocab_size={model.vocab_size}] or None; got {top_k}")
    if key is None:
        raise ValueError("generate: pass key=jax.random.key(seed)")
    out = _generate(model, params, {} if state is None else state, idx, key, max_new_tokens, float(temperature),
                    top_k)
    return out[0] if squeeze else out
