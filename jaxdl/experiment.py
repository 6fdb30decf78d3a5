"""Builders from a validated Config (model kind → model, data kind → arrays, optim name → optimizer), and
``jaxdl train``."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from jaxdl.config import Config, ConfigError, load_config

NPZ_KEYS = ("x_train", "y_train", "x_val", "y_val")


def build_data(cfg: Config):
    """(train, val, test) (x, y) numpy arrays for ``cfg.data``; y is float (N, 1) for binary_cross_entropy."""
    from jaxdl import data  # noqa: PLC0415

    d = cfg.data
    if d.kind == "digits":
        parts = data.digits(val_fraction=d.val_fraction, test_fraction=d.test_fraction, seed=d.seed)
    elif d.kind == "npz":
        with np.load(d.path) as z:
            missing = [k for k in NPZ_KEYS if k not in z.files]
            if missing:
                raise ConfigError(f"data.path = {d.path!r}: the .npz lacks {missing}; it has {sorted(z.files)}, "
                                  f"expected {list(NPZ_KEYS)}")
            parts = ((z["x_train"], z["y_train"]), (z["x_val"], z["y_val"]), (z["x_val"][:0], z["y_val"][:0]))
    else:
        make = {"moons": data.two_moons, "circles": data.circles,
                "spirals": lambda n, noise, seed: data.spirals(n, classes=d.classes, noise=noise, seed=seed)}[d.kind]
        x, y = make(d.n, noise=d.noise, seed=d.seed)
        parts = data.split(x, y, val_fraction=d.val_fraction, test_fraction=d.test_fraction, seed=d.seed)
    check_fits(cfg, parts[0], parts[1])
    if cfg.train.loss == "binary_cross_entropy":
        parts = tuple((x, y.astype(np.float32).reshape(-1, 1)) for x, y in parts)
    return parts


def check_fits(cfg: Config, train, val) -> None:
    """The tables must agree with each other and the data: one ConfigError line naming the keys, not a
    traceback from fit (empty split, too few outputs for the labels, binary loss on a multi-class set)."""
    m, d, loss = cfg.model, cfg.data, cfg.train.loss
    for name, (x, _) in (("training", train), ("validation", val)):
        if len(x) == 0:
            raise ConfigError(f"the {name} split is empty (data.kind = {d.kind!r}, data.n = {d.n}, "
                              f"data.val_fraction = {d.val_fraction}): use more data or other fractions")
    y = np.concatenate([np.asarray(train[1]).ravel(), np.asarray(val[1]).ravel()])
    classes = int(y.max()) + 1 if np.issubdtype(y.dtype, np.integer) else None
    if loss == "binary_cross_entropy":
        if m.out_features != 1 or not m.sigmoid_output:
            raise ConfigError(f"train.loss = 'binary_cross_entropy' needs model.out_features = 1 and "
                              f"model.sigmoid_output = true; got {m.out_features} and {str(m.sigmoid_output).lower()}")
        if not np.isin(y, (0, 1)).all():
            raise ConfigError(f"train.loss = 'binary_cross_entropy' needs labels 0/1; data.kind = {d.kind!r} has "
                              f"labels {np.unique(y)[:10].tolist()}: use 'cross_entropy'")
    elif classes is not None and m.out_features < classes:
        raise ConfigError(f"model.out_features = {m.out_features}, but data.kind = {d.kind!r} has {classes} classes "
                          f"(labels 0..{classes - 1}): expected model.out_features >= {classes} for cross_entropy")


def build_model(cfg: Config, in_features: int):
    """The [model] table's network: [Linear → (BatchNorm1d) → activation → (Dropout)] × len(hidden) → Linear."""
    from jaxdl import nn  # noqa: PLC0415

    m = cfg.model
    act = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[m.activation]
    layers, width = [], in_features
    for h in m.hidden:
        layers.append(nn.Linear(width, h))
        if m.batchnorm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        if m.dropout > 0:
            layers.append(nn.Dropout(m.dropout))
        width = h
    layers.append(nn.Linear(width, m.out_features))
    if m.sigmoid_output:
        layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


def build_tx(name: str, lr, momentum: float = 0.0, weight_decay: float = 0.0):
    """jaxdl.optim's sgd / sgd with momentum / adam / adamw (torch's defaults otherwise)."""
    from jaxdl import optim  # noqa: PLC0415

    if name == "sgd":
        return optim.sgd(lr=lr, weight_decay=weight_decay)
    if name == "sgd_momentum":
        return optim.sgd(lr=lr, momentum=momentum or 0.9, weight_decay=weight_decay)
    if name == "adam":
        return optim.adam(lr=lr, weight_decay=weight_decay)
    return optim.adamw(lr=lr, weight_decay=weight_decay or 1e-2)


def loss_fn(cfg: Config):
    from jaxdl import functional as F  # noqa: PLC0415

    return {"cross_entropy": F.cross_entropy, "binary_cross_entropy": F.binary_cross_entropy}[cfg.train.loss]


def accuracy(cfg: Config, model, state, x, y) -> float:
    """Accuracy of ``model`` with ``state``'s arrays in eval mode on (x, y): argmax, or probability > 0.5 for one output."""
    out, _ = model.apply(state.params, state.model_state, x, training=False)
    out = np.asarray(out)
    pred = (out[:, 0] > 0.5).astype(np.int32) if out.shape[-1] == 1 else out.argmax(-1)
    return float(np.mean(pred == np.asarray(y).reshape(len(y), -1)[:, 0].astype(np.int32)))


def run_train(cfg: Config, out_dir: str | None = None, resume: bool = False, progress: bool = True) -> dict:
    """Train as the config says; returns {"history", "val_acc", "test_acc"} (test_acc None without a test split).

    A GPT config also returns "unigram_entropy", the validation text's loss for a model that ignores context.
    """
    import jax  # noqa: PLC0415

    from jaxdl.train import CheckpointError, fit  # noqa: PLC0415

    if cfg.raw.get("model", {}).get("kind") == "gpt":
        from jaxdl.generate import train_char_gpt  # noqa: PLC0415

        if "train" not in cfg.raw:
            raise ConfigError("this GPT config has no [train] table: it describes a model only (see "
                              "`jaxdl params CONFIG`); configs/gpt_char.toml is one that trains")

        try:
            result, _, entropy = train_char_gpt(cfg.raw, out_dir=out_dir, resume=resume, progress=progress)
        except KeyError as err:  # the GPT trainer validates its own tables; a missing one is a config error
            raise ConfigError(f"gpt config: missing key {err}") from None
        except CheckpointError:  # a bad --resume file is not a config error
            raise
        except (ValueError, TypeError) as err:
            raise ConfigError(f"[model] kind = 'gpt': {err}") from None
        return {"history": result.history, "val_acc": result.history[-1]["val_acc"], "test_acc": None,
                "unigram_entropy": entropy}
    train, val, test = build_data(cfg)
    model = build_model(cfg, train[0].shape[1])
    o, t = cfg.optim, cfg.train
    tx = build_tx(o.name, o.lr, o.momentum, o.weight_decay)
    result = fit(model, tx, train, val, loss_fn=loss_fn(cfg), epochs=t.epochs,
                 batch_size=min(t.batch_size, len(train[0])),
                 key=jax.random.key(t.seed), mode=t.mode, patience=t.patience or None,
                 out_dir=out_dir or t.out_dir or None, resume=resume, progress=progress,
                 accuracy=t.loss == "cross_entropy")
    test_acc = accuracy(cfg, model, result.state, *test) if len(test[0]) else None
    return {"history": result.history, "val_acc": accuracy(cfg, model, result.state, *val), "test_acc": test_acc}


def main(argv) -> int:
    """``jaxdl train CONFIG [--set k=v ...] [--out DIR] [--resume]``."""
    p = argparse.ArgumentParser(prog="jaxdl train", description="train a model as a TOML config describes")
    p.add_argument("config", help="a TOML file, e.g. configs/digits_mlp.toml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (Python literal), e.g. --set optim.lr=0.1; repeatable")
    p.add_argument("--out", default=None, help="output folder (metrics.jsonl, curves.png, checkpoints)")
    p.add_argument("--resume", action="store_true", help="continue from the output folder's checkpoint")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    from jaxdl.train import CheckpointError, NonFiniteLossError  # noqa: PLC0415

    try:
        cfg = load_config(args.config, args.set)
        res = run_train(cfg, args.out, args.resume, not args.no_progress)
    except ConfigError as err:
        print(f"jaxdl: error: {err}", file=sys.stderr)
        return 2
    except (CheckpointError, NonFiniteLossError) as err:  # a bad --resume file, a diverged run: one line, no traceback
        print(f"jaxdl: error: {err}", file=sys.stderr)
        return 1
    if "unigram_entropy" in res:  # a language model: its loss per epoch beside the no-context baseline
        for h in res["history"]:
            print(f"epoch {h['epoch']}: train_loss {h['train_loss']:.4f}  val_loss {h['val_loss']:.4f}  "
                  f"(unigram entropy of the validation text: {res['unigram_entropy']:.4f} nats)")
    last = res["history"][-1]
    print(f"epoch {last['epoch']}: train_loss {last['train_loss']:.4f}  val_loss {last['val_loss']:.4f}  "
          f"val_acc {res['val_acc']:.4f}" + ("" if res["test_acc"] is None else f"  test_acc {res['test_acc']:.4f}"))
    return 0
