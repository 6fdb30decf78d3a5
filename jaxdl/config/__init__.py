"""Experiment configs: TOML files (tomllib) validated into frozen dataclasses, with ``--set key=value`` overrides.

Sections: [model] (``kind`` selects the model: "mlp", "cnn", "gpt" or "lstm"), [data] (``kind`` selects the data set),
[optim] (``name`` selects the optimizer), [train], and [compare] for ``jaxdl compare``. Every model kind goes
through the same schema: each kind's keys are one dataclass (``_schema``), and an unknown key, a key of another kind,
a wrong type or an impossible value raises ConfigError with one line naming the key, the value and what is
allowed. A field whose default is ``None`` is "not set": its default lives in the library function it is passed
to (torch's optimizer defaults in ``jaxdl.optim``, the GPT's in ``jaxdl.nn.GPT``), and only set values are
passed on, so an explicit ``0`` always means 0. This module imports no JAX: a bad config fails fast.
"""
from jaxdl.config._load import load_config, parse_set, read_tables
from jaxdl.config._schema import (
                                  ACTIVATIONS,
                                  KINDS,
                                  LOSSES,
                                  OPTIMIZERS,
                                  SECTIONS,
                                  TEXT_MODELS,
                                  AdamConfig,
                                  CNNConfig,
                                  CompareConfig,
                                  Config,
                                  ConfigError,
                                  DigitsData,
                                  GPTModelConfig,
                                  LSTMModelConfig,
                                  MLPConfig,
                                  NpzData,
                                  OptimConfig,
                                  SGDConfig,
                                  SpiralsData,
                                  TextData,
                                  ToyData,
                                  TrainConfig,
                                  Variant,
)

__all__ = [
                                  "ACTIVATIONS",
                                  "KINDS",
                                  "LOSSES",
                                  "OPTIMIZERS",
                                  "SECTIONS",
                                  "TEXT_MODELS",
                                  "AdamConfig",
                                  "CNNConfig",
                                  "CompareConfig",
                                  "Config",
                                  "ConfigError",
                                  "DigitsData",
                                  "GPTModelConfig",
                                  "LSTMModelConfig",
                                  "MLPConfig",
                                  "NpzData",
                                  "OptimConfig",
                                  "SGDConfig",
                                  "SpiralsData",
                                  "TextData",
                                  "ToyData",
                                  "TrainConfig",
                                  "Variant",
                                  "load_config",
                                  "parse_set",
                                  "read_tables",
]
