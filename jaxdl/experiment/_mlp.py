"""The MLP recipe: [data] → arrays, [model] → nn.Sequential, then fit (``model.kind = "mlp"``, and "cnn" with
``_cnn``'s network)."""
from __future__ import annotations

import numpy as np

from jaxdl.config import Config, ConfigError, NpzData
from jaxdl.experiment._batch import check_batch_size

NPZ_KEYS = ("x_train", "y_train", "x_val", "y_val")


def build_data(cfg: Config):
    """(train, val, test) (x, y) numpy arrays for ``cfg.data``; y is float (N, 1) for binary_cross_entropy."""
    from jaxdl import data  # noqa: PLC0415

    d = cfg.data
    if d.kind == "digits":
        parts = data.digits(val_fraction=d.val_fraction, test_fraction=d.test_fraction, seed=d.seed)
    elif d.kind == "npz":
        parts = _read_npz(d)
    else:
        make = {"moons": data.two_moons, "circles": data.circles,
                "spirals": lambda n, noise, seed: data.spirals(n, classes=d.classes, noise=noise, seed=seed)}[d.kind]
        x, y = make(d.n, noise=d.noise, seed=d.seed)
        parts = data.split(x, y, val_fraction=d.val_fraction, test_fraction=d.test_fraction, seed=d.seed)
    check_fits(cfg, parts[0], parts[1])
    if cfg.train.loss == "binary_cross_entropy":
        parts = tuple((x, y.astype(np.float32).reshape(-1, 1)) for x, y in parts)
    return parts


def _read_npz(d: NpzData):
    """x_train, y_train, x_val, y_val from the .npz, each checked: x (N, F) floats, y (N,) integer labels."""
    where = f"data.path = {d.path!r}"
    try:
        with np.load(d.path) as z:
            arrays = {k: z[k] for k in NPZ_KEYS if k in z.files}
            files = sorted(z.files)
    except (OSError, ValueError) as err:  # not a zip, a pickled object array, unreadable
        raise ConfigError(f"{where}: cannot be read as an .npz ({type(err).__name__}: {err})") from None
    missing = [k for k in NPZ_KEYS if k not in arrays]
    if missing:
        raise ConfigError(f"{where}: the .npz lacks {missing}; it has {files}, expected {list(NPZ_KEYS)}")
    for split in ("train", "val"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
            raise ConfigError(f"{where}: x_{split} must be numbers of shape (N, features); got {x.dtype} {x.shape}")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ConfigError(f"{where}: y_{split} must be integer class labels of shape (N,); got {y.dtype} "
                              f"{y.shape}" + (" (use y.ravel())" if y.ndim == 2 and y.shape[1] == 1 else ""))
        if len(x) != len(y):
            raise ConfigError(f"{where}: x_{split} has {len(x)} rows but y_{split} has {len(y)}")
        if y.size and y.min() < 0:
            raise ConfigError(f"{where}: y_{split} has the negative label {int(y.min())}; expected labels 0..C-1")
    if arrays["x_val"].shape[1] != arrays["x_train"].shape[1]:
        raise ConfigError(f"{where}: x_val has {arrays['x_val'].shape[1]} features but x_train has "
                          f"{arrays['x_train'].shape[1]} (the model's in_features)")
    x_train, x_val = (arrays[k].astype(np.float32) for k in ("x_train", "x_val"))
    return (x_train, arrays["y_train"]), (x_val, arrays["y_val"]), (x_val[:0], arrays["y_val"][:0])


def check_fits(cfg: Config, train, val) -> None:
    """The tables must agree with each other and the data: one ConfigError line naming the keys, not a
    traceback from fit (empty split, too few outputs for the labels, binary loss on a multi-class set)."""
    m, d, loss = cfg.model, cfg.data, cfg.train.loss
    for name, (x, _) in (("training", train), ("validation", val)):
        if len(x) == 0:
            sizes = ", ".join(f"data.{k} = {getattr(d, k)}" for k in ("n", "val_fraction") if hasattr(d, k))
            raise ConfigError(f"the {name} split is empty (data.kind = {d.kind!r}, {sizes}): use more data or "
                              "other fractions")
    y = np.concatenate([np.asarray(train[1]).ravel(), np.asarray(val[1]).ravel()])
    classes = int(y.max()) + 1 if np.issubdtype(y.dtype, np.integer) else None
    if loss == "binary_cross_entropy":
        if m.out_features != 1 or not m.sigmoid_output:
            raise ConfigError(f"train.loss = 'binary_cross_entropy' needs model.out_features = 1 and "
                              f"model.sigmoid_output = true; got {m.out_features} and "
                              f"{str(m.sigmoid_output).lower()}")
        if not np.isin(y, (0, 1)).all():
            raise ConfigError(f"train.loss = 'binary_cross_entropy' needs labels 0/1; data.kind = {d.kind!r} has "
                              f"labels {np.unique(y)[:10].tolist()}: use 'cross_entropy'")
    elif classes is not None and m.out_features < classes:
        raise ConfigError(f"model.out_features = {m.out_features}, but data.kind = {d.kind!r} has {classes} classes "
                          f"(labels 0..{classes - 1}): expected model.out_features >= {classes} for cross_entropy")


def build_model(cfg: Config, in_features: int):
    """The [model] table's network: [Linear → (BatchNorm1d) → activation → (Dropout)] × len(hidden) → Linear;
    for ``model.kind = "cnn"``, ``_cnn.build_cnn``'s."""
    from jaxdl import nn  # noqa: PLC0415

    m = cfg.model
    if m.kind == "cnn":
        from jaxdl.experiment._cnn import build_cnn  # noqa: PLC0415

        return build_cnn(m, in_features)
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


def loss_fn(cfg: Config):
    from jaxdl import functional as F  # noqa: PLC0415

    return {"cross_entropy": F.cross_entropy, "binary_cross_entropy": F.binary_cross_entropy}[cfg.train.loss]


def accuracy(model, state, x, y) -> float:
    """Accuracy of ``model`` with ``state``'s arrays in eval mode on (x, y): argmax, or probability > 0.5."""
    out, _ = model.apply(state.params, state.model_state, x, training=False)
    out = np.asarray(out)
    pred = (out[:, 0] > 0.5).astype(np.int32) if out.shape[-1] == 1 else out.argmax(-1)
    return float(np.mean(pred == np.asarray(y).reshape(len(y), -1)[:, 0].astype(np.int32)))


def run_mlp(cfg: Config, fit_kwargs: dict, start) -> dict:
    """Train the MLP from ``start`` (a ``_resume.Start``: a new state, or a resumed one with the config's lr);
    ``fit_kwargs`` are fit's run arguments (out_dir, resume, progress, metadata)."""
    from jaxdl.experiment._optim import build_tx  # noqa: PLC0415
    from jaxdl.train import fit  # noqa: PLC0415

    train, val, test = build_data(cfg)
    check_batch_size(cfg, len(train[0]), "examples", f"data.kind = {cfg.data.kind!r}")
    model = build_model(cfg, train[0].shape[1])
    tx, t = build_tx(cfg.optim), cfg.train
    result = fit(model, tx, train, val, loss_fn=loss_fn(cfg), epochs=t.epochs, batch_size=t.batch_size, mode=t.mode,
                 precision=t.precision, patience=t.patience or None, accuracy=t.loss == "cross_entropy",
                 **start.fit_kwargs(model, tx, t.precision, t.ema_decay), **fit_kwargs)
    test_acc = accuracy(model, result.state, *test) if len(test[0]) else None
    return {"history": result.history, "val_acc": accuracy(model, result.state, *val), "test_acc": test_acc}
