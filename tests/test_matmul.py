"""jaxdl.set_float32_matmul_precision: torch's names and default, the setting in every product's lowered HLO (forward
and gradient, every op of jaxdl.functional and jaxdl.nn that multiplies matrices), jit's retrace on a change, and
no product in jaxdl/functional or jaxdl/nn that bypasses jaxdl.matmul."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import jaxdl
from jaxdl import matmul, nn
from jaxdl import functional as F

ROOT = Path(jaxdl.__file__).parent
HLO_NAME = {"highest": "HIGHEST", "high": "HIGH", "medium": "DEFAULT"}  # StableHLO's names of lax.Precision


def _r(*shape, seed=0):
    return jnp.asarray(np.random.default_rng(seed).standard_normal(shape), jnp.float32)


def _gpt():
    model = nn.GPT(vocab_size=11, context_length=8, emb_dim=8, n_heads=2, n_layers=1)
    params, state = model.init(jax.random.key(0))
    with_weight = lambda w: {**params, "tok_emb": {**params["tok_emb"], "weight": w}}
    return lambda w: model.apply(with_weight(w), state, jnp.arange(6)[None])[0].sum(), _r(11, 8)


def _mha():
    model = nn.MultiheadAttention(8, 2)
    params, state = model.init(jax.random.key(0))
    return lambda x: model.apply(params, state, x, x, x)[0][0].sum(), _r(5, 2, 8)


# (name, scalar function of one float32 array, the array): each multiplies matrices
PRODUCTS = [
    ("linear", lambda x: F.linear(x, _r(3, 4, seed=1)).sum(), _r(2, 4)),
    ("conv1d", lambda x: F.conv1d(x, _r(2, 3, 2, seed=1)).sum(), _r(1, 3, 5)),
    ("conv2d", lambda x: F.conv2d(x, _r(2, 3, 2, 2, seed=1)).sum(), _r(1, 3, 4, 4)),
    ("conv_transpose1d", lambda x: F.conv_transpose1d(x, _r(3, 2, 2, seed=1), stride=2).sum(), _r(1, 3, 5)),
    ("conv_transpose2d", lambda x: F.conv_transpose2d(x, _r(3, 2, 2, 2, seed=1)).sum(), _r(1, 3, 4, 4)),
    ("sdpa", lambda q: F.scaled_dot_product_attention(q, q, q).sum(), _r(1, 2, 3, 4)),
    ("MultiheadAttention", *_mha()),
    ("GPT", *_gpt()),
]


def _precisions(fn, x) -> list[str]:
    """The precision of every dot_general and convolution in ``fn``'s and its gradient's StableHLO."""
    text = jax.jit(jax.value_and_grad(fn)).lower(x).as_text()
    lines = [line for line in text.splitlines() if re.search(r"stablehlo\.(dot_general|convolution)\b", line)]
    # dot_general prints "precision = [HIGHEST, HIGHEST]", convolution "#stablehlo<precision HIGHEST>" per operand
    found = [re.findall(r"precision = \[(\w+), (\w+)\]|<precision (\w+)>", line) for line in lines]
    assert len(lines) >= 2 and all(found), f"{len(lines)} products, some without a precision:\n{text}"
    return sorted({p for hits in found for hit in hits for p in hit if p})


def test_the_default_is_torchs_highest():
    code = "import jaxdl; print(jaxdl.get_float32_matmul_precision())"  # a fresh process: nothing set it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [torch.get_float32_matmul_precision()] == ["highest"]


@pytest.mark.parametrize("setting", ["highest", "high", "medium"])
@pytest.mark.parametrize("name, fn, x", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_the_setting_reaches_every_product_and_its_gradient(name, fn, x, setting):
    with matmul.float32_matmul_precision(setting):
        assert _precisions(fn, x) == [HLO_NAME[setting]]
    assert _precisions(fn, x) == ["HIGHEST"]  # the default again outside the block


def test_set_and_get_retrace_a_jitted_function():
    f = jax.jit(lambda x: F.linear(x, x))
    x = _r(3, 3)
    before = f(x)
    try:
        jaxdl.set_float32_matmul_precision("medium")
        assert jaxdl.get_float32_matmul_precision() == "medium"
        assert "DEFAULT, DEFAULT" in f.lower(x).as_text()  # the setting is part of the cache key: retraced
        np.testing.assert_array_equal(f(x), before)  # CPU computes float32 whatever the setting, as torch's CPU
        assert f._cache_size() == 2
    finally:
        jaxdl.set_float32_matmul_precision("highest")
    assert "HIGHEST, HIGHEST" in f.lower(x).as_text()


def test_the_settings_are_torchs_names():
    for setting in matmul.SETTINGS:
        torch.set_float32_matmul_precision(setting)  # torch accepts each without a warning (filterwarnings=error)
        assert torch.get_float32_matmul_precision() == setting
    torch.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError, match=r"one of \('highest', 'high', 'medium'\); got 'low'"):
        jaxdl.set_float32_matmul_precision("low")
    with pytest.raises(ValueError, match="got 'HIGHEST'"):
        with matmul.float32_matmul_precision("HIGHEST"):
            pass
    assert jaxdl.get_float32_matmul_precision() == "highest"


_RAW = {("jnp", "matmul"), ("jnp", "dot"), ("jnp", "einsum"), ("jnp", "tensordot"), ("jnp", "inner"),
        ("jnp", "vdot"), ("jnp", "outer"), ("lax", "dot"), ("lax", "dot_general"), ("lax", "conv_general_dilated"),
        ("lax", "conv"), ("lax", "conv_transpose"), ("lax", "batch_matmul")}


def raw_products(source: str) -> list[str]:
    """``a @ b`` and calls of jnp/lax products that bypass jaxdl.matmul, as "line: what"."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.append(f"{node.lineno}: @")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and (node.value.id, node.attr) in _RAW):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr}")
    return sorted(found)


def test_no_product_in_functional_or_nn_bypasses_jaxdl_matmul():
    assert raw_products("y = x @ w\nz = jnp.einsum('ij,jk', a, b)\nlax.conv_general_dilated") == [
        "1: @", "2: jnp.einsum", "3: lax.conv_general_dilated"]  # the check can fail
    problems = [f"{f.relative_to(ROOT.parent)}:{hit}" for package in ("functional", "nn")
                for f in sorted((ROOT / package).rglob("*.py")) for hit in raw_products(f.read_text())]
    assert not problems, "products that bypass jaxdl.matmul (call matmul.matmul/einsum/...):\n" + "\n".join(problems)
