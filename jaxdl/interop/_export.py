"""Any torch module with a custom ``forward`` as a jaxdl model: captured with ``torch.export``, replayed in jaxdl.

``convert_exported(module, args, kwargs) -> (model, params, state)``: the module is exported (non-strict) twice,
in training and in eval mode (its own ``training`` flags are restored afterwards), each program decomposed with
``run_decompositions({})`` (which keeps aten.linear, aten.relu, ... whole, and turns training-mode BatchNorm into
``_native_batch_norm_legit_functional`` with the running-stat updates named in ``buffers_to_mutate``). ``model``
is an ``ExportedModel`` spec holding both graphs as records (``_graph``); ``params``/``state`` are the module's
parameters and persistent buffers under their state_dict names, so ``interop.state_dict(params, state)`` loads
back into the module with ``strict=True``.

Dimension 0 of every tensor input is exported as one dynamic batch dimension (``torch.export.Dim``), so any batch
size ≥ 2 replays; where the forward fixes the batch size (a ``view(8, -1)``), or the example's batch is 1 (torch
specialises sizes 0 and 1), the export is static and another batch size needs a re-export with an example of it:
``apply`` says so. torch is imported only inside ``convert_exported``.
"""
from __future__ import annotations

import dataclasses
import inspect
import operator
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import nn
from jaxdl.interop import _aten
from jaxdl.interop._graph import Array, DType, Graph, Node, Ref, run, unflatten_outputs
from jaxdl.interop._state_dict import flatten, to_numpy, unflatten


@dataclasses.dataclass(frozen=True)
class ExportedModel(nn.Module):
    """A torch module's exported forward, replayed with jaxdl's ops: the module protocol's init/apply.

    ``apply(params, state, *inputs, training=False, key=None, **kw_inputs)`` replays the training-mode graph
    (batch statistics, running-stat updates as the new state, dropout drawing from ``key``, split once per random
    op) or the eval-mode graph, and returns ``(output, new_state)``; output nests as the torch forward's. Each
    torch submodule call's outputs go to the hooks of ``_graph.submodule_hook`` (``interop.compare``'s rows).

    ``init(key, dtype)`` returns zeros of the module's parameter and buffer names and shapes (floating ones in
    ``dtype``): a custom forward's initialisers cannot be read off a graph, so the values come from
    ``convert_exported`` (the torch module's own) or from a state_dict (``interop.load_state_dict``).
    Tied parameters (one tensor under several state_dict names) are one entry of ``params``, under their first
    name; ``tied`` lists the other names, which ``interop.state_dict(..., module=model)`` writes back and
    ``interop.load_state_dict`` reads (both names must hold the same values).
    torch counterpart: the module itself, ``module.train()(x)`` / ``module.eval()(x)``.
    """

    name: str  # the torch class, for messages
    train_graph: Graph
    eval_graph: Graph
    params: tuple  # (state_dict name, shape, dtype name), in state_dict order
    buffers: tuple  # the persistent buffers, likewise
    input_shapes: tuple  # per user input: its shape with None for the dynamic batch dimension
    kw_names: tuple = ()  # the keyword inputs, in export order, after the positional ones
    tied: tuple = ()  # (alias, name): state_dict entries that are another's tensor (``interop.state_dict``)

    def init(self, key, dtype=jnp.float32):
        def zeros(entries):
            return unflatten({name: jnp.zeros(shape, dtype if jnp.issubdtype(np.dtype(kind), jnp.floating)
                                              else jax.dtypes.canonicalize_dtype(np.dtype(kind)))
                              for name, shape, kind in entries})

        return zeros(self.params), zeros(self.buffers)

    def apply(self, params, state, *inputs, training: bool = False, key=None, **kw_inputs):
        if sorted(kw_inputs) != sorted(self.kw_names):
            raise TypeError(f"{self.name}.apply: expected keyword inputs {list(self.kw_names)}, got "
                            f"{sorted(kw_inputs)}")
        inputs = (*inputs, *(kw_inputs[k] for k in self.kw_names))
        self._check_inputs(inputs)
        graph = self.train_graph if training else self.eval_graph
        flat_params, flat_state = flatten(params), flatten(state or {})
        values = {}
        for placeholder, kind, target in graph.inputs:
            values[placeholder] = (flat_params[target] if kind == "param" else flat_state[target] if kind == "buffer"
                                   else inputs[target] if kind == "input" else target.value())
        outputs, updates = run(graph, values, key)
        new_state = unflatten({name: updates.get(name, flat_state[name]) for name, _, _ in self.buffers})
        return unflatten_outputs(graph.out_tree, outputs), new_state

    def _check_inputs(self, inputs):
        if len(inputs) != len(self.input_shapes):
            raise TypeError(f"{self.name}.apply: expected {len(self.input_shapes)} input(s) as exported, got "
                            f"{len(inputs)}")
        for i, (x, want) in enumerate(zip(inputs, self.input_shapes)):
            shape = tuple(jnp.shape(x))
            if len(shape) != len(want) or any(w is not None and w != s for w, s in zip(want, shape)):
                fixed = all(w is not None for w in want)
                hint = (" (exported with a static batch: re-export with convert_exported on an example of this "
                        "batch size)" if fixed and len(shape) == len(want) and shape[1:] == want[1:] else "")
                shown = tuple("batch" if w is None else w for w in want)
                raise ValueError(f"{self.name}.apply: input {i} has shape {shape}, the export expects "
                                 f"{shown}{hint}")


# --- capture (torch imported here only) ------------------------------------------------------------------------
def convert_exported(module, args=(), kwargs=None):
    """``(model, params, state)`` for a torch module with any forward: ``torch.export`` in training and eval mode,
    replayed with jaxdl's torch-exact ops (see the module docstring).

    Args:
      module: a torch.nn.Module.
      args, kwargs: example inputs (tensors), as ``module(*args, **kwargs)`` takes them.
    Raises:
      NotImplementedError: naming each ATen op jaxdl has no mapping for and the torch submodule that called it.
    """
    import torch  # noqa: PLC0415  (torch is optional: imported by the conversion only)

    kwargs = dict(kwargs or {})
    args = tuple(args)
    inputs = [*args, *kwargs.values()]
    if not all(isinstance(x, torch.Tensor) for x in inputs):
        raise TypeError(f"convert_exported: the example inputs must be tensors; got "
                        f"{[type(x).__name__ for x in inputs]}")
    flags = {m: m.training for m in module.modules()}
    try:
        with warnings.catch_warnings():  # torch 2.13's own deprecation inside run_decompositions, not the caller's
            warnings.filterwarnings("ignore", r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning)
            # nn.LSTM/GRU/RNN re-assign their _flat_weights list in forward: torch's note on its own module
            warnings.filterwarnings("ignore", r"The tensor attributes .*_flat_weights.* were assigned during export",
                                    UserWarning)
            programs = {mode: _export(torch, module.train(mode == "train"), args, kwargs)
                        for mode in ("train", "eval")}
    finally:
        for m, flag in flags.items():
            m.training = flag
    dynamic = programs["train"][1] and programs["eval"][1]
    graphs = {mode: _graph(torch, ep) for mode, (ep, _) in programs.items()}
    missing = {}
    for graph in graphs.values():
        for node in graph.nodes:
            if _aten.lookup(node.target) is None:
                missing.setdefault(node.target, node.where)
    if missing:
        shown = "; ".join(f"{op} (called in {where})" for op, where in missing.items())
        raise NotImplementedError(f"convert_exported({type(module).__name__}): no jaxdl mapping for {shown}")
    sd = module.state_dict()
    tied = _tied(module, sd)
    graphs = {mode: _untie(graph, tied) for mode, graph in graphs.items()}
    param_names = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    own = [n for n in sd if n not in tied]

    def entries(names):
        return tuple((n, tuple(sd[n].shape), str(sd[n].dtype).removeprefix("torch.")) for n in names)

    model = ExportedModel(
        type(module).__name__, graphs["train"], graphs["eval"],
        entries([n for n in own if n in param_names]), entries([n for n in own if n not in param_names]),
        tuple((None, *x.shape[1:]) if dynamic and _batched(x) else tuple(x.shape) for x in inputs), tuple(kwargs),
        tuple(tied.items()))
    params = unflatten({n: jnp.asarray(to_numpy(sd[n])) for n, _, _ in model.params})
    state = unflatten({n: jnp.asarray(to_numpy(sd[n])) for n, _, _ in model.buffers})
    return model, params, state


def _tied(module, sd) -> dict[str, str]:
    """{alias: name}: the state_dict entries that are another entry's tensor (tied parameters, as
    transformers' lm_head.weight and transformer.wte.weight), each mapped to its first name in the state_dict
    (the one ``named_parameters()`` keeps)."""
    tensors = dict(module.named_parameters(remove_duplicate=False)) | dict(module.named_buffers(
        remove_duplicate=False))
    first, tied = {}, {}
    for name in sd:
        if name not in tensors:  # an entry a module's own _save_to_state_dict adds: never an alias
            continue
        canonical = first.setdefault(id(tensors[name]), name)
        if canonical != name:
            tied[name] = canonical
    return tied


def _untie(graph: Graph, tied: dict[str, str]) -> Graph:
    """The graph with its parameter and buffer inputs and buffer updates named by their first name (torch.export
    may pick an alias's)."""
    inputs = tuple((p, kind, tied.get(t, t) if kind in ("param", "buffer") else t) for p, kind, t in graph.inputs)
    outputs = tuple((v, kind, tied.get(t, t) if kind == "buffer" else t) for v, kind, t in graph.outputs)
    return dataclasses.replace(graph, inputs=inputs, outputs=outputs)


def _export(torch, module, args, kwargs):
    """``(ExportedProgram, dynamic)``: dim 0 of every input as one dynamic batch where the forward allows it."""
    bound = inspect.signature(module.forward).bind(*args, **kwargs).arguments
    sizes = sorted({x.shape[0] for x in bound.values() if isinstance(x, torch.Tensor) and x.dim()})
    dims = {n: torch.export.Dim(f"batch{i}") for i, n in enumerate(sizes)}  # inputs of one size share a Dim
    shapes = {name: {0: dims[x.shape[0]]} if isinstance(x, torch.Tensor) and _batched(x) else None
              for name, x in bound.items()}
    if any(s is not None for s in shapes.values()):
        try:
            ep = torch.export.export(module, args, kwargs, dynamic_shapes=shapes, strict=False)
            return ep.run_decompositions({}), True
        except torch._dynamo.exc.UserError as exc:  # the forward fixes a batch size: export it static
            if exc.error_type != torch._dynamo.exc.UserErrorType.CONSTRAINT_VIOLATION:
                raise
    return torch.export.export(module, args, kwargs, strict=False).run_decompositions({}), False


def _batched(x) -> bool:
    """Whether an example input's dim 0 is exported as a dynamic batch (torch specialises sizes 0 and 1)."""
    return x.dim() > 0 and x.shape[0] > 1


def _graph(torch, ep) -> Graph:
    """An ExportedProgram as a Graph of plain records."""
    from torch.export.graph_signature import InputKind, OutputKind  # noqa: PLC0415

    inputs, user = [], 0
    for spec in ep.graph_signature.input_specs:
        name = spec.arg.name
        if spec.kind == InputKind.PARAMETER:
            inputs.append((name, "param", spec.target))
        elif spec.kind == InputKind.BUFFER and spec.persistent:
            inputs.append((name, "buffer", spec.target))
        elif spec.kind in (InputKind.BUFFER, InputKind.CONSTANT_TENSOR):
            inputs.append((name, "constant", Array.of(to_numpy(ep.constants.get(spec.target, None)
                                                                if spec.target in ep.constants
                                                                else _buffer(ep, spec.target)))))
        elif spec.kind == InputKind.USER_INPUT:
            inputs.append((name, "input", user))
            user += 1
        else:
            raise NotImplementedError(f"convert_exported: graph input {name!r} of kind {spec.kind.name}")
    nodes = tuple(_node(torch, n) for n in ep.graph.nodes if n.op == "call_function")
    (output,) = [n for n in ep.graph.nodes if n.op == "output"]
    outputs = []
    for spec, value in zip(ep.graph_signature.output_specs, output.args[0]):
        if spec.kind == OutputKind.BUFFER_MUTATION:
            outputs.append((_value(torch, value), "buffer", spec.target))
        elif spec.kind == OutputKind.USER_OUTPUT:
            outputs.append((_value(torch, value), "output", None))
        else:
            raise NotImplementedError(f"convert_exported: graph output of kind {spec.kind.name}")
    return Graph(tuple(inputs), nodes, tuple(outputs), _tree(ep.call_spec.out_spec))


def _buffer(ep, target):
    """A non-persistent buffer's value (not in the state_dict: it stays a constant of the graph)."""
    return dict(ep.named_buffers())[target]


_OPERATORS = {getattr(operator, n): n for n in ("getitem", "mul", "add", "sub", "floordiv", "truediv", "neg", "mod",
                                                  "pow")}


_NO_MODULE = "_empty_nn_module_stack_from_metadata_hook"  # torch's stack entry for a node a pass added


def _node(torch, node) -> Node:
    module_stack = {k: v for k, v in node.meta.get("nn_module_stack", {}).items() if k != _NO_MODULE}
    stack = list(module_stack.values())
    path, cls = stack[-1] if stack else ("", "")
    where = f"submodule {path!r} ({cls})" if path else f"the top-level module's forward ({cls or 'torch'})"
    target = node.target
    if isinstance(target, torch._ops.OpOverload):
        schema = target._schema.arguments
        args = []
        for i, arg in enumerate(schema):
            if i < len(node.args):
                args.append(node.args[i])
            elif arg.name in node.kwargs:
                args.append(node.kwargs[arg.name])
            elif arg.has_default_value():
                args.append(arg.default_value)
            else:
                args.append(None)
        name = f"aten.{target._schema.name.split('::')[1]}.{target._overloadname}"
    else:
        name = _OPERATORS.get(target, getattr(target, "__name__", str(target)))
        args = list(node.args)
    val = node.meta.get("val")
    dtype = str(val.dtype).removeprefix("torch.") if isinstance(val, torch.Tensor) else None
    calls = tuple((call, path, getattr(cls, "__name__", str(cls)).rsplit(".", 1)[-1]) for call, (path, cls) in
                  module_stack.items() if path)
    return Node(node.name, name, _value(torch, tuple(args)), where, dtype, calls)


def _value(torch, value):
    """An fx argument as plain hashable data (Ref for another node, DType for a dtype; devices, layouts and
    memory formats dropped: the replay runs where JAX runs)."""
    if isinstance(value, torch.fx.Node):
        return Ref(value.name)
    if isinstance(value, (list, tuple)):
        return tuple(_value(torch, v) for v in value)
    if isinstance(value, torch.dtype):
        return DType(str(value).removeprefix("torch."))
    if isinstance(value, (torch.device, torch.layout, torch.memory_format)):
        return None
    if isinstance(value, torch.Tensor):
        return Array.of(to_numpy(value))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise NotImplementedError(f"convert_exported: an argument of type {type(value).__name__} ({value!r})")


def _tree(spec) -> tuple:
    """torch's output TreeSpec as nested tuples (no torch at replay)."""
    if spec.is_leaf():
        return ("leaf",)
    children = tuple(_tree(c) for c in spec.children())
    if issubclass(spec.type, dict):  # a dict subclass (OrderedDict, transformers' ModelOutput): a plain dict
        return ("dict", tuple(spec.context), children)
    if spec.type in (tuple, list):
        return (spec.type.__name__, children)
    raise NotImplementedError(f"convert_exported: the forward returns a {spec.type.__name__}; return a tensor, "
                              f"tuple, list or dict")
