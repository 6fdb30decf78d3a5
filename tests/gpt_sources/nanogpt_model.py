"""A test reference for jaxdl.interop: written for jaxdl's tests to reproduce the state_dict layout and forward
computation of Andrej Karpathy's nanoGPT model.py (karpathy/nanoGPT, https://github.com/karpathy/nanoGPT). It is
not a copy of that code: it is re-implemented here from nanoGPT's published GPT-2 architecture.

What the tests rely on, and so what this file keeps exactly:
- GPTConfig(block_size, vocab_size, n_layer, n_head, n_embd, dropout, bias), a dataclass.
- state_dict names: transformer.{wte, wpe, h.{i}.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj},
  ln_f} and lm_head (no bias), with lm_head.weight the same Parameter as transformer.wte.weight (both names are
  in the state_dict); LayerNorm and Linear biases only with config.bias; no attention-mask buffer.
- the forward: x + attn(ln_1(x)), then x + mlp(ln_2(x)); attention through
  F.scaled_dot_product_attention(is_causal=True); the MLP's exact (erf) nn.GELU(); F.layer_norm with eps 1e-5.
- GPT(...)(idx, targets) returns (logits of every position, cross-entropy loss); without targets only the last
  position's logits, as nanoGPT does at inference.
- GPT-2's init: every Linear and Embedding weight N(0, 0.02), biases 0, each c_proj.weight N(0, 0.02/√(2 n_layer)).
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class GPTConfig:
    block_size: int = 1024
    vocab_size: int = 50304
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0
    bias: bool = True


class LayerNorm(nn.Module):
    """F.layer_norm (eps 1e-5) whose bias is optional (nn.LayerNorm's bias=False is newer than nanoGPT)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    """One fused c_attn projection to q, k, v; causal scaled-dot-product attention per head; c_proj back."""

    def __init__(self, config):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd ({config.n_embd}) must be divisible by n_head ({config.n_head})")
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)  # kept for the layout; SDPA applies dropout_p itself
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        batch, steps, width = x.shape

        def heads(t):  # (B, T, C) -> (B, n_head, T, C // n_head)
            return t.view(batch, steps, self.n_head, width // self.n_head).transpose(1, 2)

        q, k, v = (heads(t) for t in self.c_attn(x).split(self.n_embd, dim=2))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).contiguous().view(batch, steps, width)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """c_fc (C → 4C) → exact GELU → c_proj (4C → C) → dropout."""

    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """wte + wpe → drop → blocks h → ln_f → lm_head, with lm_head's weight tied to wte's."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(config.vocab_size, config.n_embd),
            "wpe": nn.Embedding(config.block_size, config.n_embd),
            "drop": nn.Dropout(config.dropout),
            "h": nn.ModuleList(Block(config) for _ in range(config.n_layer)),
            "ln_f": LayerNorm(config.n_embd, bias=config.bias),
        })
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying: one Parameter under both names
        self.apply(self._init_weights)
        residual_std = 0.02 / math.sqrt(2 * config.n_layer)  # GPT-2's scaling of the residual projections
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=residual_std)

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        steps = idx.shape[1]
        if steps > self.config.block_size:
            raise ValueError(f"sequence of length {steps} is longer than block_size {self.config.block_size}")
        positions = torch.arange(0, steps, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(positions))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is None:  # inference: only the last position's logits are needed
            return self.lm_head(x[:, [-1], :]), None
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss
