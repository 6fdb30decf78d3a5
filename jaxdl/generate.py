"""Text generation from a GPT (or any model mapping (B, T) ids to (B, T, V) logits): a KV-cache prefill, then one
compiled step per token in a lax.while_loop over a fixed-size token buffer (no per-token recompiles; the window is
recomputed when the text outgrows the context).

``jaxdl sample`` (jaxdl/cli/_gpt.py) and the training recipe (jaxdl/experiment/_gpt.py) live elsewhere.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxdl.checks import check_positive_int, concrete_values


def top_k_logits(logits, top_k: int | None):
    """Keep the top_k largest logits per row and set the rest to −inf (ties with the k-th value are kept),
    as the lecture's generate(): logits < topk(logits, k)[..., -1] → −inf."""
    if top_k is None:
        return logits
    kth = jax.lax.top_k(logits, top_k)[0][..., -1:]  # (B, 1)
    return jnp.where(logits < kth, -jnp.inf, logits)


def top_p_logits(logits, top_p: float | None):
    """Nucleus filtering: keep the smallest set of most probable tokens whose probabilities sum to ≥ top_p
    (at least one; ties with its least probable member kept) and set the rest to −inf, as transformers'
    TopPLogitsWarper (a token goes when the tokens more probable than it already hold ≥ top_p)."""
    if top_p is None or top_p >= 1.0:
        return logits
    desc = -jnp.sort(-logits, axis=-1)  # (B, V), most probable first
    probs = jax.nn.softmax(desc, axis=-1)
    before = jnp.cumsum(probs, axis=-1) - probs  # probability of the tokens ranked above each one
    cutoff = jnp.min(jnp.where(before < top_p, desc, jnp.inf), axis=-1, keepdims=True)  # least kept logit
    return jnp.where(logits < cutoff, -jnp.inf, logits)


def _pick(logits, key, temperature, top_k, top_p):
    """The next token ids (B,) from logits (B, V): top-k, then temperature, then top-p (transformers' order;
    top-k commutes with the temperature), then a categorical draw; temperature 0 is the argmax."""
    logits = top_k_logits(logits, top_k)
    if temperature == 0.0:
        return jnp.argmax(logits, axis=-1)
    return jax.random.categorical(key, top_p_logits(logits / temperature, top_p), axis=-1)


@functools.partial(jax.jit, static_argnames=("model", "max_new_tokens", "temperature", "top_k", "top_p", "eos_id",
                                             "use_cache"))
def _generate(model, params, state, idx, key, max_new_tokens, temperature, top_k, top_p=None, eos_id=None,
              use_cache=False):
    B, T0 = idx.shape
    N = T0 + max_new_tokens
    W = min(N, model.context_length)  # without a cache the model always sees a window of W tokens (a fixed shape)
    pad = 0 if eos_id is None else eos_id  # unwritten positions: eos, so an early stop leaves eos after eos
    buf = jnp.concatenate([idx, jnp.full((B, max_new_tokens), pad, idx.dtype)], axis=1)  # (B, N)
    keys = jax.random.split(key, max_new_tokens)
    # Inside a loop XLA:CPU copies each loop-invariant (out, in) weight to the transposed layout its matmul wants
    # on every step (all 124M parameters of GPT-2 small per token). The loop body reads the weights through a
    # transpose of their transposes, made once here: XLA cancels the pair and the body needs no copy.
    flip = lambda tree: jax.tree_util.tree_map(lambda a: a.T if a.ndim == 2 else a, tree)
    flipped = flip(params)
    body_params = lambda: flip(flipped)

    if use_cache:  # prefill the prompt once; then each step feeds one token and reads the next logits
        cache = model.init_cache(B, N, params["tok_emb"]["weight"].dtype)
        logits, cache = model.decode(params, state, idx, cache, 0)
        aux = (logits[:, -1], cache)
        current = lambda aux, buf, pos: aux[0]

        def advance(aux, nxt, pos):
            logits, cache = model.decode(body_params(), state, nxt[:, None], aux[1], pos)
            return logits[:, 0], cache
    else:  # recompute the window that ends at pos − 1
        aux = ()

        def current(aux, buf, pos):
            start = jnp.clip(pos - W, 0, N - W)
            window = jax.lax.dynamic_slice_in_dim(buf, start, W, axis=1)  # (B, W); causal: later tokens unseen
            logits = model.apply(body_params(), state, window)[0]  # (B, W, V)
            return jax.lax.dynamic_index_in_dim(logits, pos - 1 - start, axis=1, keepdims=False)  # (B, V)
        advance = lambda aux, nxt, pos: aux

    def body(carry):
        i, buf, done, aux = carry
        pos = T0 + i  # the next token goes to buf[:, pos]
        nxt = _pick(current(aux, buf, pos), keys[i], temperature, top_k, top_p).astype(buf.dtype)
        if eos_id is not None:
            nxt = jnp.where(done, eos_id, nxt)
            done = done | (nxt == eos_id)
        buf = jax.lax.dynamic_update_slice_in_dim(buf, nxt[:, None], pos, axis=1)
        return i + 1, buf, done, advance(aux, nxt, pos)

    def cond(carry):  # a while_loop: stopping once every row has its eos costs no recompile
        i, _, done, _ = carry
        return (i < max_new_tokens) & ~jnp.all(done)

    return jax.lax.while_loop(cond, body, (0, buf, jnp.zeros((B,), bool), aux))[1]


def generate(model, params, idx, max_new_tokens: int, *, key, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, eos_id: int | None = None, use_cache: bool | None = None, state=None):
    """Append ``max_new_tokens`` tokens to ``idx``, each drawn from softmax(top_p(top_k(logits)/temperature)).

    The lecture's generate(model, idx, max_new_tokens, context_size, temperature, top_k), plus transformers'
    top_p (smallest set of tokens with probability ≥ top_p) and an end-of-text stop: once a row emits
    ``eos_id`` every later token of it is eos_id, and the loop ends when all rows have (no recompile).
    temperature=0 takes the argmax (greedy). Batched prompts are rows of one (B, T0) array (same length: no
    padding). With ``use_cache`` (default: when T0 + max_new_tokens ≤ context_length and the model has
    ``decode``) the prompt is run once
    through model.decode and each new token costs one step over a key/value cache; without it (or once the
    text outgrows the context, where learned positions make a cache invalid) the model recomputes the last
    context_length tokens for each new one, as the lecture does; a model without ``decode`` (nn.CharLSTM: any
    model whose apply maps (B, T) ids to (B, T, V) logits) always does. Compiled once per (model, shapes,
    options).

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
    ids = concrete_values(idx)
    if ids is not None and ids.size and not (0 <= ids.min() and ids.max() < model.vocab_size):
        bad = ids[(ids < 0) | (ids >= model.vocab_size)]
        raise ValueError(f"generate: idx holds ids outside [0, vocab_size={model.vocab_size}): "
                         f"{bad[:10].tolist()} (an embedding lookup would clamp them silently)")
    check_positive_int("generate: max_new_tokens", max_new_tokens)
    if not temperature >= 0:  # NaN too
        raise ValueError(f"generate: temperature must be ≥ 0 (0 = greedy); got {temperature}")
    if top_k is not None and not 1 <= top_k <= model.vocab_size:
        raise ValueError(f"generate: top_k must be in [1, vocab_size={model.vocab_size}] or None; got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"generate: top_p must be in (0, 1] or None; got {top_p}")
    if eos_id is not None and not 0 <= eos_id < model.vocab_size:
        raise ValueError(f"generate: eos_id must be in [0, vocab_size={model.vocab_size}) or None; got {eos_id}")
    if use_cache and not hasattr(model, "decode"):
        raise ValueError(f"generate: use_cache=True needs a model with init_cache/decode (a GPT); "
                         f"{type(model).__name__} has none (use_cache=False recomputes the window)")
    fits = idx.shape[1] + max_new_tokens <= model.context_length
    if use_cache and not fits:
        raise ValueError(f"generate: use_cache=True needs T0 + max_new_tokens ≤ context_length="
                         f"{model.context_length}; got {idx.shape[1]} + {max_new_tokens} (use_cache=False slides "
                         f"the window)")
    if key is None:
        raise ValueError("generate: pass key=jax.random.key(seed)")
    out = _generate(model, params, {} if state is None else state, idx, key, max_new_tokens, float(temperature),
                    top_k, None if top_p is None else float(top_p), eos_id,
                    fits and hasattr(model, "decode") if use_cache is None else use_cache)
    return out[0] if squeeze else out
