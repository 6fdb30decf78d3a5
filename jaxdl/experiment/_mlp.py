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
        from jaxdl.experiment._memory import TOY_POINT_BYTES, check_bytes  # noqa: PLC0415

        check_bytes(d.n * TOY_POINT_BYTES, f"data.n = {d.n:,} points of data.kind = {d.kind!r}, "
                    f"{TOY_POINT_BYTES} bytes each while drawn", "use a smaller data.n")
        make = {"moons": data.two_moons, "circles": data.circles,
                "spirals": lambda n, noise, seed: data.spirals(n, classes=d.classes, noise=noise, seed=seed)}[d.kind]
        x, y = make(d.n, noise=d.noise, seed=d.seed)
        parts = data.split(x, y, val_fraction=d.val_fraction, test_fraction=d.test_fraction, seed=d.seed)
    check_fits(cfg, *parts)
    if cfg.train.loss == "binary_cross_entropy":
        parts = tuple((x, y.astype(np.float32).reshape(-1, 1)) for x, y in parts)
    return parts


def _read_npz(d: NpzData):
    """x_train, y_train, x_val, y_val from the .npz, each checked: x (N, F) floats, y (N,) integer labels."""
    where = f"data.path = {d.path!r}"
    try:
        loaded = np.load(d.path)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a .npy: one array, no names
            raise ValueError(f"it holds one {type(loaded).__name__} (a .npy file?), not named arrays; write it with "
                             "np.savez(path, x_train=..., y_train=..., x_val=..., y_val=...)")
        with loaded as z:
            arrays = {k: z[k] for k in NPZ_KEYS if k in z.files}
            files = sorted(z.files)
    except (OSError, ValueError) as err:  # not a zip, a pickled object array, unreadable
        raise ConfigError(f"{where}: cannot be read as an .npz ({type(err).__name__}: {err})") from None
    missing = [k for k in NPZ_KEYS if k not in arrays]
    if missing:
        raise ConfigError(f"{where}: the .npz lacks {missing}; it has {files}, expected {list(NPZ_KEYS)}")
    for split in ("train", "val"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 2 or x.shape[1] == 0 or not (np.issubdtype(x.dtype, np.integer)
                                                  or np.issubdtype(x.dtype, np.floating)):
            raise ConfigError(f"{where}: x_{split} must be real numbers of shape (N, features ≥ 1); got {x.dtype} "
                              f"{x.shape}")
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise ConfigError(f"{where}: y_{split} must be integer class labels of shape (N,); got {y.dtype} "
                              f"{y.shape}" + (" (use y.ravel())" if y.ndim == 2 and y.shape[1] == 1 else ""))
        if len(x) != len(y):
            raise ConfigError(f"{where}: x_{split} has {len(x)} rows but y_{split} has {len(y)}")
        if y.size and y.min() < 0:
            raise ConfigError(f"{where}: y_{split} has the negative label {int(y.min())}; expected labels 0..C-1")
        with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf: reported below
            arrays[f"x_{split}"] = x = x.astype(np.float32)
        bad = ~np.isfinite(x)
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise ConfigError(f"{where}: x_{split} holds {int(bad.sum())} NaN or infinite value(s) as float32, the "
                              f"first at row {row}, column {col}; expected finite numbers (drop or impute them)")
    if arrays["x_val"].shape[1] != arrays["x_train"].shape[1]:
        raise ConfigError(f"{where}: x_val has {arrays['x_val'].shape[1]} features but x_train has "
                          f"{arrays['x_train'].shape[1]} (the model's in_features)")
    x_train, x_val = arrays["x_train"], arrays["x_val"]
    return (x_train, arrays["y_train"]), (x_val, arrays["y_val"]), (x_val[:0], arrays["y_val"][:0])


def check_fits(cfg: Config, train, val, test=None) -> None:
    """The tables must agree with each other and the data: one ConfigError line naming the keys, not a
    traceback from fit (empty split, too few outputs for the labels, binary loss on a multi-class set).

    A split the config asks for must hold examples: the training and validation splits always, the test split
    when data.test_fraction > 0 (else its accuracy would be dropped without a word)."""
    m, d, loss = cfg.model, cfg.data, cfg.train.loss
    splits = [("training", train, "val_fraction"), ("validation", val, "val_fraction")]
    if test is not None and getattr(d, "test_fraction", 0) > 0:
        splits.append(("test", test, "test_fraction"))
    for name, (x, _), fraction in splits:
        if len(x) == 0:
            sizes = ", ".join(f"data.{k} = {getattr(d, k)!r}" for k in ("n", fraction, "path") if hasattr(d, k))
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
    from jaxdl.experiment._memory import check_memory  # noqa: PLC0415
    from jaxdl.experiment._optim import build_tx  # noqa: PLC0415
    from jaxdl.train import fit  # noqa: PLC0415

    train, val, test = build_data(cfg)
    check_batch_size(cfg, len(train[0]), "examples", f"data.kind = {cfg.data.kind!r}")
    model = build_model(cfg, train[0].shape[1])
    tx, t = build_tx(cfg.optim), cfg.train
    check_memory(model, tx)
    result = fit(model, tx, train, val, loss_fn=loss_fn(cfg), epochs=t.epochs, batch_size=t.batch_size, mode=t.mode,
                 precision=t.precision, patience=t.patience or None, accuracy=t.loss == "cross_entropy",
                 **start.fit_kwargs(model, tx, t.precision, t.ema_decay), ema_use_buffers=t.ema_use_buffers,
                 **fit_kwargs)
    test_acc = accuracy(model, result.state, *test) if len(test[0]) else None
    return {"history": result.history, "val_acc": accuracy(model, result.state, *val), "test_acc": test_acc}
