"""``nn.bind``: call a module's named children inside its ``apply`` as torch's ``forward`` calls ``self.fc1(x)``.

The pattern for a custom module that composes children under torch's names: a frozen dataclass whose fields
are the children (``fc1: nn.Linear``), an ``init`` that is ``nn.init_children(self, key, dtype)`` and an
``apply`` that binds itself::

    def apply(self, params, state, x, *, training=False, key=None):
        m = nn.bind(self, params, state, training=training, key=key)
        return m.fc2(jax.nn.relu(m.fc1(x))), m.state

``m.fc1(x)`` applies child "fc1" to ``params["fc1"]`` and its current state, with the key split for it as
``init_children`` splits (one per child, in order); ``m.layers[0]`` / ``m.heads["a"]`` reach into a
ModuleList / ModuleDict / Sequential child, and ``m["name"]`` any child. ``m.state`` is the new state of every
child (unchanged for children not called). A child called twice shares its weights, as in torch: the second
call sees the state the first returned, and gets its own key (``fold_in(key, call_number)``).
The bound object lives only inside one ``apply`` (it collects the children's new state as they run).
"""
from __future__ import annotations

import jax

from jaxdl.nn._container import named_children
from jaxdl.nn._module import split_keys


class _Tape:
    """The children's state so far and how often each was called: shared by one bind and its sub-binds."""

    def __init__(self, state):
        self.state = state
        self.calls: dict[tuple, int] = {}


def _get(tree, path):
    for name in path:
        tree = tree[name]
    return tree


def _set(tree, path, value):
    if not path:
        return value
    return {**tree, path[0]: _set(tree[path[0]], path[1:], value)}


class Bound:
    """A module with its params, state, mode and key: call it to apply it, index or ``.name`` it for children."""

    def __init__(self, module, params, state, *, training=False, key=None, _tape=None, _path=()):
        self._module, self._params, self._training, self._key = module, params, training, key
        self._tape = _Tape(state) if _tape is None else _tape
        self._path = _path

    @property
    def state(self):
        """The state of the bound module, with every child's new state."""
        return _get(self._tape.state, self._path)

    def __call__(self, *args, **kwargs):
        n = self._tape.calls.get(self._path, 0)
        self._tape.calls[self._path] = n + 1
        key = self._key if n == 0 or self._key is None else jax.random.fold_in(self._key, n)
        out, new = self._module.apply(self._params, self.state, *args, training=self._training, key=key, **kwargs)
        self._tape.state = _set(self._tape.state, self._path, new)
        return out

    def _child(self, name):
        children = named_children(self._module)
        names = [n for n, _ in children]
        if name not in names:
            raise AttributeError(f"{type(self._module).__name__} has no child {name!r}; children: {names}")
        i = names.index(name)
        return Bound(children[i][1], self._params[name], None, training=self._training,
                     key=split_keys(self._key, len(children))[i], _tape=self._tape, _path=(*self._path, name))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, idx):
        if isinstance(idx, str):
            return self._child(idx)
        names = [n for n, _ in named_children(self._module)]
        if not -len(names) <= idx < len(names):
            raise IndexError(f"index {idx} is out of range for {type(self._module).__name__} of length {len(names)}")
        return self._child(names[idx])

    def __len__(self):
        return len(named_children(self._module))

    def __iter__(self):
        return (self._child(n) for n, _ in named_children(self._module))


def bind(module, params, state, *, training=False, key=None) -> Bound:
    """``module`` bound to ``(params, state)``, mode and key, for applying its children inside its ``apply``.

    Example:
      >>> import dataclasses, jax, jax.numpy as jnp
      >>> from jaxdl import nn, interop
      >>> @dataclasses.dataclass(frozen=True)
      ... class Net(nn.Module):  # torch: self.fc1 = nn.Linear(2, 5); self.fc2 = nn.Linear(5, 1)
      ...     fc1: nn.Linear
      ...     fc2: nn.Linear
      ...     def init(self, key, dtype=jnp.float32):
      ...         return nn.init_children(self, key, dtype)
      ...     def apply(self, params, state, x, *, training=False, key=None):
      ...         m = nn.bind(self, params, state, training=training, key=key)
      ...         return m.fc2(jax.nn.relu(m.fc1(x))), m.state
      >>> net = Net(nn.Linear(2, 5), nn.Linear(5, 1))
      >>> params, state = net.init(jax.random.key(0))
      >>> list(interop.flatten(params))
      ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
      >>> jax.jit(net.apply)(params, state, jnp.ones((3, 2)))[0].shape
      (3, 1)
    """
    return Bound(module, params, state, training=training, key=key)
