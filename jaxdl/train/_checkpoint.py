"""Self-describing, atomic, checksummed checkpoints of a TrainState with flax.serialization.

A file holds the state's arrays, ``extra`` (fit's bookkeeping: epoch, history, ...) and ``metadata`` (what the
file is: model spec/config, vocabulary, the run's config), all under one SHA-256. Every load goes through one
checked reader, ``read_checkpoint``: a missing, truncated, bit-flipped or foreign file raises CheckpointError
naming the file, never a msgpack/flax traceback, never a silently different weight.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import NamedTuple

import jax
import numpy as np
from flax import serialization

from jaxdl.checks import is_typed_key
from jaxdl.nn import init_shapes

CORRUPT_MSG = ("checkpoint {path} is truncated or corrupt ({err}); it was not loaded. Delete it or restore a copy, "
               "or start over (fit's resume=False; jaxdl train without --resume)")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded: missing, truncated, corrupt, or made for another model/optimizer."""


class Checkpoint(NamedTuple):
    """What ``read_checkpoint`` returns: the raw state dict (nested dicts of numpy arrays) and two JSON dicts."""
    state: dict
    extra: dict
    metadata: dict


def _raw_keys(state):
    # msgpack cannot hold typed PRNG keys: store their raw uint32 data.
    return jax.tree.map(lambda x: jax.random.key_data(x) if is_typed_key(x) else x, state)


def save_checkpoint(path, state, extra: dict | None = None, *, metadata: dict | None = None) -> None:
    """Write ``state``, ``extra`` and ``metadata`` (JSON-able dicts) to ``path`` atomically. Counterpart of
    ``torch.save``.

    The bytes go to a temporary file in the same folder, which is fsynced and then ``os.replace``d onto
    ``path``: a crash mid-write leaves the previous checkpoint untouched. A SHA-256 of the state, extra and
    metadata is stored beside them, so every reader also catches corrupted bytes that still parse (a flipped
    bit in a weight), not only truncation. ``metadata`` describes the file (e.g. ``{"model": spec, "vocab":
    ...}``) so a reader needs no side-car file; read it back with ``read_checkpoint_metadata``.
    """
    texts = {name: json_text(name, value) for name, value in (("extra", extra), ("metadata", metadata))}
    state_dict = serialization.to_state_dict(jax.device_get(_raw_keys(state)))
    payload = {"state": state_dict, **texts, "sha256": _digest(state_dict, texts["extra"], texts["metadata"])}
    write_atomically(path, serialization.msgpack_serialize(payload))


def json_text(name: str, value) -> str:
    """``value`` (a dict or None) as the JSON text a checkpoint stores; TypeError naming ``name`` otherwise."""
    if value is not None and not isinstance(value, dict):
        raise TypeError(f"checkpoint {name} must be a dict or None; got {type(value).__name__}")
    try:
        return json.dumps(value or {})
    except (TypeError, ValueError) as err:
        raise TypeError(f"checkpoint {name} must be JSON-serialisable: {err}") from err


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


def _digest(state_dict, extra_json: str, metadata_json: str | None) -> str:
    """SHA-256 of the msgpack bytes of the state dict, then of the extra and metadata JSON texts.

    ``metadata_json=None`` (files written before metadata existed) hashes as those files did.
    """
    h = hashlib.sha256(serialization.msgpack_serialize(state_dict))
    for text in (extra_json, metadata_json):
        if text is not None:
            h.update(text.encode() if isinstance(text, str) else repr(text).encode())
    return h.hexdigest()


def read_checkpoint(path) -> Checkpoint:
    """The one checked reader: ``Checkpoint(state, extra, metadata)`` from a file written by ``save_checkpoint``.

    ``state`` is the raw tree (nested dicts of numpy arrays, typed PRNG keys as their uint32 data). Raises
    CheckpointError naming ``path`` when the file is missing, unreadable, truncated, not a checkpoint, or its
    SHA-256 does not match its contents. Files from before metadata (or before the SHA-256) still load.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise CheckpointError(f"checkpoint {path} cannot be read ({type(err).__name__}: {err.strerror})") from err
    try:
        payload = serialization.msgpack_restore(data)
        if not isinstance(payload, dict) or set(payload) - {"sha256", "metadata"} != {"state", "extra"}:
            got = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"expected keys ['extra', 'metadata', 'sha256', 'state'], got {got}")
        if "sha256" in payload and payload["sha256"] != _digest(payload["state"], payload["extra"],
                                                                payload.get("metadata")):
            raise ValueError("its SHA-256 does not match its contents")  # files written before the digest: no check
        extra, metadata = (json.loads(payload.get(name) or "{}") for name in ("extra", "metadata"))
        if not isinstance(payload["state"], dict) or not isinstance(extra, dict) or not isinstance(metadata, dict):
            raise ValueError("its state, extra or metadata is not a dict")
    except Exception as err:  # msgpack raises several unrelated types on bad bytes
        raise CheckpointError(CORRUPT_MSG.format(path=path, err=f"{type(err).__name__}: {err}")) from err
    return Checkpoint(payload["state"], extra, metadata)


def read_checkpoint_metadata(path) -> dict:
    """The ``metadata`` dict saved with the checkpoint at ``path`` (checked like every load; {} if none was given)."""
    return read_checkpoint(path).metadata


def load_checkpoint(path, target):
    """Read the checkpoint at ``path`` into the structure of ``target`` (a TrainState); returns ``(state, extra)``.

    Leaves take ``target``'s dtypes (typed PRNG keys are rewrapped with ``target``'s key implementation).
    Raises CheckpointError (a ValueError) naming the file when it is missing, truncated, corrupt, or does not
    match ``target``'s structure or shapes.
    """
    ckpt = read_checkpoint(path)
    return _restore(path, target, ckpt.state, cast=True), ckpt.extra


def load_checkpoint_model(path, model, *, contents: Checkpoint | None = None):
    """``(params, model_state)`` of ``model`` from a fit checkpoint, when there is no optimizer to rebuild a state.

    The structure and shapes come from ``nn.init_shapes(model)`` (``jax.eval_shape``: nothing is computed);
    the arrays keep the dtypes they were saved in. Raises CheckpointError as ``load_checkpoint``. E.g. sampling
    from a trained GPT: ``model = GPT.from_config(read_checkpoint_metadata(p)["model"])``, then
    ``params, _ = load_checkpoint_model(p, model)``. ``contents``: the file as ``read_checkpoint(path)`` already
    returned it (then it is not read and hashed again).
    """
    ckpt = read_checkpoint(path) if contents is None else contents
    missing = [name for name in ("params", "model_state") if name not in ckpt.state]
    if missing:
        raise CheckpointError(f"checkpoint {path} holds no {missing[0]!r}: it is not a fit checkpoint "
                              f"(top-level keys {sorted(ckpt.state)})")
    template = dict(zip(("params", "model_state"), init_shapes(model)))
    restored = _restore(path, template, {name: ckpt.state[name] for name in template}, cast=False)
    return restored["params"], restored["model_state"]


def _restore(path, target, raw, *, cast: bool):
    """The raw state dict ``raw`` in ``target``'s structure, shapes checked; dtypes ``target``'s when ``cast``."""
    template = _raw_keys(target)
    try:
        restored = serialization.from_state_dict(template, raw)
        _check_shapes(template, restored)
    except ValueError as err:
        raise CheckpointError(f"checkpoint {path} does not match this model/optimizer: {err}") from err
    leaves, treedef = jax.tree.flatten(target)
    new = [jax.random.wrap_key_data(np.asarray(r), impl=jax.random.key_impl(t)) if is_typed_key(t)
           else np.asarray(r, dtype=np.asarray(t).dtype) if cast else np.asarray(r)
           for t, r in zip(leaves, jax.tree.leaves(restored))]
    return jax.tree.unflatten(treedef, new)


def _check_shapes(template, restored) -> None:
    paths = jax.tree_util.tree_flatten_with_path(template)[0]
    for (p, t), r in zip(paths, jax.tree.leaves(restored)):
        if np.shape(t) != np.shape(r):
            raise ValueError(f"{jax.tree_util.keystr(p)}: expected shape {np.shape(t)}, got {np.shape(r)}")
