"""Move weights between torch and jaxdl: a torch ``state_dict`` is jaxdl's ``(params, state)`` flattened with '.'.

jaxdl's params/state are nested dicts whose '.'-joined paths are torch's state_dict keys, so loading is
an unflatten plus checks. torch is never imported: tensors are read through ``.detach().cpu().numpy()``
(bfloat16 ones through float32, which holds them exactly).

dtype policy: floating-point entries keep the state_dict's float dtype (a float64 state_dict gives float64
params under ``jax.enable_x64(True)``; with x64 off it raises, rather than silently rounding to float32).
Integer buffers (``num_batches_tracked``) become JAX's default int (int32, or int64 under x64).

Tied entries: a module spec may name state_dict entries that are another entry's tensor in torch (tied
parameters, as a language model's output layer sharing the embedding) in its ``tied`` attribute, pairs
``(alias, name)``: ``params`` holds the tensor once, under ``name``; ``state_dict(..., module=)`` writes it under
both names and ``load_state_dict`` takes both (the same values: torch's load would keep whichever comes last).
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.nn import init_shapes

def flatten(tree: Mapping, sep: str = ".") -> dict[str, Any]:
    """Nested dict -> flat dict keyed by ``sep``-joined paths, in insertion (depth-first) order.

    Example: ``flatten({"0": {"weight": w}})`` is ``{"0.weight": w}``. Empty sub-dicts vanish.
    """
    out: dict[str, Any] = {}

    def visit(node, prefix):
        for k, v in node.items():
            if not isinstance(k, str) or sep in k or not k:
                raise ValueError(f"flatten: keys must be non-empty strings without {sep!r}; got {k!r} under "
                                 f"{prefix.rstrip(sep)!r}")
            if isinstance(v, Mapping):
                visit(v, f"{prefix}{k}{sep}")
            else:
                out[f"{prefix}{k}"] = v

    visit(tree, "")
    return out


def unflatten(flat: Mapping[str, Any], sep: str = ".") -> dict:
    """Flat dict keyed by ``sep``-joined paths -> nested dict; the inverse of :func:`flatten`."""
    out: dict = {}
    for name, value in flat.items():
        *path, leaf = name.split(sep)
        node = out
        for i, part in enumerate(path):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"unflatten: {name!r} needs {sep.join(path[:i + 1])!r} to be a dict, but it is a leaf")
        if leaf in node:
            raise ValueError(f"unflatten: {name!r} is both a leaf and a prefix of other keys")
        node[leaf] = value
    return out


def to_numpy(value) -> np.ndarray:
    """A torch tensor (read without importing torch; bfloat16 through float32) or an array -> a numpy copy."""
    if hasattr(value, "detach"):  # a torch tensor, read without importing torch
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # torch's .numpy() has no bfloat16; float32 holds it exactly
            return value.float().numpy().astype(jnp.bfloat16)
        value = value.numpy()
    # a copy: .numpy() shares torch's memory and jnp.asarray may alias it on CPU, so a later in-place
    # torch update (optimizer.step) would otherwise change the loaded jax arrays
    return np.array(value, copy=True)


def _convert(name: str, value: np.ndarray, expected, problems: list[str]):
    """One state_dict entry as a jax array of the policy's dtype; problems appended instead of raised."""
    want_float = jnp.issubdtype(expected.dtype, jnp.floating)
    if want_float and not jnp.issubdtype(value.dtype, jnp.floating):  # bfloat16's numpy kind is 'V', not 'f'
        problems.append(f"{name}: expected a floating-point array, got dtype {value.dtype}")
    elif not want_float and value.dtype.kind not in "iub":
        problems.append(f"{name}: expected an integer array, got dtype {value.dtype}")
    elif want_float and value.dtype.itemsize > 4 and not jax.config.jax_enable_x64:
        problems.append(f"{name}: dtype {value.dtype} needs x64; load inside `with jax.enable_x64(True):` "
                        f"or cast the state_dict to float32 first")
    else:
        return jnp.asarray(value, dtype=value.dtype if want_float else jax.dtypes.canonicalize_dtype(jnp.int64))
    return None


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` did not take from the state_dict, as torch's NamedTuple."""

    missing_keys: list[str]
    unexpected_keys: list[str]


def load_state_dict(module, state_dict: Mapping[str, Any], *, strict: bool = True, key=None):
    """torch state_dict -> jaxdl ``(params, state)`` for ``module``, as torch.nn.Module.load_state_dict.

    Names and shapes are checked against ``jax.eval_shape(module.init, key)``; every missing, unexpected
    and shape- or kind-mismatched entry is reported in one ValueError. ``strict=False`` ignores unexpected
    keys and fills missing ones from ``module.init(key)`` (so it then needs ``key``), and says which: it returns
    ``(params, state, IncompatibleKeys(missing_keys, unexpected_keys))``, as torch returns that NamedTuple
    (unlike torch there is no module holding current values to keep). Shape and dtype problems raise even then.

    Args:
      module: a jaxdl.nn module (spec).
      state_dict: {"0.weight": tensor or array, ...}, e.g. ``torch_model.state_dict()``.
      strict: require exactly the module's keys.
      key: PRNG key for the entries missing under ``strict=False``.
    Returns:
      (params, state) with strict=True; (params, state, IncompatibleKeys) with strict=False.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"load_state_dict: state_dict must be a mapping of name -> array; "
                        f"got {type(state_dict).__name__}")
    params, state, incompatible, problems = match_state_dict(module, state_dict, strict=strict, key=key)
    if problems:
        raise ValueError(f"load_state_dict({type(module).__name__}): {len(problems)} problem(s):\n  "
                         + "\n  ".join(problems))
    return (params, state) if strict else (params, state, incompatible)


def match_state_dict(module, state_dict: Mapping[str, Any], *, strict: bool, key=None):
    """``(params, state, IncompatibleKeys, problems)``: the work of load_state_dict, problems returned (params
    and state are None when there are any)."""
    tmpl_params, tmpl_state = init_shapes(module, key=key)
    exp_params, exp_state = flatten(tmpl_params), flatten(tmpl_state)
    tied = dict(getattr(module, "tied", ()))
    expected = {**exp_params, **exp_state}
    expected |= {alias: expected[name] for alias, name in tied.items()}
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    problems, loaded = [], {}
    for alias, name in tied.items():
        if alias in state_dict and name in state_dict and not np.array_equal(to_numpy(state_dict[alias]),
                                                                             to_numpy(state_dict[name])):
            problems.append(f"{alias}: tied to {name} (one tensor in torch), but the state_dict holds other values")
    for name, exp in expected.items():
        if name not in state_dict:
            continue
        value = to_numpy(state_dict[name])
        if tuple(value.shape) != tuple(exp.shape):
            problems.append(f"{name}: expected shape {tuple(exp.shape)}, got {tuple(value.shape)}")
            continue
        loaded[name] = _convert(name, value, exp, problems)
    for alias, name in tied.items():  # one tensor: either of its names fills it
        if name not in loaded and alias in loaded:
            loaded[name] = loaded[alias]
    fill = [k for k in missing if k not in tied and k not in loaded]
    if strict:
        problems = [f"missing key {k!r} (shape {tuple(expected[k].shape)})" for k in missing] + \
                   [f"unexpected key {k!r}" for k in unexpected] + problems
    elif fill and key is None:
        problems.insert(0, f"missing keys {fill}: with strict=False pass key= to initialise them")
    incompatible = IncompatibleKeys(missing, unexpected)
    if problems:
        return None, None, incompatible, problems
    if fill:
        init_params, init_state = module.init(key)
        defaults = {**flatten(init_params), **flatten(init_state)}
        loaded.update({k: defaults[k] for k in fill})
    params = unflatten({k: loaded[k] for k in exp_params})
    state = unflatten({k: loaded[k] for k in exp_state})
    return _restore_empty(tmpl_params, params), _restore_empty(tmpl_state, state), incompatible, []


def _restore_empty(template, tree):
    """Put back the empty sub-dicts (stateless children) that flatten dropped, in the template's order."""
    if not isinstance(template, Mapping):
        return tree
    return {k: _restore_empty(v, tree.get(k, {})) for k, v in template.items()}


def state_dict(params: Mapping, state: Mapping | None = None, *, module=None) -> dict[str, np.ndarray]:
    """jaxdl ``(params, state)`` -> flat {name: numpy array}, as torch.nn.Module.state_dict.

    bfloat16 entries are ``ml_dtypes.bfloat16`` numpy arrays, which ``torch.from_numpy`` cannot read: give
    torch their bits, ``torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)``.

    With ``module`` the keys come in torch's order exactly (``module.init``'s order). Without it, in the
    dicts' own order: at each level a module's own parameters, then its own buffers, then its children
    (dicts that went through jit/grad have sorted keys, so pass ``module`` when order matters). The ``module``'s
    tied entries (module docstring) follow, each under its alias too.
    """
    state = {} if state is None else state
    out: dict[str, np.ndarray] = {}
    if module is not None:
        tmpl_params, tmpl_state = init_shapes(module)
        names = [*flatten(tmpl_params), *flatten(tmpl_state)]
        given = {**flatten(params), **flatten(state)}
        if set(names) != set(given):
            raise ValueError(f"state_dict: params/state do not match {type(module).__name__}: missing "
                             f"{sorted(set(names) - set(given))}, unexpected {sorted(set(given) - set(names))}")
        params = _restore_empty(tmpl_params, unflatten({k: given[k] for k in flatten(tmpl_params)}))
        state = _restore_empty(tmpl_state, unflatten({k: given[k] for k in flatten(tmpl_state)}))

    def visit(p, s, prefix):
        for tree in (p, s):
            for k, v in tree.items():
                if not isinstance(v, Mapping):
                    out[prefix + k] = np.array(jax.device_get(v))  # writable: torch.from_numpy warns otherwise
        for k in list(dict.fromkeys([*p, *s])):
            pv, sv = p.get(k, {}), s.get(k, {})
            if isinstance(pv, Mapping) and isinstance(sv, Mapping):
                visit(pv, sv, f"{prefix}{k}.")

    visit(params, state, "")
    for alias, name in getattr(module, "tied", ()):
        out[alias] = out[name]
    return out
