"""The reference torch GPT (the lecture's GPTModel) for parity cases, tests and benchmarks.

torch is imported inside ``torch_gpt`` only, so ``import jaxdl`` never loads it. State_dict names equal
jaxdl.nn.GPT's params joined with '.', so weights move with jaxdl.interop in either direction.
"""
from __future__ import annotations


def torch_gpt(cfg: dict, sdpa: bool = False):
    """Build the torch GPT for ``cfg`` (the lecture's keys + optional tie_weights, activation, layer_norm_eps,
    bias as nn.GPT's), in train mode. ``sdpa=True`` computes attention with F.scaled_dot_product_attention
    (flash kernels; the same formula) instead of the lecture's explicit softmax(QKᵀ/√d)V."""
    import torch  # noqa: PLC0415
    from torch import nn  # noqa: PLC0415

    def norm(c):
        return nn.LayerNorm(c["emb_dim"], eps=c.get("layer_norm_eps", 1e-5), bias=c.get("bias", True))

    class MultiHeadAttention(nn.Module):
        def __init__(self, d, n_heads, dropout, qkv_bias, bias):
            super().__init__()
            self.n_heads, self.head_dim = n_heads, d // n_heads
            self.W_query = nn.Linear(d, d, bias=qkv_bias)
            self.W_key = nn.Linear(d, d, bias=qkv_bias)
            self.W_value = nn.Linear(d, d, bias=qkv_bias)
            self.out_proj = nn.Linear(d, d, bias=bias)
            self.dropout = nn.Dropout(dropout)

        def forward(self, x):
            b, t, d = x.shape
            split = lambda y: y.view(b, t, self.n_heads, self.head_dim).transpose(1, 2)  # (b, h, t, hd)
            q, k, v = split(self.W_query(x)), split(self.W_key(x)), split(self.W_value(x))
            if sdpa:
                p = self.dropout.p if self.training else 0.0
                ctx = nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
                return self.out_proj(ctx.transpose(1, 2).reshape(b, t, d))
            scores = q @ k.transpose(2, 3)
            mask = torch.triu(torch.ones(t, t, dtype=torch.bool, device=x.device), diagonal=1)
            scores = scores.masked_fill(mask, -torch.inf)
            weights = self.dropout(torch.softmax(scores / self.head_dim ** 0.5, dim=-1))
            ctx = (weights @ v).transpose(1, 2).reshape(b, t, d)
            return self.out_proj(ctx)

    class TransformerBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            d, b = c["emb_dim"], c.get("bias", True)
            self.att = MultiHeadAttention(d, c["n_heads"], c["drop_rate"], c["qkv_bias"], b)
            self.ff = nn.Module()
            gelu = nn.GELU(approximate="tanh" if c.get("activation", "gelu_tanh") == "gelu_tanh" else "none")
            self.ff.layers = nn.Sequential(nn.Linear(d, 4 * d, bias=b), gelu, nn.Linear(4 * d, d, bias=b))
            self.norm1, self.norm2 = norm(c), norm(c)
            self.drop_shortcut = nn.Dropout(c["drop_rate"])

        def forward(self, x):
            x = x + self.drop_shortcut(self.att(self.norm1(x)))
            return x + self.drop_shortcut(self.ff.layers(self.norm2(x)))

    class GPTModel(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.tok_emb = nn.Embedding(c["vocab_size"], c["emb_dim"])
            self.pos_emb = nn.Embedding(c["context_length"], c["emb_dim"])
            self.drop_emb = nn.Dropout(c["drop_rate"])
            self.trf_blocks = nn.Sequential(*[TransformerBlock(c) for _ in range(c["n_layers"])])
            self.final_norm = norm(c)
            self.out_head = nn.Linear(c["emb_dim"], c["vocab_size"], bias=False)
            if c.get("tie_weights", False):
                self.out_head.weight = self.tok_emb.weight

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok_emb(idx) + self.pos_emb(torch.arange(t, device=idx.device))
            x = self.trf_blocks(self.drop_emb(x))
            return self.out_head(self.final_norm(x))

    return GPTModel(cfg)


def torch_state_dict_to_jax(model, tie_weights: bool) -> dict:
    """The torch model's state_dict as {name: numpy array}, without the tied out_head.weight duplicate."""
    sd = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    if tie_weights:
        sd.pop("out_head.weight")
    return sd
