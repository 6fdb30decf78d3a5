"""The config schema: one frozen dataclass per section kind, the kind tables, and the value rules.

A field whose default is ``None`` is "not set": its default lives in the library function it is passed to
(torch's optimizer defaults in ``jaxdl.optim``, the GPT's in ``jaxdl.nn.GPT``), and only set values are passed
on, so an explicit ``0`` always means 0.
"""
from __future__ import annotations

import dataclasses
import math

from jaxdl._rules import LR_ALLOWED, PRECISIONS, SEED_ALLOWED, is_positive_int, is_valid_lr, is_valid_seed

ACTIVATIONS = ("relu", "sigmoid", "tanh")
GPT_ACTIVATIONS = ("gelu_tanh", "gelu")   # jaxdl.nn.GPT's
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
class CNNConfig:
    """Unflatten → [Conv2d → (BatchNorm2d) → ReLU → MaxPool2d(2)] × len(channels) → Flatten → (Dropout) → Linear.

    The data stay flat (N, in_channels·side²) features (the digits: (N, 64), side 8); the model unflattens them.
    """
    kind: str = "cnn"
    in_channels: int = 1
    channels: tuple = (16, 32)        # each Conv2d's out_channels
    kernel_size: int = 3              # odd: padding = kernel_size // 2 keeps the size until each pool
    batchnorm: bool = True
    dropout: float = 0.0
    out_features: int = 10
    sigmoid_output: bool = False      # append nn.Sigmoid (for binary_cross_entropy on probabilities)


@dataclasses.dataclass(frozen=True)
class TextModelConfig:
    """A language model's arguments (the kinds below); None: not set (vocab_size then comes from the text data,
    the rest from the model class)."""
    kind: str = ""
    vocab_size: int | None = None
    context_length: int | None = None  # characters the model sees in training (and per step when sampling)

    def model_kwargs(self) -> dict:
        """The keyword arguments for the model class: every key that is set."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "kind" and v is not None}


@dataclasses.dataclass(frozen=True)
class GPTModelConfig(TextModelConfig):
    """jaxdl.nn.GPT's arguments."""
    kind: str = "gpt"
    emb_dim: int | None = None
    n_heads: int | None = None
    n_layers: int | None = None
    drop_rate: float | None = None
    qkv_bias: bool | None = None
    tie_weights: bool | None = None
    activation: str | None = None     # "gelu_tanh" (GPT-2's, the default) or "gelu" (exact, nanoGPT's)
    layer_norm_eps: float | None = None
    bias: bool | None = None          # false: no bias in any Linear or LayerNorm (nanoGPT's bias=False)


@dataclasses.dataclass(frozen=True)
class LSTMModelConfig(TextModelConfig):
    """jaxdl.nn.CharLSTM's arguments: Embedding(vocab, emb_dim) → LSTM(num_layers) → Linear(hidden_size, vocab)."""
    kind: str = "lstm"
    emb_dim: int | None = None
    hidden_size: int | None = None
    num_layers: int | None = None
    dropout: float | None = None      # between LSTM layers


GPT_REQUIRED = ("context_length", "emb_dim", "n_heads", "n_layers")
LSTM_REQUIRED = ("context_length", "emb_dim", "hidden_size")
TEXT_MODELS = {"gpt": GPT_REQUIRED, "lstm": LSTM_REQUIRED}  # the language models' kinds -> their required keys


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


@dataclasses.dataclass(frozen=True)
class NAdamConfig(OptimConfig):
    name: str = "nadam"
    betas: tuple | None = None
    eps: float | None = None
    momentum_decay: float | None = None
    decoupled_weight_decay: bool | None = None


@dataclasses.dataclass(frozen=True)
class RAdamConfig(OptimConfig):
    name: str = "radam"
    betas: tuple | None = None
    eps: float | None = None
    decoupled_weight_decay: bool | None = None


@dataclasses.dataclass(frozen=True)
class AdamaxConfig(OptimConfig):
    name: str = "adamax"
    betas: tuple | None = None
    eps: float | None = None


@dataclasses.dataclass(frozen=True)
class ASGDConfig(OptimConfig):
    name: str = "asgd"
    lambd: float | None = None
    alpha: float | None = None
    t0: float | None = None


@dataclasses.dataclass(frozen=True)
class RpropConfig(OptimConfig):
    name: str = "rprop"                # no weight_decay in torch's Rprop: setting it is refused by the optimizer
    etas: tuple | None = None
    step_sizes: tuple | None = None


@dataclasses.dataclass(frozen=True)
class AdafactorConfig(OptimConfig):
    name: str = "adafactor"
    beta2_decay: float | None = None
    eps: tuple | None = None           # [eps1, eps2]; left out: torch's (None, 1e-3), eps1 = the params' dtype eps
    d: float | None = None


@dataclasses.dataclass(frozen=True)
class MuonConfig(OptimConfig):
    name: str = "muon"                 # Muon for the 2-D weights, AdamW (same lr) for the rest: torch's advice
    momentum: float | None = None
    nesterov: bool | None = None
    ns_steps: int | None = None
    adjust_lr_fn: str | None = None


# --- [train], [compare] -------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    seed: int = 0
    loss: str = "cross_entropy"
    mode: str = "scan"
    precision: str = "fp32"           # "bf16-mixed"/"fp16-mixed": torch.autocast, float32 weights; fp16 + GradScaler
    patience: int = 0                 # 0: no early stopping
    out_dir: str = ""                 # "": nothing is written unless --out names a folder
    ema_decay: float | None = None    # absent: no EMA; else fit keeps an EMA copy (AveragedModel), ema_val_* metrics
    ema_use_buffers: bool = False     # AveragedModel's use_buffers: average BatchNorm's running stats too


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
    model: MLPConfig | CNNConfig | GPTModelConfig | LSTMModelConfig
    data: DigitsData | ToyData | NpzData | TextData | None   # None: a model description only (no [data])
    optim: OptimConfig
    train: TrainConfig
    compare: CompareConfig
    tables: frozenset                 # the sections the file (or --set) wrote
    keys: frozenset = frozenset()     # the "section.key"s the file (or --set) wrote

    def to_dict(self) -> dict:
        """Plain JSON-able tables (what a checkpoint stores as the config it was trained with)."""
        return {name: dataclasses.asdict(getattr(self, name)) if getattr(self, name) is not None else None
                for name in ("model", "data", "optim", "train", "compare")}


# section -> (the key that selects the kind, its default, {kind: dataclass}); train/compare have one kind
KINDS = {
    "model": ("kind", "mlp", {"mlp": MLPConfig, "cnn": CNNConfig, "gpt": GPTModelConfig,
                         "lstm": LSTMModelConfig}),
    "data": ("kind", "digits", {"digits": DigitsData, "moons": ToyData, "circles": ToyData, "spirals": SpiralsData,
                                "npz": NpzData, "stdlib_text": TextData}),
    "optim": ("name", "sgd", {"sgd": SGDConfig, "adam": AdamConfig, "adamw": AdamConfig, "nadam": NAdamConfig,
                              "radam": RAdamConfig, "adamax": AdamaxConfig, "asgd": ASGDConfig, "rprop": RpropConfig,
                              "adafactor": AdafactorConfig, "muon": MuonConfig}),
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
_pos_int = (is_positive_int, "an int ≥ 1")
_pos_ints = (lambda v: all(is_positive_int(h) for h in v), "a list of ints ≥ 1")
# (section, key) or, for a rule of one kind, (section, kind, key) -> (test, what is allowed); applied to set
# (non-None) values
RULES = {
    ("model", "gpt", "activation"): (lambda v: v in GPT_ACTIVATIONS, f"one of {GPT_ACTIVATIONS}"),
    ("model", "layer_norm_eps"): _finite_pos,
    ("model", "hidden"): _pos_ints,
    ("model", "channels"): (lambda v: len(v) > 0 and _pos_ints[0](v), "a non-empty list of ints ≥ 1"),
    ("model", "kernel_size"): (lambda v: is_positive_int(v) and v % 2 == 1,
                               "an odd int ≥ 1 (padding = kernel_size // 2)"),
    ("model", "activation"): (lambda v: v in ACTIVATIONS, f"one of {ACTIVATIONS}"),
    ("model", "dropout"): (lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)"),
    ("model", "drop_rate"): (lambda v: 0.0 <= v < 1.0, "a probability in [0, 1)"),
    **{("model", k): _pos_int for k in ("out_features", "in_channels", "vocab_size", *GPT_REQUIRED,
                                              "hidden_size", "num_layers")},
    ("data", "n"): (lambda v: v >= 4, "an int ≥ 4"),
    ("data", "noise"): _finite_nonneg,
    ("data", "classes"): (lambda v: v >= 2, "an int ≥ 2"),
    ("data", "val_fraction"): (lambda v: 0 < v < 1, "a fraction in (0, 1)"),
    ("data", "test_fraction"): (lambda v: 0 <= v < 1, "a fraction in [0, 1)"),
    ("data", "num_chars"): (lambda v: v >= 2, "an int ≥ 2"),
    ("optim", "lr"): (is_valid_lr, LR_ALLOWED),  # jaxdl.optim's rule (checks.check_lr), torch's: lr = 0 is allowed
    ("optim", "momentum"): (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    ("optim", "dampening"): (lambda v: 0 <= v <= 1, "a number in [0, 1]"),
    ("optim", "weight_decay"): _finite_nonneg,
    ("optim", "eps"): _finite_nonneg,
    ("optim", "adafactor", "eps"): (lambda v: len(v) == 2 and all(
        isinstance(e, (int, float)) and not isinstance(e, bool) and 0 <= e < math.inf for e in v),
        "a pair [eps1, eps2] of finite numbers ≥ 0 (TOML has no None: leave eps out for torch's (None, 1e-3))"),
    ("optim", "betas"): (lambda v: len(v) == 2 and all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                                       and 0 <= b < 1 for b in v), "two numbers in [0, 1)"),
    ("train", "epochs"): _pos_int,
    ("train", "batch_size"): _pos_int,
    ("train", "loss"): (lambda v: v in LOSSES, f"one of {LOSSES}"),
    ("train", "mode"): (lambda v: v in ("scan", "loop"), "'scan' or 'loop'"),
    ("train", "precision"): (lambda v: v in PRECISIONS, f"one of {PRECISIONS}"),
    ("train", "patience"): (lambda v: v >= 0, "an int ≥ 0 (0: off)"),
    ("train", "ema_decay"): (lambda v: 0 < v < 1, "a number in (0, 1) (leave it out for no EMA)"),
    ("compare", "lr_min"): (_finite_pos[0], "a finite number > 0 (the lr grid is log-spaced)"),
    ("compare", "lr_max"): (_finite_pos[0], "a finite number > 0 (the lr grid is log-spaced)"),
    ("compare", "num_lrs"): _pos_int,
    ("data", "seed"): (is_valid_seed, SEED_ALLOWED),
    ("train", "seed"): (is_valid_seed, SEED_ALLOWED),
    ("compare", "seeds"): (lambda v: len(v) > 0 and all(is_valid_seed(s) for s in v) and len(set(v)) == len(v),
                           f"a non-empty list of distinct seeds, each {SEED_ALLOWED}"),
}
