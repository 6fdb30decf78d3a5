"""The examples in jaxdl's docstrings run and print what they say (figures worked out by hand or from torch)."""
import doctest
import importlib
import pkgutil

import pytest

import jaxdl

MODULES = sorted(m.name for m in pkgutil.walk_packages(jaxdl.__path__, "jaxdl.") if m.name != "jaxdl.__main__")
WITH_EXAMPLES = [name for name in MODULES
                 if any(t.examples for t in doctest.DocTestFinder().find(importlib.import_module(name)))]


def test_the_docstring_examples_are_found():
    assert {"jaxdl.functional._loss", "jaxdl.optim._adam", "jaxdl.nn._gpt"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"
