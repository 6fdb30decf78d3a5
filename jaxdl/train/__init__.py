"""``jaxdl.train``: TrainState, the train/eval step closures, fit (loop or scan), checkpoints, sharding, sweeps."""
from jaxdl.train._checkpoint import (Checkpoint, CheckpointError, load_checkpoint, load_checkpoint_model,
                                    read_checkpoint, read_checkpoint_metadata, save_checkpoint)
from jaxdl.train._epoch import permutation
from jaxdl.train._fit import FitResult, NonFiniteLossError, fit
from jaxdl.train._sharding import data_parallel_mesh
from jaxdl.train._state import TrainState
from jaxdl.train._step import make_eval_step, make_train_step
from jaxdl.train._sweep import SweepResult, sweep
from jaxdl.train._update_bn import update_bn

__all__ = ["TrainState", "make_train_step", "make_eval_step", "fit", "FitResult", "NonFiniteLossError",
           "save_checkpoint", "load_checkpoint", "load_checkpoint_model", "read_checkpoint", "read_checkpoint_metadata",
           "Checkpoint", "CheckpointError", "data_parallel_mesh", "permutation",
           "sweep", "SweepResult", "update_bn"]
