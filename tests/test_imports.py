"""`import jaxdl` must never import torch."""
import subprocess
import sys


def test_import_jaxdl_does_not_import_torch():
    code = ("import sys, jaxdl, jaxdl.functional, jaxdl.nn, jaxdl.cli, jaxdl.parity\n"
            "import importlib, pkgutil\n"
            "for m in pkgutil.walk_packages(jaxdl.__path__, 'jaxdl.'):\n"
            "    if m.name != 'jaxdl.__main__': importlib.import_module(m.name)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)
