"""A small U-Net that denoises the 8×8 digits, built only from jaxdl.nn: two encoder levels (Conv2d →
BatchNorm2d → ReLU, MaxPool2d), a ConvTranspose2d up-path whose output is concatenated with the skip connection
(torch.cat on dim 1), and a 1×1 Conv2d head; trained with fit on (noisy image, clean image) pairs and MSE.

The noise is drawn once per example (σ = 0.3, numpy seed 0), so the pairs are fixed arrays that fit can scan.
The script prints the validation MSE beside two baselines it must beat: returning the noisy input unchanged,
and returning the mean training image.
"""
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import data, nn, optim
from jaxdl import functional as F
from jaxdl.train import fit

SIGMA = 0.3


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """(Conv2d 3×3 → BatchNorm2d → ReLU) × 2, padding 1: the spatial size is kept."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(),
                         nn.Conv2d(c_out, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


@dataclasses.dataclass(frozen=True)
class UNet(nn.Module):
    """(N, 64) flat digits → (N, 1, 8, 8): down 8→4, bottleneck at 4×4, up 4→8, skip concatenated on channels."""
    down: nn.Module = conv_block(1, 16)
    pool: nn.Module = nn.MaxPool2d(2)
    bottom: nn.Module = conv_block(16, 32)
    up: nn.Module = nn.ConvTranspose2d(32, 16, 2, stride=2)
    merge: nn.Module = conv_block(32, 16)
    head: nn.Module = nn.Conv2d(16, 1, 1)

    def apply(self, params, state, x, *, training=False, key=None):
        m = nn.bind(self, params, state, training=training, key=key)
        skip = m.down(x.reshape(x.shape[0], 1, 8, 8))  # data.digits gives flat (N, 64) images
        h = m.bottom(m.pool(skip))
        h = jnp.concatenate([m.up(h), skip], axis=1)  # torch.cat([up, skip], dim=1)
        return m.head(m.merge(h)).reshape(x.shape[0], 64), m.state


def noisy_pairs(x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(x + N(0, σ²) noise, x): the denoising task's inputs and targets."""
    noise = np.random.default_rng(seed).normal(0.0, SIGMA, x.shape).astype(np.float32)
    return x + noise, x


def main(epochs: int = 20) -> dict:
    (x_train, _), (x_val, _), _ = data.digits(val_fraction=0.2, test_fraction=0.2, seed=0)
    train, val = noisy_pairs(x_train, seed=0), noisy_pairs(x_val, seed=1)
    model = UNet()
    result = fit(model, optim.adam(lr=3e-3), train, val, loss_fn=F.mse_loss, accuracy=False, epochs=epochs,
                 batch_size=64, key=jax.random.key(0), progress=False)
    s = result.state
    denoised, _ = model.apply(s.params, s.model_state, val[0], training=False)
    figures = {"unet": float(F.mse_loss(denoised, val[1])),
               "noisy_input": float(np.mean((val[0] - val[1]) ** 2)),
               "mean_image": float(np.mean((x_train.mean(0) - val[1]) ** 2))}
    print("validation MSE  " + "  ".join(f"{k} {v:.4f}" for k, v in figures.items()))
    return figures


if __name__ == "__main__":
    main()
