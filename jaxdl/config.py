"""Experiment configs: TOML files (tomllib) validated into frozen dataclasses, with ``--set key=value`` overrides.

Sections: [model] (``kind`` selects the model builder), [data] (``kind`` selects the data set), [optim],
[train], and [compare] for ``jaxdl compare``. Every problem raises ConfigError with one line naming the key,
the value and what is allowed. A ``[model] kind`` listed in RAW_KINDS (the GPT) skips this schema: its
tables are passed as plain dicts to that kind's own trainer, which validates them itself.
"""
from __future__ import annotations

import ast
import dataclasses
import math
import os
import tomllib
import typing

RAW_KINDS = ("gpt",)  # model kinds validated by their own builder (jaxdl.generate.train_char_gpt)
ACTIVATIONS = ("relu", "sigmoid", "tanh")
DATA_KINDS = ("digits", "moons", "circles", "spirals", "npz")
OPTIMIZERS = ("sgd", "sgd_momentum", "adam", "adamw")
LOSSES = ("cross_entropy", "binary_cross_entropy")


class ConfigError(ValueError):
    """A bad config: unknown key, wrong type, impossible value or missing file (one-line message)."""


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    kind: str = "mlp"                 # "mlp": [Linear → (BatchNorm1d) → act → (Dropout)] × len(hidden) → Linear
    hidden: tuple = ()                # hidden widths; () is one Linear (logistic / softmax regression)
    activation: str = "relu"
    batchnorm: bool = False
    dropout: float = 0.0
    out_features: int = 10
    sigmoid_output: bool = False      # append nn.Sigmoid (for binary_cross_entropy on probabilities)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    kind: str = "digits"
    n: int = 300                      # toy sets: number of points
    noise: float = 0.1
    classes: int = 3                  # spirals
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    seed: int = 0
    path: str = ""                    # npz: arrays x_train, y_train, x_val, y_val


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.0
    weight_decay: float = 0.0


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    seed: int = 0
    loss: str = "cross_entropy"
    mode: str = "scan"
    patience: int = 0                 # 0: no early stopping
    out_dir: str = ""


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    optimizers: tuple = OPTIMIZERS
    lr_min: float = 1e-4
    lr_max: float = 1.0
    num_lrs: int = 7                  # log-spaced from lr_min to lr_max
    seeds: tuple = (0, 1, 2)
    momentum: float = 0.9             # for "sgd_momentum"


@dataclasses.dataclass(frozen=True)
class Config:
    model: ModelConfig
    data: DataConfig
    optim: OptimConfig
    train: TrainConfig
    compare: CompareConfig
    raw: dict                         # the TOML tables after --set (what RAW_KINDS builders read)


SECTIONS = {"model": ModelConfig, "data": DataConfig, "optim": OptimConfig, "train": TrainConfig,
            "compare": CompareConfig}

# (section, key) -> (test, what is allowed)
_RULES = {
    ("model", "kind"): (lambda v: v == "mlp", f"one of {('mlp',) + RAW_KINDS}"),
    ("model", "hidden"): (lambda v: all(isinstance(h, int) and h > 0 for h in v), "a list of positive ints"),
    ("model", "activation"): (lambda v: v in ACTIVATIONS, f"one of {ACTIVATIONS}"),
    ("model", "dropout"): (lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)"),
    ("model", "out_features"): (lambda v: v > 0, "a positive int"),
    ("data", "kind"): (lambda v: v in DATA_KINDS, f"one of {DATA_KINDS}"),
    ("data", "n"): (lambda v: v >= 4, "an int ≥ 4"),
    ("data", "noise"): (lambda v: 0 <= v < math.inf, "a finite number ≥ 0"),
    ("data", "classes"): (lambda v: v >= 2, "an int ≥ 2"),
    ("data", "val_fraction"): (lambda v: 0 < v < 1, "a fraction in (0, 1)"),
    ("data", "test_fraction"): (lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    ("optim", "name"): (lambda v: v in OPTIMIZERS, f"one of {OPTIMIZERS}"),
    ("optim", "lr"): (lambda v: v > 0 and math.isfinite(v), "a finite number > 0"),
    ("optim", "momentum"): (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    ("optim", "weight_decay"): (lambda v: 0 <= v < math.inf, "a finite number ≥ 0"),
    ("train", "epochs"): (lambda v: v >= 1, "an int ≥ 1"),
    ("train", "batch_size"): (lambda v: v >= 1, "an int ≥ 1"),
    ("train", "loss"): (lambda v: v in LOSSES, f"one of {LOSSES}"),
    ("train", "mode"): (lambda v: v in ("scan", "loop"), "'scan' or 'loop'"),
    ("train", "patience"): (lambda v: v >= 0, "an int ≥ 0 (0: off)"),
    ("compare", "optimizers"): (lambda v: len(v) > 0 and all(o in OPTIMIZERS for o in v),
                                f"a non-empty list drawn from {OPTIMIZERS}"),
    ("compare", "lr_min"): (lambda v: 0 < v < math.inf, "a finite number > 0"),
    ("compare", "lr_max"): (lambda v: 0 < v < math.inf, "a finite number > 0"),
    ("compare", "num_lrs"): (lambda v: v >= 1, "an int ≥ 1"),
    ("compare", "seeds"): (lambda v: len(v) > 0 and all(isinstance(s, int) for s in v), "a non-empty list of ints"),
    ("compare", "momentum"): (lambda v: 0 <= v < 1, "a number in [0, 1)"),
}


def _coerce(where: str, value, default):
    """Check ``value`` against the type of the field's default; ints are accepted for floats."""
    kind = type(default)
    if kind is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} = {value!r}: expected a list, got {type(value).__name__}")
        return tuple(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not kind:
        raise ConfigError(f"{where} = {value!r}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _section(name: str, table) -> typing.Any:
    cls = SECTIONS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"[{name}] must be a table; got {table!r}")
    fields = {f.name: f.default for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"unknown key {name}.{key}; allowed keys: {', '.join(fields)}")
        value = _coerce(f"{name}.{key}", value, fields[key])
        test, allowed = _RULES.get((name, key), (lambda v: True, ""))
        if not test(value):
            raise ConfigError(f"{name}.{key} = {value!r} is not allowed: expected {allowed}")
        values[key] = value
    return cls(**values)


def parse_set(item: str):
    """``"optim.lr=0.1"`` → (("optim", "lr"), 0.1); the value is a Python literal (a bare word is a string)."""
    key, sep, text = item.partition("=")
    parts = tuple(key.strip().split("."))
    if not sep or len(parts) != 2 or not all(parts):
        raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. optim.lr=0.1")
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        value = text.strip()
    return parts, value


def load_config(path: str, overrides=()) -> Config:
    """Read the TOML file at ``path``, apply ``overrides`` (``"section.key=value"`` strings) and validate."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path!r} not found")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    for item in overrides:
        (section, key), value = parse_set(item)
        if section not in SECTIONS:
            raise ConfigError(f"--set {item!r}: unknown section {section!r}; allowed: {', '.join(SECTIONS)}")
        table = raw.setdefault(section, {})
        if key in table and type(table[key]) is float and type(value) is int:
            value = float(value)
        table[key] = value
    for section in raw:
        if section not in SECTIONS:
            raise ConfigError(f"unknown section [{section}]; allowed: {', '.join(SECTIONS)}")
    if raw.get("model", {}).get("kind") in RAW_KINDS:
        return Config(ModelConfig(), DataConfig(), OptimConfig(), TrainConfig(), CompareConfig(), raw)
    parts = {name: _section(name, raw.get(name, {})) for name in SECTIONS}
    data = parts["data"]
    if data.kind == "npz" and not os.path.isfile(data.path):
        raise ConfigError(f"data.path = {data.path!r}: file not found (data.kind = 'npz' needs an .npz file)")
    if data.val_fraction + data.test_fraction >= 1:
        raise ConfigError(f"data.val_fraction + data.test_fraction = {data.val_fraction + data.test_fraction}: "
                          f"expected < 1")
    if parts["compare"].lr_min > parts["compare"].lr_max:
        raise ConfigError(f"compare.lr_min = {parts['compare'].lr_min} > compare.lr_max = {parts['compare'].lr_max}")
    return Config(**parts, raw=raw)
