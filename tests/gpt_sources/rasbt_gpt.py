"""A test reference for jaxdl.interop: written for jaxdl's tests to reproduce the state_dict layout and forward
computation of the GPTModel in Sebastian Raschka's "Build a Large Language Model (From Scratch)" code
(rasbt/LLMs-from-scratch, https://github.com/rasbt/LLMs-from-scratch), chapter 4. It is not a copy of that code:
it is re-implemented here from the book's published architecture.

What the tests rely on, and so what this file keeps exactly:
- state_dict names: tok_emb, pos_emb, trf_blocks.{i}.{att.W_query, att.W_key, att.W_value, att.out_proj,
  att.mask, ff.layers.0, ff.layers.2, norm1, norm2}, final_norm, out_head (no bias); W_query/W_key/W_value have
  a bias only with cfg["qkv_bias"]; att.mask is a persistent buffer, triu(ones(ctx, ctx), diagonal=1).
- the book's own LayerNorm (parameters `scale`, `shift`; biased variance; eps 1e-5) and its tanh-form GELU whose
  constant √(2/π) is torch.sqrt(torch.tensor(2.0 / torch.pi)), a tensor of torch's default dtype (float32
  unless a test changes it: the float64 test does, see its torch_float64 fixture).
- pre-norm blocks: x + drop(att(norm1(x))), then x + drop(ff(norm2(x))); then final_norm and out_head.
"""
import torch
from torch import nn


class LayerNorm(nn.Module):
    """(x - mean) / sqrt(var + eps) * scale + shift over the last dim, var biased (the book's, not nn.LayerNorm)."""

    def __init__(self, emb_dim):
        super().__init__()
        self.eps = 1e-5
        self.scale = nn.Parameter(torch.ones(emb_dim))
        self.shift = nn.Parameter(torch.zeros(emb_dim))

    def forward(self, x):
        centred = x - x.mean(dim=-1, keepdim=True)
        variance = x.var(dim=-1, keepdim=True, unbiased=False)
        return self.scale * (centred / torch.sqrt(variance + self.eps)) + self.shift


class GELU(nn.Module):
    """0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))); √(2/π) is a torch.tensor of the default dtype."""

    def forward(self, x):
        root_two_over_pi = torch.sqrt(torch.tensor(2.0 / torch.pi))
        return 0.5 * x * (1 + torch.tanh(root_two_over_pi * (x + 0.044715 * torch.pow(x, 3))))


class FeedForward(nn.Module):
    """Linear(E, 4E) → GELU → Linear(4E, E), as `layers` (state_dict names ff.layers.0 / ff.layers.2)."""

    def __init__(self, cfg):
        super().__init__()
        width = cfg["emb_dim"]
        self.layers = nn.Sequential(nn.Linear(width, 4 * width), GELU(), nn.Linear(4 * width, width))

    def forward(self, x):
        return self.layers(x)


class MultiHeadAttention(nn.Module):
    """Causal multi-head attention with separate query/key/value projections and a stored upper-triangular mask."""

    def __init__(self, d_in, d_out, context_length, dropout, num_heads, qkv_bias=False):
        super().__init__()
        if d_out % num_heads:
            raise ValueError(f"d_out ({d_out}) must be divisible by num_heads ({num_heads})")
        self.d_out, self.num_heads, self.head_dim = d_out, num_heads, d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        # 1 above the diagonal = a future position, hidden; persistent, so it is part of the state_dict
        self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))

    def _heads(self, t):
        """(B, T, d_out) -> (B, heads, T, head_dim)."""
        batch, steps, _ = t.shape
        return t.view(batch, steps, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        batch, steps, _ = x.shape
        q, k, v = self._heads(self.W_query(x)), self._heads(self.W_key(x)), self._heads(self.W_value(x))
        scores = q @ k.transpose(2, 3)
        future = self.mask.bool()[:steps, :steps]
        scores = scores.masked_fill(future, -torch.inf)
        weights = self.dropout(torch.softmax(scores / self.head_dim ** 0.5, dim=-1))
        mixed = (weights @ v).transpose(1, 2).contiguous().view(batch, steps, self.d_out)
        return self.out_proj(mixed)


class TransformerBlock(nn.Module):
    """Pre-norm block: x + drop(att(norm1(x))), then x + drop(ff(norm2(x)))."""

    def __init__(self, cfg):
        super().__init__()
        self.att = MultiHeadAttention(d_in=cfg["emb_dim"], d_out=cfg["emb_dim"],
                                      context_length=cfg["context_length"], dropout=cfg["drop_rate"],
                                      num_heads=cfg["n_heads"], qkv_bias=cfg["qkv_bias"])
        self.ff = FeedForward(cfg)
        self.norm1 = LayerNorm(cfg["emb_dim"])
        self.norm2 = LayerNorm(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x):
        x = x + self.drop_shortcut(self.att(self.norm1(x)))
        return x + self.drop_shortcut(self.ff(self.norm2(x)))


class GPTModel(nn.Module):
    """Token + position embeddings → dropout → n_layers blocks → final_norm → out_head (bias-free) logits.

    cfg keys: vocab_size, context_length, emb_dim, n_heads, n_layers, drop_rate, qkv_bias.
    """

    def __init__(self, cfg):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        self.trf_blocks = nn.Sequential(*(TransformerBlock(cfg) for _ in range(cfg["n_layers"])))
        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx):
        positions = torch.arange(in_idx.shape[1], device=in_idx.device)
        x = self.drop_emb(self.tok_emb(in_idx) + self.pos_emb(positions))
        return self.out_head(self.final_norm(self.trf_blocks(x)))
