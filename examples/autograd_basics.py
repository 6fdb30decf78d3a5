"""The lecture's autograd examples with jax.grad: each torch `.backward()` becomes a function of the inputs.

    python examples/autograd_basics.py
"""
import jax
import jax.numpy as jnp

from jaxdl import functional as F


def logistic_grad(w=2.2, b=0.0, x=1.1, y=1.0):
    """d/d(w, b) of BCE(σ(x·w + b), y); torch: loss.backward(), then w.grad and b.grad.

    At the defaults: (-0.0898, -0.0817).
    """
    def loss(w, b):
        return F.binary_cross_entropy(F.sigmoid(x * w + b), jnp.asarray(y))
    return jax.grad(loss, argnums=(0, 1))(jnp.asarray(w), jnp.asarray(b))


def q_and_grads(a=(2.0, 3.0), b=(6.0, 4.0)):
    """Q = Σ(3a³ − b²) with dQ/da = 9a² and dQ/db = −2b; torch: Q.backward() (Q.sum() for a vector Q)."""
    def q(a, b):
        return jnp.sum(3 * a**3 - b**2)
    a, b = jnp.asarray(a), jnp.asarray(b)
    value, (da, db) = jax.value_and_grad(q, argnums=(0, 1))(a, b)
    return value, da, db


def gradient_descent(x0=0.0, lr=0.1, steps=30):
    """Minimise (x − 3)² by x ← x − lr·f'(x); torch: loop backward(), `x -= lr * x.grad`, x.grad.zero_()."""
    df = jax.grad(lambda x: (x - 3.0) ** 2)
    x = jnp.asarray(x0)
    for _ in range(steps):
        x = x - lr * df(x)
    return x


def mean_cross_entropy():
    """F.cross_entropy of the lecture's two rows of logits with labels [0, 2] (mean over the batch)."""
    logits = jnp.array([[0.3990, 3.0183, -5.2956], [1.3489, -2.3576, 3.8040]])
    return F.cross_entropy(logits, jnp.array([0, 2]))


def main():
    dw, db = logistic_grad()
    print(f"dL/dw = {float(dw):.4f}, dL/db = {float(db):.4f}")
    value, da, db = q_and_grads()
    print(f"Q = {float(value):.0f}, dQ/da = {da.tolist()}, dQ/db = {db.tolist()}")
    print(f"gradient descent on (x-3)^2 after 30 steps: x = {float(gradient_descent()):.5f}")
    print(f"mean cross-entropy: {float(mean_cross_entropy()):.4f}")


if __name__ == "__main__":
    main()
