"""Carry a torch model over: a small ResNet-style CNN trained in torch, converted, trained further in jaxdl.

Run: python examples/resnet_from_torch.py [--torch-epochs N] [--epochs N] [--width C] [--blocks B]
A torch CNN (a Conv2d → BatchNorm2d → ReLU stem, residual blocks of two 3×3 convolutions with BatchNorm whose
output is added to their input, a Linear head on the flattened feature maps) is trained with torch.optim.Adam on the
8×8 digits, converted with ``interop.from_torch`` (its forward is custom, so through ``torch.export``), trained
further with ``jaxdl.train.fit``, loaded back into the torch module (``interop.state_dict``, strict=True) and
checked against it with ``interop.compare``. Needs torch (the test extra: ``pip install -e ".[test]"``).
"""
import argparse

import jax
import numpy as np
import torch

from jaxdl import data, interop, optim
from jaxdl.train import TrainState, fit


class Block(torch.nn.Module):
    """relu(x + bn2(conv2(relu(bn1(conv1(x)))))): two 3×3 convolutions with BatchNorm and a residual add."""

    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c)
        self.conv2, self.bn2 = torch.nn.Conv2d(c, c, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c)

    def forward(self, x):
        h = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(h)))


class ResNet(torch.nn.Module):
    """(N, 64) flat digits → (N, 10) logits: stem, residual blocks at 8×8, Linear head on the flattened maps."""

    def __init__(self, width=16, blocks=2):
        super().__init__()
        self.stem = torch.nn.Sequential(torch.nn.Conv2d(1, width, 3, padding=1, bias=False),
                                        torch.nn.BatchNorm2d(width), torch.nn.ReLU())
        self.blocks = torch.nn.Sequential(*(Block(width) for _ in range(blocks)))
        self.head = torch.nn.Linear(width * 64, 10)

    def forward(self, x):
        h = self.blocks(self.stem(x.view(-1, 1, 8, 8)))
        return self.head(h.flatten(1))


def train_torch(net, train, epochs: int, batch_size: int = 64, lr: float = 3e-3, seed: int = 0):
    """torch's usual loop: Adam, cross-entropy, shuffled mini-batches (the partial last batch dropped)."""
    x, y = torch.as_tensor(train[0]), torch.as_tensor(train[1]).long()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x) - batch_size + 1, batch_size):
            batch = order[i:i + batch_size]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[batch]), y[batch]).backward()
            opt.step()
    return net


def accuracy(logits, y) -> float:
    return float(np.mean(np.asarray(logits).argmax(-1) == np.asarray(y)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-epochs", type=int, default=3, help="epochs of training in torch first")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of training with jaxdl's fit afterwards")
    parser.add_argument("--width", type=int, default=16, help="channels of every convolution")
    parser.add_argument("--blocks", type=int, default=2, help="residual blocks")
    args = parser.parse_args(argv)

    train, val, test = data.digits(val_fraction=0.2, test_fraction=0.2, seed=0)
    torch.manual_seed(0)
    net = train_torch(ResNet(args.width, args.blocks), train, args.torch_epochs)
    with torch.no_grad():
        torch_acc = accuracy(net.eval()(torch.as_tensor(test[0])), test[1])

    model, params, state = interop.from_torch(net, torch.as_tensor(train[0][:64]))  # through torch.export
    converted_acc = accuracy(model.apply(params, state, test[0])[0], test[1])
    tx = optim.adam(lr=1e-3)
    start = TrainState.create(model, tx, jax.random.key(0)).replace(params=params, model_state=state,
                                                                    opt_state=tx.init(params))
    result = fit(model, tx, train, val, epochs=args.epochs, batch_size=64, state=start, progress=False)
    s = result.state
    jaxdl_acc = accuracy(model.apply(s.params, s.model_state, test[0])[0], test[1])
    print(f"test accuracy: torch after {args.torch_epochs} epochs {torch_acc:.3f}, converted {converted_acc:.3f}, "
          f"after {args.epochs} more with fit {jaxdl_acc:.3f}")

    back = interop.state_dict(s.params, s.model_state, module=model)  # numpy arrays under torch's names
    net.load_state_dict({k: torch.from_numpy(v) for k, v in back.items()}, strict=True)
    comparison = interop.compare(net, model, s.params, s.model_state, test[0][:32], training=True)
    return {"torch_acc": torch_acc, "converted_acc": converted_acc, "jaxdl_acc": jaxdl_acc, "comparison": comparison}


if __name__ == "__main__":
    main()
