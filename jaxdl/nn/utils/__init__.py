"""`jaxdl.nn.utils`, as torch.nn.utils: ``rnn`` (padding and packing variable-length batches)."""
from jaxdl.nn.utils import rnn

__all__ = ["rnn"]
