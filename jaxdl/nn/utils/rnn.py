"""Variable-length batches as torch.nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence.

Differs from torch: a ``PackedSequence`` here has a fixed shape (so it jits): ``data`` is the padded time-major
batch (T, B, *) in the caller's batch order, with ``lengths`` (B,); torch's packs the valid steps of the
length-sorted batch into one (sum(lengths), *) tensor. ``sorted_indices`` / ``unsorted_indices`` are torch's
(None with ``enforce_sorted=True``), and the recurrent modules give torch's output and h_n on it.
"""
from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxdl.checks import concrete_values, is_concrete


class PackedSequence(NamedTuple):
    """A padded time-major batch with its lengths (see the module docstring for how it differs from torch's)."""

    data: object  # (T, B, *)
    lengths: object  # (B,) int
    sorted_indices: object = None
    unsorted_indices: object = None

    @property
    def batch_sizes(self):
        """(T,) sequences still running at each step, as torch's ``batch_sizes``."""
        return jnp.sum(jnp.arange(self.data.shape[0])[:, None] < self.lengths[None, :], axis=1)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), as torch.nn.utils.rnn.pad_sequence."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right'; got {padding_side!r}")
    if len(sequences) == 0:
        raise ValueError("pad_sequence: received an empty list of sequences")
    longest = max(jnp.shape(s)[0] for s in sequences)
    padded = []
    for s in sequences:
        extra = [(0, longest - jnp.shape(s)[0])] if padding_side == "right" else [(longest - jnp.shape(s)[0], 0)]
        padded.append(jnp.pad(jnp.asarray(s), extra + [(0, 0)] * (jnp.ndim(s) - 1), constant_values=padding_value))
    return jnp.stack(padded, axis=0 if batch_first else 1)


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """A padded batch and its lengths as a PackedSequence, as torch.nn.utils.rnn.pack_padded_sequence.

    Args:
      input: (T, B, *), or (B, T, *) with batch_first.
      lengths: (B,) ints, each in 1..T; sorted decreasingly unless ``enforce_sorted=False``.
    """
    data = jnp.swapaxes(input, 0, 1) if batch_first else jnp.asarray(input)  # (T, B, *)
    if is_concrete(lengths):
        values = np.asarray(concrete_values(lengths)).astype(np.int64)
        if values.shape != (data.shape[1],):
            raise ValueError(f"pack_padded_sequence: expected {data.shape[1]} lengths (one per sequence); got "
                             f"shape {values.shape}")
        if values.size and (values.min() <= 0 or values.max() > data.shape[0]):
            raise ValueError(f"pack_padded_sequence: every length must be in 1..{data.shape[0]} (the padded "
                             f"length); got {values.tolist()}")
        if enforce_sorted and np.any(np.diff(values) > 0):
            raise ValueError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                             "`enforce_sorted` is True; pass enforce_sorted=False to pack an unsorted batch")
        data = data[:int(values.max())]  # torch's packed batch ends with the longest sequence
        sorted_indices = None if enforce_sorted else jnp.asarray(np.argsort(-values, kind="stable"))
    else:
        sorted_indices = None if enforce_sorted else jnp.argsort(-jnp.asarray(lengths), stable=True)
    unsorted_indices = None if sorted_indices is None else jnp.argsort(sorted_indices)
    return PackedSequence(data, jnp.asarray(lengths), sorted_indices, unsorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None):
    """(padded (T, B, *) or (B, T, *), lengths (B,)), as torch.nn.utils.rnn.pad_packed_sequence: the steps past
    each length hold ``padding_value``; T is the longest length, or ``total_length`` when given."""
    data, lengths = sequence.data, sequence.lengths
    steps = data.shape[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max sequence length "
                             f"being {steps}")
        data = jnp.pad(data, [(0, total_length - steps)] + [(0, 0)] * (data.ndim - 1))
    valid = jnp.arange(data.shape[0])[:, None] < lengths[None, :]  # (T, B)
    valid = valid.reshape(valid.shape + (1,) * (data.ndim - 2))
    padded = jnp.where(valid, data, jnp.asarray(padding_value, data.dtype))
    return (jnp.swapaxes(padded, 0, 1) if batch_first else padded), lengths


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Sequences of shapes (L_i, *) as one PackedSequence, as torch.nn.utils.rnn.pack_sequence."""
    lengths = np.asarray([jnp.shape(s)[0] for s in sequences], dtype=np.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
