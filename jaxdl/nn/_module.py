"""The module protocol and torch's default initialisers.

A module is a frozen dataclass whose fields are the torch constructor's arguments. It holds no arrays:
  params, state = module.init(key)
  y, state = module.apply(params, state, x, training=False, key=None)
``params`` and ``state`` are nested dicts whose '.'-joined paths are torch's state_dict keys.

Every subclass's ``apply`` is wrapped once (``Module.__init_subclass__``) so that the outermost ``apply`` checks
``params`` and ``state`` against the spec's ``init`` (names, shapes, kinds of dtype) before running: torch's
``load_state_dict`` says "size mismatch" where JAX would broadcast a wrong-sized weight into a wrong answer.
The check reads shapes only, in Python, so under ``jax.jit`` it runs once per trace and costs nothing per call.
"""
from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Mapping

import jax
import jax.numpy as jnp

from jaxdl.nn import init
from jaxdl.nn._shapes import init_shapes


_inside = threading.local()  # depth of checked applies running on this thread: children of a checked apply skip it


_EMPTY = jax.ShapeDtypeStruct((0,), jnp.float32)  # an empty sub-dict (a stateless child's): a leaf that must be there


def _leaves(tree, prefix=()):
    """``{path: leaf}`` of a nested dict (a non-mapping ``tree`` is one leaf at ``prefix``; an empty sub-dict is
    the leaf ``_EMPTY``, as the containers index it)."""
    if not isinstance(tree, Mapping):
        return {prefix: tree}
    if not tree and prefix:
        return {prefix: _EMPTY}
    out = {}
    for k, v in tree.items():
        out.update(_leaves(v, (*prefix, k)))
    return out


def _kind(dtype) -> str:
    """The family a dtype must keep (floating, integer, bool, complex, key): widths may differ (bf16 or float64
    params apply, as ``init(key, dtype)`` makes them), families may not."""
    for kind, family in (("floating", jnp.floating), ("integer", jnp.integer), ("bool", jnp.bool_),
                         ("complex", jnp.complexfloating)):
        if jnp.issubdtype(dtype, family):
            return kind
    return str(dtype)


@functools.lru_cache(maxsize=256)
def _spec_leaves(module) -> tuple[dict, dict]:
    return tuple(_leaves(t) for t in init_shapes(module))


def check_params(module, params, state) -> None:
    """Raise ValueError naming every parameter/buffer path whose name, shape or dtype family differs from
    ``module.init``'s, in one line (torch's load_state_dict: "size mismatch for weight: copying a param with
    shape torch.Size([4, 10]) from checkpoint, the shape in current model is torch.Size([3, 10])").

    Runs in Python on shapes only (tracers included): under jit once per trace. The empty sub-dicts of
    stateless children must be there, as the containers index them; ``state=None`` stands for ``{}``.
    """
    try:
        spec = _spec_leaves(module)
    except TypeError:  # an unhashable spec (a field holding a list or array): not cached
        spec = tuple(_leaves(t) for t in init_shapes(module))
    problems = []
    for what, tree, expected in zip(("params", "state"), (params, {} if state is None else state), spec):
        if not isinstance(tree, Mapping):
            problems.append(f"{what} must be a dict (as {type(module).__name__}.init returns); got "
                            f"{type(tree).__name__}")
            continue
        given = {path: leaf for path, leaf in _leaves(tree).items() if path}
        for path in expected.keys() - given.keys():
            shown = "an empty dict" if expected[path] is _EMPTY else f"shape {tuple(expected[path].shape)}"
            problems.append(f"{what} {'.'.join(path)!r} is missing ({shown})")
        for path in given.keys() - expected.keys():
            problems.append(f"{what} {'.'.join(path)!r} is unexpected")
        for path in expected.keys() & given.keys():
            want, got = expected[path], given[path]
            if (want is _EMPTY) != (got is _EMPTY):
                problems.append(f"{what} {'.'.join(path)!r}: expected "
                                f"{'an empty dict' if want is _EMPTY else 'an array'}, got "
                                f"{'an empty dict' if got is _EMPTY else type(got).__name__}")
                continue
            shape, dtype = tuple(jnp.shape(got)), jnp.result_type(got)
            if shape != tuple(want.shape):
                problems.append(f"size mismatch for {'.'.join(path)}: expected shape {tuple(want.shape)}, "
                                f"got {shape}")
            elif _kind(dtype) != _kind(want.dtype):
                problems.append(f"{'.'.join(path)}: expected a {_kind(want.dtype)} array, got dtype {dtype}")
    if problems:
        shown = "; ".join(sorted(problems)[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise ValueError(f"{type(module).__name__}.apply: params/state do not fit the spec ({len(problems)} "
                         f"problem(s)): {shown}")


_forward_hooks: dict[int, object] = {}  # id -> hook(module, params, args, output), as torch's global forward hooks


class RemovableHandle:
    """What ``register_module_forward_hook`` returns: ``handle.remove()`` unregisters the hook (torch's name)."""

    def __init__(self, hook_id: int):
        self.id = hook_id

    def remove(self):
        _forward_hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def register_module_forward_hook(hook) -> RemovableHandle:
    """Call ``hook(module, params, args, output)`` after every module's ``apply``, as torch's
    ``torch.nn.modules.module.register_module_forward_hook`` calls ``hook(module, input, output)`` after every
    forward. ``params`` tells which submodule ran (the sub-dict of the model's params it was given); ``output``
    is apply's first result. Runs in Python: under ``jax.jit`` once per trace, with tracers. The returned handle's
    ``remove()`` (or a ``with`` block) unregisters it. For inspection (``interop.compare``), not for training.
    """
    handle = RemovableHandle(max(_forward_hooks, default=0) + 1)
    _forward_hooks[handle.id] = hook
    return handle


def _checked(apply):
    """``apply`` that first checks its params/state, unless it runs inside an apply that checked them already;
    then the forward hooks, if any are registered."""

    @functools.wraps(apply)
    def checked_apply(self, params, state, *args, **kwargs):
        depth = getattr(_inside, "depth", 0)
        if depth == 0:
            check_params(self, params, state)
        _inside.depth = depth + 1
        try:
            result = apply(self, params, state, *args, **kwargs)
        finally:
            _inside.depth = depth
        for hook in list(_forward_hooks.values()):
            hook(self, params, args, result[0])
        return result

    checked_apply.__wrapped_apply__ = apply
    return checked_apply


def unchecked(apply):
    """Mark an ``apply`` that must not be wrapped with the check (one that only raises, as a container's)."""
    apply.__wrapped_apply__ = apply
    return apply


class Module:
    """Base of every jaxdl.nn module: a stateless, parameterless default for init.

    A subclass's own ``apply`` is wrapped with the params/state check (see the module docstring).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "apply" in cls.__dict__ and not hasattr(cls.__dict__["apply"], "__wrapped_apply__"):
            cls.apply = _checked(cls.__dict__["apply"])

    def init(self, key, dtype=jnp.float32):
        """Return ``(params, state)``: by default the children's (``nn.init_children``), nested under their
        names; both empty for modules without children, parameters or buffers."""
        return init_children(self, key, dtype)

    def _children(self) -> tuple:
        """``(name, child)`` pairs: the dataclass fields that hold a module, in field order (containers override)."""
        if not dataclasses.is_dataclass(self):
            return ()
        return tuple((f.name, getattr(self, f.name)) for f in dataclasses.fields(self)
                     if isinstance(getattr(self, f.name), Module))

    def apply(self, params, state, input, *, training: bool = False, key=None):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{type(self).__name__} is a spec, not a function: call "
                        "module.apply(params, state, x, training=..., key=...) "
                        "with (params, state) = module.init(key)")


def named_children(module) -> tuple[tuple[str, Module], ...]:
    """``(name, child)`` pairs in order, as torch's ``module.named_children()``.

    A container's children; for any other dataclass module, its fields that hold a jaxdl.nn module, in field
    order (a custom module composes children by declaring them as fields). Leaves (Linear, ...) have none.
    """
    return module._children() if isinstance(module, Module) else ()


def init_children(module, key, dtype=jnp.float32):
    """``(params, state)`` nested under the children's names: one key per child, split in order.

    The whole ``init`` of a custom module whose children are its fields: ``return nn.init_children(self, key, dtype)``.
    """
    children = named_children(module)
    params, state = {}, {}
    for (name, child), k in zip(children, split_keys(key, len(children))):
        params[name], state[name] = child.init(k, dtype)
    return params, state


def module(cls):
    """Class decorator: a frozen, hashable dataclass spec (usable as a static jit argument)."""
    return dataclasses.dataclass(frozen=True)(cls)


def uniform(key, shape, bound, dtype=jnp.float32):
    """U(−bound, bound): ``init.uniform_(key, shape, -bound, bound)``, e.g. torch's bias init (bound = 1/√fan_in)."""
    return init.uniform_(key, shape, -bound, bound, dtype)


def split_keys(key, n: int):
    """n keys from ``key``, or n Nones when key is None (eval, or a model without randomness)."""
    if key is None:
        return [None] * n
    return list(jax.random.split(key, n))
