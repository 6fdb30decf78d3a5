"""Weight files: a jaxdl ``(params, state)`` as a .safetensors file torch reads, and back."""
from __future__ import annotations

from typing import Mapping

from jaxdl.interop._state_dict import load_state_dict, state_dict


def _safetensors_numpy():
    try:
        import safetensors.numpy  # noqa: PLC0415  (optional: pip install 'jaxdl[safetensors]')
    except ImportError as err:
        raise ImportError("save_safetensors/load_safetensors need the safetensors package: "
                          "pip install 'jaxdl[safetensors]' (or pip install safetensors)") from err
    return safetensors.numpy


def save_safetensors(path, params: Mapping, state: Mapping | None = None, *, module=None) -> None:
    """Write ``state_dict(params, state, module=module)`` to a .safetensors file (safetensors.numpy.save_file).

    torch reads it back with ``model.load_state_dict(safetensors.torch.load_file(path), strict=True)``.
    bfloat16 entries are written as BF16. Needs the optional ``safetensors`` package (imported here, lazily).
    """
    _safetensors_numpy().save_file(state_dict(params, state, module=module), str(path))  # C-ordered copies


def load_safetensors(path, module=None, *, strict: bool = True, key=None):
    """A .safetensors file -> ``load_state_dict(module, entries, strict=strict, key=key)``; with module=None
    the flat {name: numpy array} itself (e.g. for load_gpt)."""
    entries = _safetensors_numpy().load_file(str(path))
    return entries if module is None else load_state_dict(module, entries, strict=strict, key=key)
