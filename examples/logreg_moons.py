"""Logistic regression on two moons: one Linear, a sigmoid, binary cross entropy and SGD (configs/logreg_moons.toml)."""
import jax
import numpy as np

from jaxdl import data, nn, optim
from jaxdl import functional as F
from jaxdl.train import fit


def main(epochs: int = 30) -> float:
    x, y = data.two_moons(400, noise=0.1, seed=0)
    y = y.astype(np.float32)[:, None]                    # BCE targets: probabilities of class 1, shape (N, 1)
    train, val, _ = data.split(x, y, val_fraction=0.25, test_fraction=0.0, seed=0)
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    result = fit(model, optim.sgd(lr=0.5), train, val, loss_fn=F.binary_cross_entropy, epochs=epochs,
                 batch_size=32, key=jax.random.key(0), accuracy=False, progress=False)
    s = result.state
    p, _ = model.apply(s.params, s.model_state, val[0])
    acc = float(np.mean((np.asarray(p) > 0.5) == (val[1] > 0.5)))
    print(f"val_loss {result.history[-1]['val_loss']:.4f}  val_acc {acc:.3f}  (a line cannot separate the moons fully)")
    return acc


if __name__ == "__main__":
    main()
