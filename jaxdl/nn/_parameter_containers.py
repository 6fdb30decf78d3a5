"""ParameterList and ParameterDict, as torch.nn's parameter containers.

Design: a jaxdl spec holds no arrays (it must stay hashable, a static jit argument), so where torch's containers
hold tensors these hold one ``ParameterSpec`` per entry: its shape, dtype (None: init's dtype) and initialiser
``init(key, shape, dtype)`` (default zeros; e.g. ``functools.partial(nn.init.normal_, std=0.02)``). An entry is
given as a shape, a ``(shape, init)`` pair, a ``jax.ShapeDtypeStruct`` or a ParameterSpec. ``init(key)`` gives
params ``{"0": array, "1": ...}`` (ParameterDict: its keys), torch's state_dict names, nested under the owner's
field name as torch's. To start from given values, as ``torch.nn.ParameterList([t0, t1])``:
``spec, params = nn.ParameterList.from_values([a0, a1])`` (the spec records their shapes and dtypes, params are
the values). Neither has a forward (as torch's): the owner's apply indexes ``params[name]["0"]``.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

import jax
import jax.numpy as jnp

from jaxdl.nn import init as nn_init
from jaxdl.nn._container import ByName
from jaxdl.nn._module import Module, split_keys, unchecked


@dataclasses.dataclass(frozen=True)
class ParameterSpec:
    """One parameter of a ParameterList/ParameterDict: ``init(key, shape, dtype)`` of ``shape`` in ``dtype`` (None:
    the dtype ``init`` is called with)."""

    shape: tuple
    dtype: str | None = None
    init: Callable = nn_init.zeros_

    def __post_init__(self):
        shape = (self.shape,) if isinstance(self.shape, int) else self.shape
        if not isinstance(shape, (tuple, list)) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise TypeError(f"ParameterSpec: shape must be an int or a tuple of non-negative ints; got {self.shape!r}")
        object.__setattr__(self, "shape", tuple(shape))
        if self.dtype is not None:
            object.__setattr__(self, "dtype", jnp.dtype(self.dtype).name)
        if not callable(self.init):
            raise TypeError(f"ParameterSpec: init must be a callable init(key, shape, dtype); got {self.init!r}")

    def make(self, key, dtype):
        return self.init(key, self.shape, dtype=jnp.dtype(self.dtype or dtype))


def _entry(owner: str, value) -> ParameterSpec:
    """A ParameterSpec from what the constructor was given (see the module docstring); arrays are refused."""
    if isinstance(value, ParameterSpec):
        return value
    if isinstance(value, jax.ShapeDtypeStruct):
        return ParameterSpec(tuple(value.shape), value.dtype)
    if isinstance(value, int) or (isinstance(value, tuple) and all(isinstance(d, int) for d in value)):
        return ParameterSpec(value)
    if isinstance(value, tuple) and len(value) == 2 and callable(value[1]):
        return ParameterSpec(value[0], init=value[1])
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        raise TypeError(f"{owner}: a jaxdl spec holds no arrays; got an array of shape {tuple(value.shape)}. Give "
                        f"its shape (and an initialiser), or start from values with "
                        f"spec, params = nn.{owner}.from_values(...)")
    raise TypeError(f"{owner}: an entry must be a shape, a (shape, init) pair, a jax.ShapeDtypeStruct or a "
                    f"ParameterSpec; got {type(value).__name__}")


def _values(owner: str, values, names) -> tuple[dict, dict]:
    """``(entries, params)`` of given arrays: their shapes/dtypes as specs, the arrays as params."""
    arrays = [v.detach().cpu().numpy() if hasattr(v, "detach") else v for v in values]  # a torch tensor too
    arrays = [jnp.asarray(a) for a in arrays]
    return ({n: ParameterSpec(tuple(a.shape), a.dtype) for n, a in zip(names, arrays)},
            dict(zip(names, arrays)))


@dataclasses.dataclass(frozen=True, init=False)
class _Parameters(Module):
    """Named ParameterSpecs, immutable: ``names[i]`` is the state_dict name of ``specs[i]``."""

    names: tuple
    specs: tuple

    def _set(self, pairs):
        pairs = [(n, _entry(type(self).__name__, v)) for n, v in pairs]
        object.__setattr__(self, "names", tuple(n for n, _ in pairs))
        object.__setattr__(self, "specs", tuple(s for _, s in pairs))

    def __len__(self):
        return len(self.specs)

    def init(self, key, dtype=jnp.float32):
        keys = split_keys(key, len(self.specs))
        return {n: s.make(k, dtype) for n, s, k in zip(self.names, self.specs, keys)}, {}

    @unchecked
    def apply(self, params, state, *args, training=False, key=None):
        raise TypeError(f"{type(self).__name__} has no forward (as torch's): index params[...] in the apply of "
                        f"the module that holds it")


@dataclasses.dataclass(frozen=True, init=False)
class ParameterList(_Parameters):
    """torch.nn.ParameterList(values=None): parameters "0", "1", ... (see the module docstring for the entries).

    ``len``, indexing (the ParameterSpec), iteration; ``append``/``extend`` return a NEW ParameterList (torch: in
    place). ``ParameterList.from_values(arrays)`` returns ``(spec, params)`` holding the given values.
    """

    def __init__(self, values: Iterable | None = None):
        self._set((str(i), v) for i, v in enumerate(values or ()))

    @classmethod
    def from_values(cls, values: Iterable) -> tuple[ParameterList, dict]:
        """``(spec, params)``: a ParameterList of the arrays' shapes and dtypes, and the arrays as its params."""
        values = list(values)
        specs, params = _values(cls.__name__, values, [str(i) for i in range(len(values))])
        return cls(specs.values()), params

    def __getitem__(self, idx: int) -> ParameterSpec:
        return self.specs[idx]

    def __iter__(self):
        return iter(self.specs)

    def append(self, value) -> ParameterList:
        return ParameterList([*self.specs, value])

    def extend(self, values: Iterable) -> ParameterList:
        return ParameterList([*self.specs, *values])


@dataclasses.dataclass(frozen=True, init=False)
class ParameterDict(ByName, _Parameters):
    """torch.nn.ParameterDict(parameters=None): parameters under their keys, in insertion order (see the module
    docstring for the entries).

    ``d[key]`` (the ParameterSpec), ``in``, ``len``, iteration over the keys, ``keys``/``values``/``items``;
    ``update`` returns a NEW ParameterDict (torch: in place). ``ParameterDict.from_values(mapping)`` returns
    ``(spec, params)`` holding the given values.
    """

    _what = ("parameter", "keys")

    def __init__(self, parameters: Mapping | Iterable | None = None):
        pairs = list(parameters.items() if isinstance(parameters, Mapping) else parameters or ())
        for name, _ in pairs:
            if not isinstance(name, str) or not name or "." in name:
                raise KeyError(f"ParameterDict: a key must be a non-empty string without '.' (a state_dict name); "
                               f"got {name!r}")
        self._set(dict(pairs).items())

    @classmethod
    def from_values(cls, parameters: Mapping) -> tuple[ParameterDict, dict]:
        """``(spec, params)``: a ParameterDict of the arrays' shapes and dtypes, and the arrays as its params."""
        specs, params = _values(cls.__name__, parameters.values(), list(parameters))
        return cls(specs), params

    def values(self):
        return self.specs

    def update(self, parameters: Mapping | Iterable) -> ParameterDict:
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        return ParameterDict({**dict(self.items()), **dict(pairs)})
