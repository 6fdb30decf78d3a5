"""``from_torch``: a torch.nn module -> jaxdl ``(model, params, state)``, structurally where it can.

A module built only of torch.nn classes that ``jaxdl.nn`` has (and Sequential, ModuleList, ModuleDict of them,
nested) converts structurally: each spec is the jaxdl dataclass of the same name, its fields read from the torch
module's same-named attributes (torch keeps its constructor arguments as attributes: ``in_features``,
``kernel_size``, ``eps``, ``momentum``, ``batch_first``, ...), a bool field such as ``bias`` from whether the
torch parameter exists, tensors as numpy arrays, child modules converted in turn; ``_EXCEPTIONS`` lists the few
fields torch does not keep under the constructor's name. ``params``/``state`` are the torch ``state_dict``
through ``load_state_dict``, names unchanged. No example input is needed.

Anything else (a class jaxdl lacks, a subclass that overrides a method, a module with hooks) goes to the one
fallback point ``_export_fallback`` (graph capture with torch.export). A setting jaxdl cannot express is refused
with jaxdl's own message, prefixed by the torch class and the submodule's path. torch is imported only inside
functions.
"""
from __future__ import annotations

import dataclasses

from jaxdl import nn
from jaxdl.interop._state_dict import load_state_dict, to_numpy

# jaxdl.nn names that are not torch.nn layer classes: never a structural counterpart
_NOT_LAYERS = frozenset({"Module", "LazyModule", "Bound", "DataParallel"})
# fields torch folds into another at construction (size_average/reduce into reduction): the jaxdl default
_FOLDED = frozenset({"size_average", "reduce"})


class NotStructural(Exception):
    """A submodule that cannot convert structurally: its path, its torch class and why."""

    def __init__(self, path: str, cls: type, why: str):
        super().__init__(f"torch module {cls.__module__}.{cls.__qualname__} at {path or '<root>'!r}: {why}")
        self.path, self.cls, self.why = path, cls, why


def _torch_nn():
    import torch  # noqa: PLC0415

    return torch.nn


def _counterpart(module) -> tuple[str, type]:
    """``(name, jaxdl class)`` for a torch module that converts structurally, else raise NotStructural(why)."""
    tnn = _torch_nn()
    cls = type(module)
    for base in cls.__mro__:
        name = base.__name__
        if getattr(tnn, name, None) is base and name not in _NOT_LAYERS and name in nn.__all__:
            break
    else:
        raise NotStructural("", cls, "jaxdl.nn has no counterpart of this class")
    for sub in cls.__mro__[:cls.__mro__.index(base)]:  # a subclass may only add an __init__
        own = [k for k, v in vars(sub).items() if k != "__init__" and (callable(v) or isinstance(
            v, (property, staticmethod, classmethod)))]
        if own:
            raise NotStructural("", cls, f"a subclass of torch.nn.{name} that defines {own} (custom behaviour)")
    if any(type(p).__name__ == "UninitializedParameter" for p in module.parameters(recurse=False)):
        raise NotStructural("", cls, "a lazy module not materialised yet: run one forward in torch first (its "
                                     "parameters do not exist until then)")
    hooks = [h for h in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
             if getattr(module, h, None)]
    if hooks:
        raise NotStructural("", cls, f"has hooks ({', '.join(hooks)}) that a structural conversion would drop")
    return name, getattr(nn, name)


def _is_tensor(x) -> bool:
    return hasattr(x, "detach") and hasattr(x, "shape")


def _function_spec(fn, path):
    """torch's F.relu / F.gelu (the activation a Transformer layer keeps when given one by name) as jaxdl's name."""
    import torch.nn.functional as F  # noqa: PLC0415, N812

    for name, torch_fn in (("relu", F.relu), ("gelu", F.gelu)):
        if fn is torch_fn:
            return name
    raise NotStructural(path, type(fn), f"{fn!r}: expected a torch.nn module, or F.relu / F.gelu (a Transformer "
                                        f"layer's activation)")


def _same_layers(stack, convert, path):
    """The one layer spec of a TransformerEncoder/Decoder: every layer must convert to the same spec."""
    specs = [convert(layer, f"{path}.layers.{i}") for i, layer in enumerate(stack.layers)]
    if any(s != specs[0] for s in specs):
        raise NotStructural(path, type(stack), "its layers differ in configuration; jaxdl's stack repeats one "
                                               "layer spec")
    return specs[0]


def _layer_fields(layer, convert, path):
    """TransformerEncoderLayer/DecoderLayer's constructor arguments, read from its submodules."""
    return {"d_model": layer.self_attn.embed_dim, "nhead": layer.self_attn.num_heads,
            "dim_feedforward": layer.linear1.out_features, "dropout": layer.dropout.p,
            "activation": convert(layer.activation, f"{path}.activation"), "layer_norm_eps": layer.norm1.eps,
            "batch_first": layer.self_attn.batch_first, "bias": layer.linear1.bias is not None}


def _transformer_fields(tm, convert, path):
    enc, dec = tm.encoder, tm.decoder
    tnn = _torch_nn()
    if type(enc) is not tnn.TransformerEncoder or type(dec) is not tnn.TransformerDecoder:
        raise NotStructural(path, type(tm), "a custom encoder or decoder: convert it on its own")
    layer = _same_layers(enc, convert, f"{path}.encoder")
    if enc.norm is None or dec.norm is None:
        raise NotStructural(path, type(tm), "an encoder or decoder without its final norm")
    return {"num_encoder_layers": len(enc.layers), "num_decoder_layers": len(dec.layers),
            **{f: getattr(layer, f) for f in ("dim_feedforward", "dropout", "activation", "layer_norm_eps",
                                             "norm_first", "bias")}}


# per torch class: the fields torch does not keep under the constructor's name, as functions of
# (torch module, convert(child, path), path)
_EXCEPTIONS = {
    "MultiheadAttention": lambda m, c, p: {"bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None},
    "PReLU": lambda m, c, p: {"init_value": m.init},  # torch's init: only the initial weight (the state_dict's)
    "TransformerEncoderLayer": _layer_fields,
    "TransformerDecoderLayer": _layer_fields,
    "TransformerEncoder": lambda m, c, p: {"encoder_layer": _same_layers(m, c, p)},
    "TransformerDecoder": lambda m, c, p: {"decoder_layer": _same_layers(m, c, p)},
    "Transformer": _transformer_fields,
    # torch keeps cutoffs with n_classes appended
    "AdaptiveLogSoftmaxWithLoss": lambda m, c, p: {"cutoffs": tuple(m.cutoffs[:-1])},
}

# torch arguments read under another jaxdl name by _EXCEPTIONS
_RENAMED = {"PReLU": {"init"}}


def _value(value, field, convert, path):
    """A torch attribute as the jaxdl field's value: a module converted, a tensor as numpy (or, for a bool field
    such as ``bias``, whether it exists), sequences element by element."""
    tnn = _torch_nn()
    if field.type in (bool, "bool") and (value is None or _is_tensor(value)):
        return value is not None
    if isinstance(value, tnn.Module):
        return convert(value, path)
    if _is_tensor(value):
        return to_numpy(value)
    if isinstance(value, (tuple, list)):  # torch.Size, kernel sizes, normalized_shape
        return tuple(_value(v, field, convert, path) for v in value)
    return value


def _container(module, convert, path):
    tnn = _torch_nn()
    pairs = [(name, convert(child, f"{path}.{name}" if path else name)) for name, child in module.named_children()]
    if isinstance(module, tnn.Sequential):
        from collections import OrderedDict  # noqa: PLC0415

        return nn.Sequential(OrderedDict(pairs))
    if isinstance(module, tnn.ModuleList):
        return nn.ModuleList([m for _, m in pairs])
    return nn.ModuleDict(pairs)


def to_spec(module, path: str = ""):
    """The jaxdl spec of a torch module, structurally and without its weights (see the module docstring); torch's
    F.relu / F.gelu (a Transformer layer's activation) as "relu" / "gelu". Raises NotStructural naming the first
    submodule (by its dotted path) that cannot convert, ValueError for a setting jaxdl refuses. Public as
    ``interop.spec_from_torch`` (parity's module_db adapter reads torch's constructor arguments with it)."""
    if not isinstance(module, _torch_nn().Module):
        return _function_spec(module, path)

    def convert(child, child_path):
        return to_spec(child, child_path)

    try:
        name, jcls = _counterpart(module)
    except NotStructural as e:
        raise NotStructural(path, e.cls, e.why) from None
    if name in ("Sequential", "ModuleList", "ModuleDict"):  # or a subclass that only adds an __init__
        return _container(module, convert, path)
    given = _EXCEPTIONS.get(name, lambda m, c, p: {})(module, convert, path)
    kwargs = {}
    for field in dataclasses.fields(jcls):
        if not field.init:
            continue
        if field.name in given:
            kwargs[field.name] = given[field.name]
        elif hasattr(module, field.name):
            kwargs[field.name] = _value(getattr(module, field.name), field,
                                        convert, f"{path}.{field.name}" if path else field.name)
        elif field.name in _FOLDED or (name in _EXCEPTIONS and field.default is not dataclasses.MISSING):
            continue  # torch folded it into another field, or the exception table left it at its default
        else:
            raise NotStructural(path, type(module), f"torch keeps no attribute {field.name!r} for jaxdl.nn.{name}")
    _check_unexpressed(module, name, jcls, path)
    try:
        return jcls(**kwargs)
    except (ValueError, TypeError, NotImplementedError) as e:
        raise ValueError(f"from_torch: torch.nn.{name} at {path or '<root>'!r} has a setting jaxdl.nn.{name} "
                         f"refuses: {e}") from None


def _check_unexpressed(module, name: str, jcls, path: str):
    """Refuse a torch constructor argument that jaxdl.nn's class does not have, set away from torch's default:
    jaxdl would silently compute torch's default instead."""
    import inspect  # noqa: PLC0415

    fields = {f.name for f in dataclasses.fields(jcls)} | _RENAMED.get(name, set())
    for arg in inspect.signature(getattr(_torch_nn(), name).__init__).parameters.values():
        if arg.name in fields or arg.name in ("self", "device", "dtype") or arg.default is inspect.Parameter.empty \
                or not hasattr(module, arg.name):
            continue
        value = getattr(module, arg.name)  # a parameter-presence flag (bias=False) is a tensor/None here: the
        # state_dict shows it (a missing key in from_torch's load)
        if isinstance(value, (bool, int, float, str)) and value != arg.default:
            raise ValueError(f"from_torch: torch.nn.{name} at {path or '<root>'!r} has {arg.name}={value!r}; "
                             f"jaxdl.nn.{name} has no {arg.name!r} argument (it computes torch's default "
                             f"{arg.name}={arg.default!r})")


def _export_fallback(module, args, kwargs, why: NotStructural | None = None):
    """The one fallback for a module that does not convert structurally: graph capture (torch.export) and replay
    with jaxdl's ops (``_export.convert_exported``), which needs the example inputs."""
    if not args and not kwargs:
        raise NotImplementedError(f"from_torch: cannot convert structurally: {why}; it converts by graph capture "
                                  f"(torch.export), which needs example inputs: from_torch(module, x, ...)")
    from jaxdl.interop._export import convert_exported  # noqa: PLC0415

    return convert_exported(module, args, kwargs)


def from_torch(module, *example_args, **example_kwargs):
    """A torch.nn module -> jaxdl ``(model, params, state)`` with torch's numbers and torch's state_dict names.

    Structurally (the module docstring) when every submodule is a torch.nn class jaxdl has, with no example input
    needed; otherwise through ``_export_fallback`` with the example inputs. ``params``/``state`` keep the
    state_dict's float dtype (a float64 module needs ``jax.enable_x64(True)``). A torch loss module (a jaxdl
    function spec without params) comes back with empty params and state and its weight as a field.
    Export back with ``interop.state_dict(params, state, module=model)``: torch loads it with strict=True.

    Example:
      >>> import torch
      >>> from jaxdl import interop
      >>> tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(approximate="tanh"))
      >>> model, params, state = interop.from_torch(tm)
      >>> model
      Sequential(
        (0): Linear(in_features=3, out_features=4, bias=True)
        (1): GELU(approximate='tanh')
      )
    """
    try:
        model = to_spec(module)
    except NotStructural as why:
        return _export_fallback(module, example_args, example_kwargs, why)
    if not isinstance(model, nn.Module):  # a loss: a function spec, no params
        return model, {}, {}
    try:
        params, state = load_state_dict(model, module.state_dict())
    except ValueError as e:  # a torch setting jaxdl.nn has no argument for (GroupNorm(..., bias=False))
        raise ValueError(f"from_torch: the jaxdl spec read from {type(module).__name__} does not hold its state_dict "
                         f"(a torch setting jaxdl.nn does not have, such as GroupNorm's bias=False): {e}") from None
    return model, params, state
