"""The 3-class MLP on spirals: sigmoid activations, then ReLU, SGD with momentum 0.9 (configs/spirals_*.toml)."""
import jax

from jaxdl import data, nn, optim
from jaxdl.train import fit


def main(epochs: int = 100) -> dict:
    x, y = data.spirals(600, classes=3, noise=0.2, seed=0)
    train, val, _ = data.split(x, y, val_fraction=0.25, test_fraction=0.0, seed=0)
    accs = {}
    for act, lr in ((nn.Sigmoid, 0.5), (nn.ReLU, 0.1)):
        model = nn.Sequential(nn.Linear(2, 100), act(), nn.Linear(100, 3))
        result = fit(model, optim.sgd(lr=lr, momentum=0.9), train, val, epochs=epochs, batch_size=32,
                     key=jax.random.key(0), progress=False)
        accs[act.__name__] = result.history[-1]["val_acc"]
        print(f"{act.__name__:>7}: val_loss {result.history[-1]['val_loss']:.4f}  val_acc {accs[act.__name__]:.3f}")
    return accs


if __name__ == "__main__":
    main()
