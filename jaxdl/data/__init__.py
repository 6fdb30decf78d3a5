"""``jaxdl.data``: small data sets as numpy arrays (no downloads), and a DataLoader that streams batches."""
from jaxdl.data._digits import digits, split
from jaxdl.data._loader import DataLoader, check_batches, epoch_permutation, num_batches
from jaxdl.data._text import CharVocab, char_lm_data, next_token_windows, stdlib_corpus, unigram_entropy
from jaxdl.data._toy import circles, spirals, two_moons

__all__ = [
    "DataLoader", "epoch_permutation", "num_batches", "check_batches",
    "digits", "split", "two_moons", "circles", "spirals",
    "stdlib_corpus", "CharVocab", "char_lm_data", "next_token_windows", "unigram_entropy",
]
