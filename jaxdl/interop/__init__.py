"""Move weights between torch and jaxdl: a torch ``state_dict`` is jaxdl's ``(params, state)`` flattened with '.'.

``load_state_dict`` / ``state_dict`` (``_state_dict``: names, shapes and the dtype policy), ``load_gpt`` /
``export_gpt`` (``_gpt``: the book's GPTModel, nanoGPT and Hugging Face GPT-2 checkpoints) and
``load_safetensors`` / ``save_safetensors`` (``_safetensors``: weight files); ``to_numpy`` reads one torch
tensor or array as the loaders do. This package sits above ``jaxdl.nn``: it reads a module's parameter names
and shapes with ``nn.init_shapes``; nn never imports it. ``from_torch`` (``_from_torch``: a torch.nn module
as a jaxdl spec with its state_dict; a module with a custom forward goes through ``from_export``; its spec alone:
``spec_from_torch``), ``from_export``
(``_export.convert_exported``: a torch module captured by ``torch.export`` as an ``ExportedModel``, replayed with
jaxdl's ops: ``_aten``, ``_graph``) and ``compare`` (``_compare``: torch and jaxdl side by side, submodule by
submodule) import torch inside them; nothing else imports torch, and nothing does at import time.
"""
from jaxdl.interop._compare import Comparison, compare
from jaxdl.interop._export import ExportedModel
from jaxdl.interop._export import convert_exported as from_export
from jaxdl.interop._from_torch import from_torch
from jaxdl.interop._from_torch import to_spec as spec_from_torch
from jaxdl.interop._gpt import export_gpt, load_gpt
from jaxdl.interop._safetensors import load_safetensors, save_safetensors
from jaxdl.interop._state_dict import IncompatibleKeys, flatten, load_state_dict, state_dict, to_numpy, unflatten

__all__ = ["flatten", "unflatten", "load_state_dict", "state_dict", "IncompatibleKeys", "save_safetensors",
           "load_safetensors", "load_gpt", "export_gpt", "to_numpy", "from_torch", "from_export", "ExportedModel",
           "compare", "Comparison", "spec_from_torch"]
