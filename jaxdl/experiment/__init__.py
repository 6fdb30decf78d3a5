"""The recipes behind ``jaxdl train`` and ``jaxdl compare``: one module per model kind, from a validated Config.

``run_train(cfg, ...)`` trains as the config says (``_mlp`` for ``model.kind = "mlp"`` and, with ``_cnn``'s
network, "cnn"; ``_gpt`` for "gpt" and "lstm");
``_optim.build_tx`` is the one place an [optim] table becomes an optimizer; ``_run_dir`` guards the output
folder (never overwritten by accident) and ``_resume`` says what a resume changes. ``compare`` is the recipe
behind ``jaxdl compare`` (the lr × seed sweeps, runs.csv, the figure and the table).
"""
from jaxdl.experiment._gpt import build_lm, build_vocab, language_model_class
from jaxdl.experiment._mlp import accuracy, build_data, build_model, check_fits, loss_fn
from jaxdl.experiment._optim import build_tx
from jaxdl.experiment._run import run_train
from jaxdl.experiment._run_dir import RUN_FILES

__all__ = ["RUN_FILES", "accuracy", "build_data", "build_lm", "build_model", "build_tx", "build_vocab", "check_fits",
           "language_model_class", "loss_fn", "run_train"]
