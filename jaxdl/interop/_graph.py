"""An exported torch graph as hashable records, and its replay with jaxdl's ops (``_aten.TABLE``).

A ``Graph`` is a tuple of ``Node`` records (name, ATen op, arguments in schema order, the torch submodule it came
from) with ``Ref`` for the value of an earlier node or input, ``DType`` for a torch dtype and ``Array`` for a
tensor constant (its bytes): plain values, so a graph compares and hashes by value, pickles, and needs no torch
to replay. Two conversions of one module give equal graphs (jit reuses its compilation); an identity-keyed
wrapper around the ExportedProgram would not, and would keep torch objects alive inside a spec.
"""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.interop import _aten


@dataclasses.dataclass(frozen=True)
class Ref:
    """The value of the graph's node or input ``name``."""

    name: str


@dataclasses.dataclass(frozen=True)
class DType:
    """A torch dtype argument, by its name ('float32'); the replay hands the name to the op."""

    name: str


@dataclasses.dataclass(frozen=True)
class Array:
    """A tensor constant (a lifted ``torch.tensor(...)`` or a non-persistent buffer) as dtype, shape and bytes."""

    dtype: str
    shape: tuple
    data: bytes

    @classmethod
    def of(cls, value: np.ndarray) -> "Array":
        value = np.array(value, order="C")  # (np.ascontiguousarray makes a 0-dim tensor 1-dim)
        return cls(value.dtype.str, tuple(value.shape), value.tobytes())

    def value(self):
        return jnp.asarray(np.frombuffer(self.data, np.dtype(self.dtype)).reshape(self.shape))


class Node(NamedTuple):
    """One call: ``target`` ('aten.linear.default', or 'getitem'), its arguments (schema order, defaults in),
    ``where``: the torch submodule that called it, for error messages, and ``dtype``: its result's dtype."""

    name: str
    target: str
    args: tuple
    where: str
    dtype: str | None = None  # the dtype of torch's result at capture (for ``_aten.align``)


@dataclasses.dataclass(frozen=True, eq=True)
class Graph:
    """One exported program (training or eval mode).

    inputs: ``(placeholder, kind, target)`` with kind 'param' / 'buffer' / 'constant' (target: the state_dict or
    constant name) or 'input' (target: the user input's position). outputs: ``(value, kind, target)`` with kind
    'output' or 'buffer' (a buffer's new value: ``buffers_to_mutate``). out_tree: how the user outputs nest
    (``("leaf",)``, ``("tuple"|"list", children)``, ``("dict", keys, children)``).
    """

    inputs: tuple
    nodes: tuple
    outputs: tuple
    out_tree: tuple

    @functools.cached_property
    def _hash(self) -> int:  # the graph is hashed by jit's static-argument cache: once per graph, not per call
        return hash((self.inputs, self.nodes, self.outputs, self.out_tree))

    def __hash__(self) -> int:
        return self._hash

    @functools.cached_property
    def n_random(self) -> int:
        return sum(1 for node in self.nodes if _aten.lookup(node.target)[1])


def _resolve(value, env):
    if isinstance(value, Ref):
        return env[value.name]
    if isinstance(value, DType):
        return value.name
    if isinstance(value, Array):
        return value.value()
    if isinstance(value, tuple):
        return tuple(_resolve(v, env) for v in value)
    return value


def run(graph: Graph, values: dict[str, Any], key) -> tuple[list, dict[str, Any]]:
    """Replay ``graph`` on ``values`` (placeholder name → array): ``(user outputs, {buffer name: new value})``.
    The random ops take ``key`` split once per op, in graph order."""
    env = dict(values)
    keys = iter(jax.random.split(key, graph.n_random)) if key is not None and graph.n_random else iter(())
    for node in graph.nodes:
        fn, random, elementwise = _aten.lookup(node.target)
        args = _resolve(node.args, env)
        if elementwise:
            args = _aten.align(args, node.dtype)
        try:
            env[node.name] = fn(*args, key=next(keys, None)) if random else fn(*args)
        except Exception as exc:
            exc.add_note(f"(replaying {node.target}, called in {node.where})")
            raise
    outputs, updates = [], {}
    for value, kind, target in graph.outputs:
        if kind == "output":
            outputs.append(_resolve(value, env))
        else:
            updates[target] = _resolve(value, env)
    return outputs, updates


def unflatten_outputs(tree: tuple, leaves: list):
    """The user outputs nested as the torch module returned them (``Graph.out_tree``)."""
    leaves = iter(leaves)

    def build(t):
        if t[0] == "leaf":
            return next(leaves)
        if t[0] == "dict":
            return {k: build(c) for k, c in zip(t[1], t[2])}
        children = [build(c) for c in t[1]]
        return tuple(children) if t[0] == "tuple" else children

    return build(tree)
