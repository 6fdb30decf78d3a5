"""Atomic checkpoints of a TrainState (plus a small JSON-able dict) with flax.serialization."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile

import jax
import numpy as np
from flax import serialization

CORRUPT_MSG = ("checkpoint {path} is truncated or corrupt ({err}); it was not loaded. Delete it or restore a copy, "
               "or start over (fit's resume=False; jaxdl train without --resume)")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded: truncated, corrupt, or made for another model/optimizer."""


def _is_typed_key(x) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _raw_keys(state):
    # msgpack cannot hold typed PRNG keys: store their raw uint32 data.
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_typed_key(x) else x, state)


def save_checkpoint(path, state, extra: dict | None = None) -> None:
    """Write ``state`` (and ``extra``, any JSON-able dict) to ``path`` atomically.

    The bytes go to a temporary file in the same folder, which is fsynced and then ``os.replace``d onto
    ``path``: a crash mid-write leaves the previous checkpoint untouched. Counterpart of ``torch.save``.
    A SHA-256 of the state and extra is stored beside them, so ``load_checkpoint`` also catches corrupted
    bytes that still parse (a flipped bit in a weight), not only truncation.
    """
    state_dict = serialization.to_state_dict(jax.device_get(_raw_keys(state)))
    extra_json = json.dumps(extra or {})
    payload = {"state": state_dict, "extra": extra_json, "sha256": _digest(state_dict, extra_json)}
    write_atomically(path, serialization.msgpack_serialize(payload))


def write_atomically(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part.

    The bytes go to a temporary file in the same folder, fsynced, then ``os.replace``d onto ``path``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _digest(state_dict, extra_json: str) -> str:
    """SHA-256 of the msgpack bytes of the state dict, then of the extra JSON (msgpack round trips exactly)."""
    h = hashlib.sha256(serialization.msgpack_serialize(state_dict))
    h.update(extra_json.encode() if isinstance(extra_json, str) else repr(extra_json).encode())
    return h.hexdigest()


def load_checkpoint(path, target):
    """Read a checkpoint written by ``save_checkpoint`` into the structure of ``target`` (a TrainState).

    Returns ``(state, extra)``. Raises FileNotFoundError when missing, CheckpointError (a ValueError) when the
    file is truncated, corrupt or does not match ``target``'s structure (the message names the file).
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        payload = serialization.msgpack_restore(data)
        if not isinstance(payload, dict) or set(payload) - {"sha256"} != {"state", "extra"}:
            got = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"expected keys ['extra', 'sha256', 'state'], got {got}")
        if "sha256" in payload and payload["sha256"] != _digest(payload["state"], payload["extra"]):
            raise ValueError("its SHA-256 does not match its contents")  # files written before the digest: no check
        extra = json.loads(payload["extra"])
    except Exception as err:  # msgpack raises several unrelated types on bad bytes
        raise CheckpointError(CORRUPT_MSG.format(path=path, err=f"{type(err).__name__}: {err}")) from err
    template = _raw_keys(target)
    try:
        restored = serialization.from_state_dict(template, payload["state"])
        _check_shapes(template, restored)
    except ValueError as err:
        raise CheckpointError(f"checkpoint {path} does not match this model/optimizer: {err}") from err
    leaves, treedef = jax.tree.flatten(target)
    new = [jax.random.wrap_key_data(np.asarray(r), impl=jax.random.key_impl(t)) if _is_typed_key(t)
           else np.asarray(r, dtype=np.asarray(t).dtype) for t, r in zip(leaves, jax.tree.leaves(restored))]
    return jax.tree.unflatten(treedef, new), extra


def _check_shapes(template, restored) -> None:
    paths = jax.tree_util.tree_flatten_with_path(template)[0]
    for (p, t), r in zip(paths, jax.tree.leaves(restored)):
        if np.shape(t) != np.shape(r):
            raise ValueError(f"{jax.tree_util.keystr(p)}: expected shape {np.shape(t)}, got {np.shape(r)}")
