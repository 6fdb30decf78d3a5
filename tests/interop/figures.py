"""Print the figures behind test_gpt_sources.py: per source and dtype, the max |logit difference| of jaxdl
(load_gpt) against the source's own torch code in float64, torch's own float32 error on the same scale, and
whether the greedy tokens agree. Run: PYTHONPATH=. python -m tests.interop.figures
"""
import jax
import jax.numpy as jnp
import numpy as np
import torch

from jaxdl.generate import generate
from jaxdl.interop import load_gpt
from tests.interop.test_gpt_sources import BUILD, H, greedy_torch, idx_batch, logits_of, reference


def main():
    idx = idx_batch()
    print("| source | dtype | max abs(jaxdl − torch float64) | max abs(torch − torch float64) | greedy tokens equal |")
    print("|---|---|---|---|---|")
    for source in BUILD:
        for dtype in ("float32", "float64"):
            with jax.enable_x64(dtype == "float64"):
                torch.set_default_dtype(getattr(torch, dtype))  # (the book's GELU constant follows it)
                ref = reference(source)
                exact = logits_of(source, reference(source).double(), idx).numpy()  # the same weights, float64
                model, params, state = load_gpt(ref.state_dict(), source=source, n_heads=H)
                got = np.asarray(model.apply(params, state, jnp.asarray(idx.numpy()))[0])
                torch_err = np.max(np.abs(logits_of(source, ref, idx).numpy() - exact))
                tokens = generate(model, params, jnp.asarray(idx.numpy()[:, :4]), 8, key=jax.random.key(0),
                                  temperature=0.0)
                same = np.array_equal(np.asarray(tokens), greedy_torch(source, ref, idx[:, :4], 8))
                torch.set_default_dtype(torch.float32)
            print(f"| {source} | {dtype} | {np.max(np.abs(got - exact)):.2e} | {torch_err:.2e} | {same} |")


if __name__ == "__main__":
    main()
