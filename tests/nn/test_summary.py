"""nn.summary: per-layer counts and output shapes against the same torch models."""
import re

import jax.numpy as jnp
import pytest
import torch

from jaxdl import nn
from jaxdl.parity._cases_compose import _named, _Net, _torch_net
from jaxdl.parity._torch_gpt import torch_gpt

GPT_CFG = dict(vocab_size=65, context_length=16, emb_dim=32, n_heads=4, n_layers=2, drop_rate=0.0, qkv_bias=True)


def _table(text):
    """(rows as lists of cells split on 2+ spaces, total params, buffers)."""
    lines = text.splitlines()
    rules = [i for i, line in enumerate(lines) if set(line) == {"-"}]
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[rules[0] + 1:rules[1]]]
    total = int(re.match(r"Total params: ([\d,]+)", lines[rules[1] + 1]).group(1).replace(",", ""))
    buffers = int(re.match(r"Buffers: ([\d,]+)", lines[rules[1] + 2]).group(1).replace(",", ""))
    return rows, total, buffers


def _count(cell):
    return 0 if cell == "--" else int(cell.replace(",", ""))


@pytest.mark.parametrize("make", [
    lambda: (_named(nn), _named(torch.nn), (4, 5), jnp.float32),
    lambda: (_Net(), _torch_net(torch), (4, 5), jnp.float32),
    lambda: (nn.MultiheadAttention(8, 2),
             torch.nn.MultiheadAttention(8, 2), None, None),
    lambda: (nn.GPT(**GPT_CFG), torch_gpt(GPT_CFG), (2, 10), jnp.int32)])
def test_counts_equal_torch(make):
    jm, tm, shape, dtype = make()
    rows, total, buffers = _table(nn.summary(jm, shape, input_dtype=dtype) if shape else nn.summary(jm))
    assert total == sum(p.numel() for p in tm.parameters())
    assert buffers == sum(b.numel() for b in tm.buffers())
    assert sum(_count(r[-1]) for r in rows) == total  # each row counts the tensors it lists


def test_rows_and_output_shapes_equal_torch():
    text = nn.summary(_named(nn), (4, 5))
    rows, _, _ = _table(text)
    tm = _named(torch.nn)
    shapes = {}
    for name, child in tm.named_children():
        child.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape)))
    out = tm(torch.zeros(4, 5))
    assert rows[0][:2] == ["Sequential", str(tuple(out.shape))]
    for row, (name, child) in zip(rows[1:], tm.named_children(), strict=True):
        assert row[0] == f"{name} ({type(child).__name__})"
        assert row[1] == str(shapes[name])
        assert _count(row[-1]) == sum(p.numel() for p in child.parameters())
    assert "weight (8, 5), bias (8,)" in text


def test_containers_without_forward():
    rows, total, _ = _table(nn.summary(nn.ModuleList([nn.Linear(3, 2), nn.ReLU()]), (4, 3)))
    assert rows[0][:2] == ["ModuleList", "--"] and total == 8
    rows, total, _ = _table(nn.summary(nn.ModuleDict({"a": nn.Linear(3, 2)})))
    assert rows[1][0] == "a (Linear)" and total == 8
