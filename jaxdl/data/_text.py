"""A character-level text corpus read from disk: the standard library's own source files (no download)."""
from __future__ import annotations

import dataclasses
import math
import os

import numpy as np


def stdlib_corpus(num_chars: int = 1_000_000, directory: str | None = None) -> str:
    """The first ``num_chars`` characters of the sorted ``*.py`` files directly under ``directory``.

    ``directory`` defaults to the folder of the ``os`` module (the standard library), which every machine
    with Python has, so the corpus needs no download. Files are read as UTF-8 (undecodable bytes replaced).
    """
    if not isinstance(num_chars, int) or num_chars < 2:
        raise ValueError(f"stdlib_corpus: num_chars must be an int ≥ 2; got {num_chars!r}")
    directory = directory or os.path.dirname(os.__file__)
    names = sorted(n for n in os.listdir(directory) if n.endswith(".py"))
    if not names:
        raise ValueError(f"stdlib_corpus: no *.py files in {directory}")
    parts, total = [], 0
    for name in names:
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as f:
            parts.append(f.read())
        total += len(parts[-1])
        if total >= num_chars:
            break
    return "".join(parts)[:num_chars]


@dataclasses.dataclass(frozen=True)
class CharVocab:
    """A character vocabulary: id i is ``chars[i]`` (sorted, as the lecture's tokenizer for tiny Shakespeare)."""

    chars: str

    @classmethod
    def from_text(cls, text: str) -> "CharVocab":
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """text -> (len(text),) int32 ids; a character outside the vocabulary raises ValueError."""
        index = {c: i for i, c in enumerate(self.chars)}
        unknown = sorted(set(text) - set(index))
        if unknown:
            raise ValueError(f"CharVocab.encode: characters not in the vocabulary: {unknown[:10]!r}")
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        """(n,) ids -> text."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"CharVocab.decode: ids must be in [0, {self.size}); got range [{ids.min()}, {ids.max()}]")
        return "".join(self.chars[i] for i in ids)


def next_token_windows(ids, context_length: int, stride: int | None = None):
    """Windows x = ids[s : s+T] and y = ids[s+1 : s+T+1] for s = 0, stride, 2·stride, ...

    Args:
      ids: (n,) token ids. stride defaults to context_length (non-overlapping windows).
    Returns:
      (x, y), both (num_windows, context_length) int32.
    """
    ids = np.asarray(ids, dtype=np.int32)
    stride = context_length if stride is None else stride
    if context_length < 1 or stride < 1:
        raise ValueError(f"next_token_windows: context_length and stride must be ≥ 1; got {context_length}, {stride}")
    if ids.ndim != 1 or ids.size < context_length + 1:
        raise ValueError(f"next_token_windows: need a 1-D id sequence longer than context_length={context_length}; "
                         f"got shape {ids.shape}")
    starts = np.arange(0, ids.size - context_length, stride)
    offsets = np.arange(context_length)
    return ids[starts[:, None] + offsets], ids[starts[:, None] + offsets + 1]


def char_lm_data(text: str, context_length: int, val_fraction: float = 0.1, stride: int | None = None):
    """Split ``text`` into train and validation parts (the last ``val_fraction``) and window both.

    Returns:
      (vocab, (x_train, y_train), (x_val, y_val)) with the arrays of next_token_windows.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"char_lm_data: val_fraction must be in (0, 1); got {val_fraction}")
    vocab = CharVocab.from_text(text)
    ids = vocab.encode(text)
    split = int(len(ids) * (1.0 - val_fraction))
    return (vocab, next_token_windows(ids[:split], context_length, stride),
            next_token_windows(ids[split:], context_length))


def unigram_entropy(ids, vocab_size: int) -> float:
    """H = −Σ_c p(c) log p(c) in nats over the id frequencies: the loss of the best context-free predictor."""
    counts = np.bincount(np.asarray(ids).reshape(-1), minlength=vocab_size).astype(np.float64)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum()) if p.size else math.nan
