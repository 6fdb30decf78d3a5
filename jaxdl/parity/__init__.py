"""`jaxdl parity`: every parity case against torch on the current device, as one table.

torch is imported only when a case runs, never by ``import jaxdl``.
"""
from jaxdl.parity._core import (ALL_DTYPES, CASES, DTYPES, MIXED, Case, Comparison, Env, Result, compare_function,
                                format_table, register, run_case, torch_device)
# Importing the case modules fills CASES.
from jaxdl.parity import _cases_functional, _cases_nn, _cases_optim, _cases_gpt  # noqa: F401,E402
from jaxdl.parity import _cases_loss  # noqa: F401,E402
from jaxdl.parity import _cases_train  # noqa: F401,E402
from jaxdl.parity import _cases_compose  # noqa: F401,E402
from jaxdl.parity import _cases_nn_activation  # noqa: F401,E402
from jaxdl.parity import _cases_margin_loss, _cases_nn_loss  # noqa: F401,E402
from jaxdl.parity import _cases_norm  # noqa: F401,E402
from jaxdl.parity import _cases_scheduler_more  # noqa: F401,E402
from jaxdl.parity import _cases_conv  # noqa: F401,E402
from jaxdl.parity import _cases_amp  # noqa: F401,E402  (last: it adds bf16-mixed to cases registered above)
from jaxdl.parity._run import run, select  # noqa: E402
from jaxdl.parity._torch_gpt import torch_gpt, torch_state_dict_to_jax  # noqa: E402

__all__ = ["ALL_DTYPES", "CASES", "DTYPES", "MIXED", "Case", "Comparison", "Env", "Result", "compare_function",
           "format_table", "register", "run_case", "torch_device", "run", "select",
           "torch_gpt", "torch_state_dict_to_jax"]
