"""``jaxdl.data``: small data sets as numpy arrays ready for device-resident training (no downloads)."""
from jaxdl.data._digits import digits, split
from jaxdl.data._text import CharVocab, char_lm_data, next_token_windows, stdlib_corpus, unigram_entropy
from jaxdl.data._toy import circles, spirals, two_moons

__all__ = [
    "digits", "split", "two_moons", "circles", "spirals",
    "stdlib_corpus", "CharVocab", "char_lm_data", "next_token_windows", "unigram_entropy",
]
