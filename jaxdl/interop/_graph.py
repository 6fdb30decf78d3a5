"""An exported torch graph as hashable records, and its replay with jaxdl's ops (``_aten.TABLE``).

A ``Graph`` is a tuple of ``Node`` records (name, ATen op, arguments in schema order, the torch submodule it came
from) with ``Ref`` for the value of an earlier node or input, ``DType`` for a torch dtype and ``Array`` for a
tensor constant (its bytes): plain values, so a graph compares and hashes by value, pickles, and needs no torch
to replay. Two conversions of one module give equal graphs (jit reuses its compilation); an identity-keyed
wrapper around the ExportedProgram would not, and would keep torch objects alive inside a spec.

Submodule outputs: each node records the torch submodule calls it ran inside (``Node.stack``, from the export's
``nn_module_stack``). ``Graph.calls``, computed once per graph from the records alone, gives each call's outputs:
the values its nodes produce that a node outside the call uses, or that the model returns, counting only the
dataflow to the model's output (a buffer update, as BatchNorm's running statistics, is no output). ``run`` hands
them, after the node that completes the call, to the hooks registered with ``submodule_hook``, inner calls before
outer ones: the order torch's forward hooks fire in, once per call. That is the one hook point of a replay;
``interop.compare`` subscribes to it.
"""
from __future__ import annotations

import contextlib
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
    ``where``: the torch submodule that called it, for error messages, ``dtype``: its result's dtype, and
    ``stack``: the torch submodule calls it ran inside, outermost first, the top-level module left out, each as
    ``(call, path, class name)`` (call: the export's key, one per call: 'L__self__block.act@1')."""

    name: str
    target: str
    args: tuple
    where: str
    dtype: str | None = None  # the dtype of torch's result at capture (for ``_aten.align``)
    stack: tuple = ()


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

    @functools.cached_property
    def standardized(self) -> tuple[dict[int, tuple], frozenset]:
        """``({index of a division node: (x, dim, eps)}, names of the nodes it replaces)``: the written-out
        LayerNorms ``standardized_nodes`` finds, replayed by ``_aten.standardize``."""
        return standardized_nodes(self.nodes, self.outputs, self.calls)

    @functools.cached_property
    def calls(self) -> dict[int, tuple]:
        """``{node index: ((path, class name, output node names), ...)}``: the submodule calls that node
        completes, inner first (``submodule_calls``)."""
        return submodule_calls(self.nodes, self.outputs)


def _refs(value) -> list[str]:
    if isinstance(value, Ref):
        return [value.name]
    if isinstance(value, tuple):
        return [name for v in value for name in _refs(v)]
    return []


def submodule_calls(nodes: tuple, outputs: tuple) -> dict[int, tuple]:
    """Each torch submodule call's outputs (module docstring), keyed by the index of its last node.

    The dataflow to the model's output is the nodes the user outputs depend on, an op's ``_aten.STATE_ONLY_ARGS``
    not followed; a call's outputs are those of its tensor nodes on it that the model returns or a node on it
    outside the call uses, in graph order (sizes, as a ``batch * heads`` reused by a later layer, are none). A
    submodule returning equal-shaped tensors in another order than it computed them would be paired wrongly."""
    index = {node.name: i for i, node in enumerate(nodes)}

    def used(node):  # the names a node reads for its output
        skip = _aten.STATE_ONLY_ARGS.get(node.target.rsplit(".", 1)[0], ())
        return [name for i, a in enumerate(node.args) if i not in skip for name in _refs(a) if name in index]

    returned = {name for value, kind, _ in outputs if kind == "output" for name in _refs(value) if name in index}
    live, todo = set(), list(returned)
    while todo:
        name = todo.pop()
        if name not in live:
            live.add(name)
            todo += used(nodes[index[name]])
    users: dict[str, list[int]] = {}
    members: dict[str, list[int]] = {}
    about: dict[str, tuple] = {}
    for i, node in enumerate(nodes):
        if node.name in live:
            for name in used(node):
                users.setdefault(name, []).append(i)
        for depth, (call, path, cls) in enumerate(node.stack):
            members.setdefault(call, []).append(i)
            about[call] = (depth, path, cls)
    done: dict[int, list] = {}
    for call, inside in members.items():
        depth, path, cls = about[call]
        names = tuple(nodes[i].name for i in inside if nodes[i].name in live and not _is_size(nodes[i]) and (
            nodes[i].name in returned or any(u not in inside for u in users.get(nodes[i].name, ()))))
        done.setdefault(inside[-1], []).append((-depth, path, cls, names))
    return {i: tuple((path, cls, names) for _, path, cls, names in sorted(entries, key=lambda e: e[0]))
            for i, entries in done.items()}


def standardized_nodes(nodes: tuple, outputs: tuple, calls: dict) -> tuple[dict[int, tuple], frozenset]:
    """The written-out LayerNorms of a graph: ``div(sub(x, mean(x, d, keepdim)), sqrt(add(var(x, d, unbiased=False,
    keepdim), eps)))``, eps a positive number, whose inner nodes have no other use (no other node, no output, no
    submodule call's output reads them). Returns ``Graph.standardized``'s pair."""
    index = {node.name: i for i, node in enumerate(nodes)}
    uses: dict[str, int] = {}
    for node in nodes:
        for name in _refs(node.args):
            uses[name] = uses.get(name, 0) + 1
    kept = {name for value, _, _ in outputs for name in _refs(value)}
    kept |= {name for entries in calls.values() for _, _, names in entries for name in names}

    def inner(value, target):  # the node ``value`` refers to, if it is a ``target`` only this pattern reads
        if not isinstance(value, Ref) or value.name not in index or uses.get(value.name) != 1 or value.name in kept:
            return None
        node = nodes[index[value.name]]
        return node if node.target == target else None

    found, replaced = {}, set()
    for i, node in enumerate(nodes):
        if node.target != "aten.div.Tensor" or len(node.args) != 2:
            continue
        sub, sqrt = inner(node.args[0], "aten.sub.Tensor"), inner(node.args[1], "aten.sqrt.default")
        add = sqrt and inner(sqrt.args[0], "aten.add.Tensor")
        if not (sub and add and sub.args[2] == 1 and add.args[2] == 1 and isinstance(add.args[1], float)
                and add.args[1] > 0):
            continue
        mean, var = inner(sub.args[1], "aten.mean.dim"), inner(add.args[0], "aten.var.dim")
        x = sub.args[0]
        if (mean and var and mean.args[0] == x == var.args[0] and mean.args[2:] == (True, None)
                and tuple(mean.args[1]) == tuple(var.args[1]) and var.args[2:] == (False, True)
                and len({n.dtype for n in (mean, sub, var, add, sqrt, node)}) == 1):
            found[i] = (x, tuple(mean.args[1]), add.args[1])
            replaced |= {mean.name, sub.name, var.name, add.name, sqrt.name}
    return found, frozenset(replaced)


def _is_size(node: Node) -> bool:
    """A node whose result is a size (``aten.sym_size.int``, Python arithmetic on sizes), not a tensor."""
    return node.dtype is None and (node.target.startswith("aten.sym_") or not node.target.startswith("aten.")
                                   and node.target != "getitem")


_submodule_hooks: dict[int, Any] = {}


@contextlib.contextmanager
def submodule_hook(hook):
    """While inside the ``with`` block, every replay (``run``) calls ``hook(path, class name, outputs)`` after each
    torch submodule call it completes (module docstring), ``outputs`` a tuple of arrays (tracers under a
    transform). For inspection (``interop.compare``), as ``nn.register_module_forward_hook`` is for jaxdl's
    modules."""
    hook_id = max(_submodule_hooks, default=0) + 1
    _submodule_hooks[hook_id] = hook
    try:
        yield
    finally:
        _submodule_hooks.pop(hook_id, None)


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
    calls = graph.calls if _submodule_hooks else {}
    standardized, replaced = graph.standardized
    for i, node in enumerate(graph.nodes):
        if node.name in replaced:
            continue
        fn, random, elementwise = _aten.lookup(node.target)
        if i in standardized:
            fn, random, elementwise = _aten.standardize, False, False
        args = _resolve(standardized.get(i, node.args), env)
        if elementwise:
            args = _aten.align(args, node.dtype)
        try:
            env[node.name] = fn(*args, key=next(keys, None)) if random else fn(*args)
        except Exception as exc:
            exc.add_note(f"(replaying {node.target}, called in {node.where})")
            raise
        for path, cls, names in calls.get(i, ()):
            for hook in list(_submodule_hooks.values()):
                hook(path, cls, tuple(env[name] for name in names))
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
