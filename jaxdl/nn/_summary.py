"""``nn.summary``: a per-layer table of a model (names, types, parameter shapes and counts), as torchinfo prints."""
from __future__ import annotations

import math
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from jaxdl.nn._container import ModuleDict, ModuleList, Sequential, named_children
from jaxdl.nn._shapes import init_shapes

_NONE = "--"


def _size(tree) -> int:
    return sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(tree))


def _own(params) -> list[tuple[str, tuple]]:
    return [(k, tuple(v.shape)) for k, v in params.items() if not isinstance(v, Mapping)]


def _count(own) -> str:
    """The parameters of the tensors a row lists: the rows add up to the total."""
    return f"{sum(math.prod(shape) for _, shape in own):,}"


def _shapes(own) -> str:
    return ", ".join(f"{k} {s}" for k, s in own) or _NONE


def _out(module, params, state, x):
    """The output's shape(s) by jax.eval_shape (no FLOPs), or None when the input is not known."""
    if x is None or isinstance(module, (ModuleList, ModuleDict)):  # no forward of their own, as in torch
        return None
    return jax.eval_shape(lambda p, s, x: module.apply(p, s, x)[0], params, state, x)


def _fmt_out(out) -> str:
    if out is None:
        return _NONE
    shapes = [tuple(o.shape) for o in jax.tree.leaves(out)]
    return str(shapes[0]) if len(shapes) == 1 else ", ".join(map(str, shapes))


def _rows(name, module, params, state, x, depth, rows):
    out = _out(module, params, state, x)
    children = named_children(module)
    own = _own(params)
    label = "  " * depth + (f"{name} ({type(module).__name__})" if name else type(module).__name__)
    grouping = children or len(own) < len(params)  # has children, or nested parameter dicts
    rows.append((label, _fmt_out(out), _shapes(own), _count(own) if own or not grouping else _NONE))
    if children:
        h = x if isinstance(module, Sequential) else None  # only a Sequential's children have known inputs
        for child_name, child in children:
            h_child = _rows(child_name, child, params[child_name], state[child_name], h, depth + 1, rows)
            h = h_child if isinstance(module, Sequential) else None
    else:  # a leaf with nested parameters (MultiheadAttention's out_proj, GPT's blocks): one row per sub-dict
        _nested_rows(params, depth + 1, rows)
    return out


def _nested_rows(params, depth, rows):
    for k, v in params.items():
        if isinstance(v, Mapping) and _size(v):
            own = _own(v)
            rows.append(("  " * depth + k, _NONE, _shapes(own), _count(own) if own else _NONE))
            _nested_rows(v, depth + 1, rows)


def summary(model, input_shape=None, *, input_dtype=jnp.float32) -> str:
    """A per-layer table: name (type), output shape, parameter shapes, parameter count; totals below.

    Torch counterpart: ``torchinfo.summary(model, input_size)``; the total is torch's
    ``sum(p.numel() for p in model.parameters())``. Shapes come from ``jax.eval_shape`` (nothing is
    computed or allocated). Output shapes need ``input_shape`` and are shown for the model and for the
    children of a Sequential (a custom module's children show "--": their inputs are its business).
    Buffers (BatchNorm's running stats) are counted apart, as they are not parameters.

    Args:
      model: a jaxdl.nn module. input_shape: e.g. ``(batch, features)``, or None for no output shapes.
      input_dtype: the input's dtype (``jnp.int32`` for token ids).

    Example:
      >>> from jaxdl import nn
      >>> print(nn.summary(nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1)), (8, 2)))
      Layer (type)  Output shape  Param shapes              Params
      ------------------------------------------------------------
      Sequential    (8, 1)        --                            --
        0 (Linear)  (8, 5)        weight (5, 2), bias (5,)      15
        1 (ReLU)    (8, 5)        --                             0
        2 (Linear)  (8, 1)        weight (1, 5), bias (1,)       6
      ------------------------------------------------------------
      Total params: 21 (84 B)
      Buffers: 0
    """
    params, state = init_shapes(model)
    x = None if input_shape is None else jax.ShapeDtypeStruct(tuple(input_shape), input_dtype)
    rows = []
    _rows("", model, params, state, x, 0, rows)
    head = ("Layer (type)", "Output shape", "Param shapes", "Params")
    if x is None:
        rows, head = [(r[0], r[2], r[3]) for r in rows], (head[0], head[2], head[3])
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(r):
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths)] + [r[-1].rjust(widths[-1])]
        return "  ".join(cells).rstrip()

    rule = "-" * len(line(head))
    nbytes = sum(math.prod(p.shape) * jnp.dtype(p.dtype).itemsize for p in jax.tree.leaves(params))
    return "\n".join([line(head), rule, *map(line, rows), rule, f"Total params: {_size(params):,} ({_bytes(nbytes)})",
                      f"Buffers: {_size(state):,}"])


def _bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
