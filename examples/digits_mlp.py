"""The lecture MLP on 8×8 digits: (Linear → BatchNorm1d → ReLU → Dropout) × 2 → Linear, AdamW
(configs/digits_mlp.toml)."""
import jax
import numpy as np

from jaxdl import data, nn, optim
from jaxdl.train import fit


def main(epochs: int = 30) -> float:
    train, val, test = data.digits(val_fraction=0.2, test_fraction=0.2, seed=0)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 10))
    result = fit(model, optim.adamw(lr=1e-3, weight_decay=1e-2), train, val, epochs=epochs, batch_size=64,
                 key=jax.random.key(0), progress=False)
    s = result.state
    logits, _ = model.apply(s.params, s.model_state, test[0], training=False)  # eval mode: running BN stats
    test_acc = float(np.mean(np.asarray(logits).argmax(-1) == test[1]))
    print(f"val_acc {result.history[-1]['val_acc']:.3f}  test_acc {test_acc:.3f}")
    return test_acc


if __name__ == "__main__":
    main()
