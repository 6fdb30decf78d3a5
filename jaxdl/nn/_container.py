"""Sequential, ModuleList and ModuleDict, as torch.nn's containers, and the named-children helpers.

A container holds its children's names and specs; ``init`` splits one key per child, in order, and nests the
children's params/state under their names, so ``interop.flatten`` gives torch's state_dict keys
(``first.weight``, ``0.bias``). Unlike torch the specs are frozen: ``add_module``, ``append``, ``extend``,
``insert`` and ``update`` return a NEW container and leave the old one as it was.
"""
from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

import jax.numpy as jnp

from jaxdl.nn._module import Module, init_children, named_children, split_keys, unchecked


def _check_child(owner, name, module):
    """torch.nn.Module.add_module's checks, with its messages (tests/nn/test_container.py compares them)."""
    if not isinstance(module, Module):
        what = f"argument {name}" if isinstance(name, str) and name.isdigit() else f"child {name!r}"
        raise TypeError(f"{type(owner).__name__}: {what} must be a jaxdl.nn module; got "
                        f"{type(module).__name__} (a torch module? build the jaxdl one and load its state_dict)")
    if not isinstance(name, str):
        raise TypeError(f"module name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise KeyError(f'module name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError('module name can\'t be empty string ""')
    if hasattr(type(owner), name) or name in ("names", "layers"):
        raise KeyError(f"attribute '{name}' already exists")


@dataclasses.dataclass(frozen=True, init=False)
class _Container(Module):
    """Named children, immutable: ``names[i]`` is the state_dict prefix of ``layers[i]``."""

    names: tuple
    layers: tuple

    def _children(self):
        return tuple(zip(self.names, self.layers))

    def _set_children(self, pairs):
        pairs = list(pairs)
        for name, m in pairs:
            _check_child(self, name, m)
        object.__setattr__(self, "names", tuple(name for name, _ in pairs))
        object.__setattr__(self, "layers", tuple(m for _, m in pairs))

    def _replace(self, pairs):
        new = object.__new__(type(self))
        new._set_children(pairs)
        return new

    def __len__(self):
        return len(self.layers)

    def __getattr__(self, name):  # children by name, as torch's ``seq.first``; only called for unknown attributes
        names = self.__dict__.get("names", ())
        if name in names:
            return self.layers[names.index(name)]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute or child {name!r}; children: "
                             f"{list(names)}")

    def _index(self, idx) -> int:
        size = len(self)
        idx = operator.index(idx)
        if not -size <= idx < size:
            raise IndexError(f"index {idx} is out of range for {type(self).__name__} of length {size}")
        return idx % size

    def __setitem__(self, idx, module):
        raise TypeError(f"{type(self).__name__} is a frozen spec: build a new one, e.g. with add_module(name, "
                        f"module), which returns a new {type(self).__name__}")

    __delitem__ = __setitem__

    def named_children(self):
        """``(name, child)`` pairs, in order."""
        return named_children(self)

    def add_module(self, name: str, module: Module):
        """A NEW container with ``module`` under ``name`` (replacing, in place, a child of that name).

        Differs from torch: returns the new container instead of registering the child on this one.
        """
        pairs = list(zip(self.names, self.layers))
        if name in self.names:
            pairs[self.names.index(name)] = (name, module)
        else:
            pairs.append((name, module))
        return self._replace(pairs)

    def init(self, key, dtype=jnp.float32):
        return init_children(self, key, dtype)

    @unchecked
    def apply(self, params, state, input, *, training=False, key=None):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: as in torch it only '
            f"holds children; apply them inside your module's apply, e.g. with nn.bind(self, params, state, "
            f"training=training, key=key) and m.layers[i](x)")

    def __repr__(self):
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in zip(self.names, self.layers)]
        return f"{type(self).__name__}(" + ("\n" + "\n".join(lines) + "\n" if lines else "") + ")"


class _Numbered(_Container):
    """Sequential and ModuleList's list-like growth."""

    def append(self, module: Module):
        """A NEW container with ``module`` appended under the name ``str(len(self))`` (torch: appends in place)."""
        return self.add_module(str(len(self)), module)

    def extend(self, modules: Iterable[Module]):
        """A NEW container with ``modules`` appended (torch: extends in place)."""
        new = self
        for m in modules:
            new = new.append(m)
        return new

    def __iter__(self):
        return iter(self.layers)


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class Sequential(_Numbered):
    """Apply modules in order, as torch.nn.Sequential(*modules) or torch.nn.Sequential(OrderedDict(...)).

    Children are named "0", "1", ... or by the OrderedDict's keys: params/state are {"first": ..., ...}, so the
    state_dict keys are ``first.weight``. Indexing, slicing (keeps the names), ``len``, iteration and ``seq.first``
    as in torch. ``add_module``/``append``/``extend`` return a NEW Sequential (torch grows the module in place).

    Example:
      >>> from collections import OrderedDict
      >>> import jax
      >>> from jaxdl import nn, interop
      >>> seq = nn.Sequential(OrderedDict([("first", nn.Linear(2, 5)), ("act", nn.ReLU())]))
      >>> seq = seq.add_module("second", nn.Linear(5, 1))  # a new Sequential: rebind the name
      >>> list(interop.flatten(seq.init(jax.random.key(0))[0]))
      ['first.weight', 'first.bias', 'second.weight', 'second.bias']
      >>> len(seq), seq.second, seq[-1] == seq.second
      (3, Linear(in_features=5, out_features=1, bias=True), True)
    """

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            self._set_children(modules[0].items())
        else:
            if len(modules) == 1 and isinstance(modules[0], Mapping):
                raise TypeError("Sequential: pass an OrderedDict for named children, as torch "
                                f"(got a {type(modules[0]).__name__})")
            self._set_children((str(i), m) for i, m in enumerate(modules))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(zip(self.names, self.layers))[idx]))
        return self.layers[self._index(idx)]

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def apply(self, params, state, input, *, training=False, key=None):
        new_state = {}
        for name, m, k in zip(self.names, self.layers, split_keys(key, len(self.layers))):
            input, new_state[name] = m.apply(params[name], state[name], input, training=training, key=k)
        return input, new_state


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class ModuleList(_Numbered):
    """A list of modules, as torch.nn.ModuleList: children "0", "1", ...; no apply of its own (as torch's forward).

    Hold it as a field of a custom module and apply its children there (see ``nn.bind``). ``append``,
    ``extend``, ``insert`` return a NEW ModuleList; a slice is a ModuleList renumbered from "0", as torch's.
    """

    def __init__(self, modules: Iterable[Module] | None = None):
        self._set_children((str(i), m) for i, m in enumerate(modules or ()))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(self.layers[idx])
        return self.layers[self._index(idx)]

    def __add__(self, other):
        return ModuleList([*self, *other])

    def insert(self, index: int, module: Module):
        """A NEW ModuleList with ``module`` before ``index`` (torch: inserts in place)."""
        layers = list(self.layers)
        layers.insert(index, module)
        return ModuleList(layers)


class ByName:
    """Dict-style access to a container's ``names`` and their ``values()``: ``d[name]``, ``in``, iteration over
    the names, ``keys``/``items`` (ModuleDict, ParameterDict)."""

    _what = ("child", "children")  # the words of the KeyError

    def values(self) -> tuple:
        raise NotImplementedError

    def __getitem__(self, name: str):
        if name not in self.names:
            raise KeyError(f"{type(self).__name__} has no {self._what[0]} {name!r}; {self._what[1]}: "
                           f"{list(self.names)}")
        return self.values()[self.names.index(name)]

    def __contains__(self, name):
        return name in self.names

    def __iter__(self):
        return iter(self.names)

    def keys(self):
        return self.names

    def items(self):
        return tuple(zip(self.names, self.values()))


@dataclasses.dataclass(frozen=True, init=False, repr=False)
class ModuleDict(ByName, _Container):
    """Modules by name, as torch.nn.ModuleDict, in insertion order; no apply of its own (as torch's forward).

    ``d["name"]``, ``in``, ``len``, iteration over the names, ``keys``/``values``/``items``;
    ``update(modules)`` and ``add_module`` return a NEW ModuleDict.
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        self._set_children(_pairs(modules))

    def values(self):
        return self.layers

    def update(self, modules):
        """A NEW ModuleDict with ``modules`` (a mapping or (name, module) pairs) added or replacing
        (torch: in place)."""
        new = self
        for name, m in _pairs(modules):
            new = new.add_module(name, m)
        return new


def _pairs(modules):
    if modules is None:
        return ()
    if isinstance(modules, Mapping):
        return tuple(modules.items())
    pairs = tuple(modules)
    for j, p in enumerate(pairs):
        if not isinstance(p, (tuple, list)) or len(p) != 2:
            raise ValueError(f"ModuleDict update sequence element #{j} should be a (name, module) pair; got {p!r}")
    return pairs
