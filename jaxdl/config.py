"""Experiment configs: TOML files (tomllib) validated into frozen dataclasses, with ``--set key=value`` overrides.

Sections: [model] (``kind`` selects the model: "mlp" or "gpt"), [data] (``kind`` selects the data set),
[optim] (``name`` selects the optimizer), [train], and [compare] for ``jaxdl compare``. Every model kind goes
through the same schema: each kind's keys are one dataclass below, and an unknown key, a key of another kind,
a wrong type or an impossible value raises ConfigError with one line naming the key, the value and what is
allowed. A field whose default is ``None`` is "not set": its default lives in the library function it is passed
to (torch's optimizer defaults in ``jaxdl.optim``, the GPT's in ``jaxdl.nn.GPT``), and only set values are
passed on, so an explicit ``0`` always means 0. This module imports no JAX: a bad config fails fast.
"""
from __future__ import annotations

import ast
import dataclasses
import math
import os
import tomllib
import typing

ACTIVATIONS = ("relu", "sigmoid", "tanh")
LOSSES = ("cross_entropy", "binary_cross_entropy")


class ConfigError(ValueError):
    """A bad config: unknown key, wrong type, impossible value or missing file (one-line message)."""


# --- [model] ------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MLPConfig:
    kind: str = "mlp"                 # [Linear → (BatchNorm1d) → act → (Dropout)] × len(hidden) → Linear
    hidden: tuple = ()                # hidden widths; () is one Linear (logistic / softmax regression)
    activation: str = "relu"
    batchnorm: bool = False
    dropout: float = 0.0
    out_features: int = 10
    sigmoid_output: bool = False      # append nn.Sigmoid (for binary_cross_entropy on probabilities)


@dataclasses.dataclass(frozen=True)
class GPTModelConfig:
    """jaxdl.nn.GPT's arguments; None: not set (vocab_size then comes from the text data, the rest from nn.GPT)."""
    kind: str = "gpt"
    vocab_size: int | None = None
    context_length: int | None = None
    emb_dim: int | None = None
    n_heads: int | None = None
    n_layers: int | None = None
    drop_rate: float | None = None
    qkv_bias: bool | None = None
    tie_weights: bool | None = None

    def gpt_kwargs(self) -> dict:
        """The keyword arguments for nn.GPT: every key that is set."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "kind" and v is not None}


GPT_REQUIRED = ("context_length", "emb_dim", "n_heads", "n_layers")


# --- [data] -------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DigitsData:
    kind: str = "digits"              # scikit-learn's bundled 8×8 digits
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    seed: int = 0                     # the split


@dataclasses.dataclass(frozen=True)
class ToyData:
    kind: str = "moons"               # "moons" or "circles"
    n: int = 300                      # number of points
    noise: float = 0.1
    val_fraction: float = 0.2
    test_fraction: float = 0.2
    seed: int = 0                     # the points and the split


@dataclasses.dataclass(frozen=True)
class SpiralsData(ToyData):
    kind: str = "spirals"
    classes: int = 3


@dataclasses.dataclass(frozen=True)
class NpzData:
    kind: str = "npz"
    path: str = ""                    # an .npz with arrays x_train, y_train, x_val, y_val


@dataclasses.dataclass(frozen=True)
class TextData:
    kind: str = "stdlib_text"         # sorted *.py files in the folder of the `os` module (no download)
    num_chars: int = 400_000          # first N characters of their concatenation
    val_fraction: float = 0.1         # the last part is the validation text


# --- [optim]: torch's hyperparameters; None (not set) is torch's default, from jaxdl.optim -------------------
@dataclasses.dataclass(frozen=True)
class OptimConfig:
    name: str = "sgd"
    lr: float | None = None
    weight_decay: float | None = None

    def kwargs(self) -> dict:
        """The keyword arguments for jaxdl.optim.<name>: every hyperparameter that is set."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "name" and v is not None}


@dataclasses.dataclass(frozen=True)
class SGDConfig(OptimConfig):
    momentum: float | None = None
    dampening: float | None = None
    nesterov: bool | None = None


@dataclasses.dataclass(frozen=True)
class AdamConfig(OptimConfig):
    name: str = "adam"                # "adam" or "adamw" (decoupled weight decay, torch's default 1e-2)
    betas: tuple | None = None
    eps: float | None = None
    amsgrad: bool | None = None


# --- [train], [compare] -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    seed: int = 0
    loss: str = "cross_entropy"
    mode: str = "scan"
    patience: int = 0                 # 0: no early stopping
    out_dir: str = ""                 # "": nothing is written unless --out names a folder


@dataclasses.dataclass(frozen=True)
class CompareConfig:
    variants: tuple = ()              # ({label, name, hyperparameters but lr}, ...): one sweep each
    lr_min: float = 1e-4
    lr_max: float = 1.0
    num_lrs: int = 7                  # log-spaced from lr_min to lr_max
    seeds: tuple = (0, 1, 2)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One optimizer of ``jaxdl compare``: its label and its [optim] table (without lr: the grid sets it)."""
    label: str
    optim: OptimConfig


@dataclasses.dataclass(frozen=True)
class Config:
    model: MLPConfig | GPTModelConfig
    data: DigitsData | ToyData | NpzData | TextData | None   # None: a model description only (no [data])
    optim: OptimConfig
    train: TrainConfig
    compare: CompareConfig
    tables: frozenset                 # the sections the file (or --set) wrote

    def to_dict(self) -> dict:
        """Plain JSON-able tables (what a checkpoint stores as the config it was trained with)."""
        return {name: dataclasses.asdict(getattr(self, name)) if getattr(self, name) is not None else None
                for name in ("model", "data", "optim", "train", "compare")}


# section -> (the key that selects the kind, its default, {kind: dataclass}); train/compare have one kind
KINDS = {
    "model": ("kind", "mlp", {"mlp": MLPConfig, "gpt": GPTModelConfig}),
    "data": ("kind", "digits", {"digits": DigitsData, "moons": ToyData, "circles": ToyData, "spirals": SpiralsData,
                                "npz": NpzData, "stdlib_text": TextData}),
    "optim": ("name", "sgd", {"sgd": SGDConfig, "adam": AdamConfig, "adamw": AdamConfig}),
    "train": (None, None, {None: TrainConfig}),
    "compare": (None, None, {None: CompareConfig}),
}
SECTIONS = tuple(KINDS)
OPTIMIZERS = tuple(KINDS["optim"][2])
MIGRATED = {("optim", "name", "sgd_momentum"): "use name = 'sgd' with momentum = 0.9",
            ("compare", "optimizers", None): "list tables in compare.variants, e.g. "
                                             "[{label = 'SGD momentum 0.9', name = 'sgd', momentum = 0.9}]"}

_finite_pos = (lambda v: 0 < v < math.inf, "a finite number > 0")
_finite_nonneg = (lambda v: 0 <= v < math.inf, "a finite number ≥ 0")
_pos_int = (lambda v: v > 0, "a positive int")
# (section, key) -> (test, what is allowed); applied to set (non-None) values
_RULES = {
    ("model", "hidden"): (lambda v: all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in v),
                          "a list of positive ints"),
    ("model", "activation"): (lambda v: v in ACTIVATIONS, f"one of {ACTIVATIONS}"),
    ("model", "dropout"): (lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)"),
    ("model", "drop_rate"): (lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)"),
    **{("model", k): _pos_int for k in ("out_features", "vocab_size", *GPT_REQUIRED)},
    ("data", "n"): (lambda v: v >= 4, "an int ≥ 4"),
    ("data", "noise"): _finite_nonneg,
    ("data", "classes"): (lambda v: v >= 2, "an int ≥ 2"),
    ("data", "val_fraction"): (lambda v: 0 < v < 1, "a fraction in (0, 1)"),
    ("data", "test_fraction"): (lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    ("data", "num_chars"): (lambda v: v >= 2, "an int ≥ 2"),
    ("optim", "lr"): _finite_pos,
    ("optim", "momentum"): (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    ("optim", "dampening"): (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
    ("optim", "weight_decay"): _finite_nonneg,
    ("optim", "eps"): _finite_nonneg,
    ("optim", "betas"): (lambda v: len(v) == 2 and all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                                       and 0 <= b < 1 for b in v), "two numbers in [0, 1)"),
    ("train", "epochs"): (lambda v: v >= 1, "an int ≥ 1"),
    ("train", "batch_size"): (lambda v: v >= 1, "an int ≥ 1"),
    ("train", "loss"): (lambda v: v in LOSSES, f"one of {LOSSES}"),
    ("train", "mode"): (lambda v: v in ("scan", "loop"), "'scan' or 'loop'"),
    ("train", "patience"): (lambda v: v >= 0, "an int ≥ 0 (0: off)"),
    ("compare", "lr_min"): _finite_pos,
    ("compare", "lr_max"): _finite_pos,
    ("compare", "num_lrs"): (lambda v: v >= 1, "an int ≥ 1"),
    ("compare", "seeds"): (lambda v: len(v) > 0 and all(isinstance(s, int) and not isinstance(s, bool) for s in v),
                           "a non-empty list of ints"),
}


def _coerce(where: str, value, hint):
    """Check ``value`` against the field's type (``X | None`` means X); ints are accepted for floats."""
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] if typing.get_args(hint) else [hint]
    kind = kinds[0]
    if kind is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} = {value!r}: expected a list, got {type(value).__name__}")
        return tuple(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not kind:
        raise ConfigError(f"{where} = {value!r}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _kind_fields(cls) -> dict:
    """{field: type hint} of a kind's dataclass."""
    return typing.get_type_hints(cls)


def _section(name: str, table, where: str | None = None, default_kind=None) -> typing.Any:
    """The dataclass of section ``name`` built from ``table`` (a dict from TOML and --set), or ConfigError."""
    where = where or name
    key_of_kind, default, classes = KINDS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"[{where}] must be a table; got {table!r}")
    kind = table.get(key_of_kind, default_kind or default) if key_of_kind else None
    if kind not in classes:
        hint = MIGRATED.get((name, key_of_kind, kind))
        raise ConfigError(f"{where}.{key_of_kind} = {kind!r} is not allowed: expected one of {tuple(classes)}"
                          + (f" ({hint})" if hint else ""))
    fields = _kind_fields(classes[kind])
    values = {key_of_kind: kind} if key_of_kind else {}
    for key, value in table.items():
        if key not in fields:
            others = [k for k, c in classes.items() if key in _kind_fields(c)]
            if others:
                raise ConfigError(f"{where}.{key} does not apply to {kind} ({where}.{key_of_kind} = {kind!r}); "
                                  f"it is a key of {', '.join(others)}; keys for {kind}: {', '.join(fields)}")
            hint = MIGRATED.get((name, key, None))
            raise ConfigError(f"unknown key {where}.{key}; allowed keys: {', '.join(fields)}"
                              + (f" ({hint})" if hint else ""))
        value = _coerce(f"{where}.{key}", value, fields[key])
        test, allowed = _RULES.get((name, key), (lambda v: True, ""))
        if not test(value):
            raise ConfigError(f"{where}.{key} = {value!r} is not allowed: expected {allowed}")
        values[key] = value
    return classes[kind](**values)


def _variants(items) -> tuple:
    """compare.variants: each a table {label, name, hyperparameters} checked as an [optim] table without lr."""
    out = []
    for i, item in enumerate(items):
        where = f"compare.variants[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise ConfigError(f"{where} = {item!r}: expected a table with a label, e.g. "
                              "{label = 'SGD momentum 0.9', name = 'sgd', momentum = 0.9}")
        if "lr" in item:
            raise ConfigError(f"{where}.lr = {item['lr']!r}: the grid compare.lr_min..lr_max sets the lr")
        out.append(Variant(item["label"], _section("optim", {k: v for k, v in item.items() if k != "label"}, where)))
    labels = [v.label for v in out]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"compare.variants: labels {labels} repeat; expected distinct labels")
    return tuple(out)


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


def read_tables(path: str, overrides=()) -> dict:
    """The TOML file at ``path`` as a dict, with ``overrides`` (``"section.key=value"`` strings) applied."""
    if not os.path.exists(path):
        raise ConfigError(f"config file {path!r} not found")
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    except OSError as err:  # a folder, an unreadable file
        raise ConfigError(f"config file {path!r} cannot be read: {err.strerror}") from None
    for item in overrides:
        (section, key), value = parse_set(item)
        if section not in SECTIONS:
            raise ConfigError(f"--set {item!r}: unknown section {section!r}; allowed: {', '.join(SECTIONS)}")
        table = raw.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table; got {table!r}")
        table[key] = value
    for section in raw:
        if section not in SECTIONS:
            raise ConfigError(f"unknown section [{section}]; allowed: {', '.join(SECTIONS)}")
    return raw


def load_config(path: str, overrides=()) -> Config:
    """Read the TOML file at ``path``, apply ``overrides`` (``"section.key=value"`` strings) and validate."""
    raw = read_tables(path, overrides)
    model = _section("model", raw.get("model", {}))
    gpt = model.kind == "gpt"
    if "data" in raw or not gpt:
        data = _section("data", raw.get("data", {}), default_kind="stdlib_text" if gpt else None)
    else:
        data = None
    compare_table = dict(raw.get("compare", {})) if isinstance(raw.get("compare", {}), dict) else raw["compare"]
    variants = compare_table.pop("variants", ()) if isinstance(compare_table, dict) else ()
    compare = _section("compare", compare_table)
    if not isinstance(variants, (list, tuple)):
        raise ConfigError(f"compare.variants = {variants!r}: expected a list of tables")
    compare = dataclasses.replace(compare, variants=_variants(variants))
    cfg = Config(model, data, _section("optim", raw.get("optim", {})), _section("train", raw.get("train", {})),
                 compare, frozenset(raw))
    _check_together(cfg)
    return cfg


def _check_together(cfg: Config) -> None:
    """The tables must agree with each other: one line naming both keys."""
    m, d, t, c = cfg.model, cfg.data, cfg.train, cfg.compare
    text = isinstance(d, TextData)
    if (m.kind == "gpt") != text and d is not None:
        raise ConfigError(f"model.kind = {m.kind!r} cannot train on data.kind = {d.kind!r}: the GPT trains on "
                          "data.kind = 'stdlib_text', an MLP on the other kinds")
    if m.kind == "gpt":
        missing = [k for k in GPT_REQUIRED + (() if text else ("vocab_size",)) if getattr(m, k) is None]
        if missing:
            raise ConfigError(f"model.kind = 'gpt' needs {', '.join('model.' + k for k in missing)} (missing)")
        if text and m.vocab_size is not None:
            raise ConfigError(f"model.vocab_size = {m.vocab_size}: with data.kind = 'stdlib_text' the vocabulary "
                              "comes from the text; remove model.vocab_size")
        if t.loss != "cross_entropy":
            raise ConfigError(f"train.loss = {t.loss!r} does not apply to model.kind = 'gpt' (it trains with "
                              "cross_entropy over next characters)")
    if isinstance(d, NpzData) and not os.path.isfile(d.path):
        raise ConfigError(f"data.path = {d.path!r}: file not found (data.kind = 'npz' needs an .npz file)")
    if isinstance(d, (DigitsData, ToyData)) and d.val_fraction + d.test_fraction >= 1:
        raise ConfigError(f"data.val_fraction + data.test_fraction = {d.val_fraction + d.test_fraction}: "
                          f"expected < 1")
    if c.lr_min > c.lr_max:
        raise ConfigError(f"compare.lr_min = {c.lr_min} > compare.lr_max = {c.lr_max}")
