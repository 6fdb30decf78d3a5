"""`jaxdl parity`: every parity case against torch on the current device, as one table.

Cases run in float64 and float32; those registered with ``mixed=True`` also in bf16-mixed: float32 inputs and
weights, both sides under autocast (torch.autocast(device, torch.bfloat16) around torch's forward, jaxdl.amp.autocast
with the same device's op lists around jaxdl's): the lower-precision ops (linear, convolutions, attention) and
the modules around them, float32 ops and norms, the GPT and training. On CPU linear and the convolutions agree
bit for bit, the lecture MLP's training steps and fit to float32 rounding (jaxdl compiles with
amp.EXACT_ROUNDING). The cases left out gain nothing from it (elementwise ops on float32 inputs run unchanged).

float32 and bf16-mixed rows are judged by torch's own rounding against torch in float64 (see ``_core``).
torch is imported only when a case runs, never by ``import jaxdl``.
"""
import importlib

from jaxdl.parity._core import (ALL_DTYPES, CASES, DTYPES, ELEMENTWISE_FLOAT32, MIXED, TOLERANCES, Case,
                                Comparison, Env, Result, compare_function, format_table, in_ci, register, run_case,
                                to_numpy, torch_device)

# The case modules, in table order; importing them fills CASES.
CASE_MODULES = ("_cases_functional", "_cases_nn", "_cases_lr_scheduler", "_cases_optim", "_cases_gpt", "_cases_loss",
                "_cases_train", "_cases_compose", "_cases_nn_activation", "_cases_margin_loss", "_cases_nn_loss",
                "_cases_norm", "_cases_scheduler_more", "_cases_conv", "_cases_amp", "_cases_rnn", "_cases_transformer",
                "_cases_nn_extra", "_cases_lbfgs", "_cases_swa", "_cases_resample",
                "_cases_dims")
for _module in CASE_MODULES:
    importlib.import_module(f"jaxdl.parity.{_module}")

from jaxdl.parity._module_db import (compare_module, counterpart, format_module_db_report, module_db_case,  # noqa: E402
                                     module_db_report, module_db_samples)
from jaxdl.parity._run import run, select  # noqa: E402
from jaxdl.parity._torch_gpt import torch_gpt, torch_state_dict_to_jax  # noqa: E402

__all__ = ["ALL_DTYPES", "CASES", "CASE_MODULES", "DTYPES", "ELEMENTWISE_FLOAT32", "MIXED", "TOLERANCES", "Case",
           "Comparison", "Env", "Result", "compare_function", "format_table", "in_ci", "register", "run_case",
           "to_numpy", "torch_device", "run", "select", "torch_gpt", "torch_state_dict_to_jax",
           "compare_module", "counterpart", "module_db_case", "module_db_report", "module_db_samples",
           "format_module_db_report"]
