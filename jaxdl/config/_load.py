"""TOML loading, ``--set`` overrides and validation against the schema (one ConfigError line per problem)."""
from __future__ import annotations

import ast
import dataclasses
import os
import tomllib
import typing

from jaxdl.config._schema import (
    KINDS,
    MIGRATED,
    RULES,
    SECTIONS,
    TEXT_MODELS,
    Config,
    ConfigError,
    DigitsData,
    NpzData,
    TextData,
    ToyData,
    Variant,
)


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
        test, allowed = RULES.get((name, kind, key), RULES.get((name, key), (lambda v: True, "")))
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


def parse_value(text: str):
    """A ``--set`` value: a TOML value as the config file would spell it (``false``, ``[32, 16]``, ``'adam'``,
    ``inf``), else a Python literal (``False``, ``(0.9, 0.99)``, ``None``), else the bare word as a string."""
    try:
        table = tomllib.loads(f"v = {text}")
        if list(table) == ["v"]:  # not "1\nx = 2": one value
            return table["v"]
    except tomllib.TOMLDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_set(item: str):
    """``"optim.lr=0.1"`` → (("optim", "lr"), 0.1); the value as :func:`parse_value` reads it."""
    key, sep, text = item.partition("=")
    parts = tuple(key.strip().split("."))
    if not sep or len(parts) != 2 or not all(parts):
        raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE, e.g. optim.lr=0.1")
    return parts, parse_value(text.strip())


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def decode_toml(path: str, data: bytes) -> str:
    """The text of a TOML file: UTF-8 without a byte-order mark (the TOML spec's encoding), or ConfigError."""
    expected = "TOML files must be UTF-8 (without a byte-order mark): save it as UTF-8"
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigError(f"config file {path!r} starts with a UTF-8 byte-order mark; {expected} without the BOM")
    if data.startswith(UTF16_BOMS):
        raise ConfigError(f"config file {path!r} is UTF-16 text (it starts with a UTF-16 byte-order mark); {expected}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[:err.start].count(b"\n") + 1
        raise ConfigError(f"config file {path!r} is not UTF-8 text (byte 0x{data[err.start]:02x} on line {line} "
                          f"cannot be decoded; latin-1, UTF-16 or a binary file?); {expected}") from None
    if "\x00" in text:
        raise ConfigError(f"config file {path!r} holds NUL bytes (UTF-16 without a BOM, or a binary file?); "
                          f"{expected}")
    return text


def read_tables(path: str, overrides=()) -> dict:
    """The TOML file at ``path`` as a dict, with ``overrides`` (``"section.key=value"`` strings) applied."""
    if not os.path.exists(path):
        raise ConfigError(f"config file {path!r} not found")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:  # a folder, an unreadable file
        raise ConfigError(f"config file {path!r} cannot be read: {err.strerror}") from None
    try:
        raw = tomllib.loads(decode_toml(path, data))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    if not raw and not overrides:  # every default would run: a file saved before it was written, most likely
        raise ConfigError(f"config file {path!r} is empty (no [model], [data], [optim] or [train] table) and no "
                          "--set is given; see configs/ for complete examples")
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
    lm = model.kind in TEXT_MODELS
    if "data" in raw or not lm:
        data = _section("data", raw.get("data", {}), default_kind="stdlib_text" if lm else None)
    else:
        data = None
    compare_table = dict(raw.get("compare", {})) if isinstance(raw.get("compare", {}), dict) else raw["compare"]
    variants = compare_table.pop("variants", ()) if isinstance(compare_table, dict) else ()
    compare = _section("compare", compare_table)
    if not isinstance(variants, (list, tuple)):
        raise ConfigError(f"compare.variants = {variants!r}: expected a list of tables")
    compare = dataclasses.replace(compare, variants=_variants(variants))
    keys = frozenset(f"{name}.{key}" for name, table in raw.items() if isinstance(table, dict) for key in table)
    cfg = Config(model, data, _section("optim", raw.get("optim", {})), _section("train", raw.get("train", {})),
                 compare, frozenset(raw), keys)
    _check_together(cfg)
    return cfg


def _check_together(cfg: Config) -> None:
    """The tables must agree with each other: one line naming both keys."""
    m, d, t, c = cfg.model, cfg.data, cfg.train, cfg.compare
    text = isinstance(d, TextData)
    if (m.kind in TEXT_MODELS) != text and d is not None:
        raise ConfigError(f"model.kind = {m.kind!r} cannot train on data.kind = {d.kind!r}: the GPT and the LSTM "
                          "train on data.kind = 'stdlib_text', an MLP or a CNN on the other kinds")
    if m.kind in TEXT_MODELS:
        missing = [k for k in TEXT_MODELS[m.kind] + (() if text else ("vocab_size",)) if getattr(m, k) is None]
        if missing:
            raise ConfigError(f"model.kind = {m.kind!r} needs {', '.join('model.' + k for k in missing)} (missing)")
        if text and m.vocab_size is not None:
            raise ConfigError(f"model.vocab_size = {m.vocab_size}: with data.kind = 'stdlib_text' the vocabulary "
                              "comes from the text; remove model.vocab_size")
        if t.loss != "cross_entropy":
            raise ConfigError(f"train.loss = {t.loss!r} does not apply to model.kind = {m.kind!r} (it trains with "
                              "cross_entropy over next characters)")
    if isinstance(d, NpzData) and not os.path.isfile(d.path):
        raise ConfigError(f"data.path = {d.path!r}: {'not a file' if os.path.exists(d.path) else 'file not found'} "
                          "(data.kind = 'npz' needs an .npz file)")
    if isinstance(d, (DigitsData, ToyData)) and d.val_fraction + d.test_fraction >= 1:
        raise ConfigError(f"data.val_fraction + data.test_fraction = {d.val_fraction + d.test_fraction}: "
                          f"expected < 1")
    if t.ema_use_buffers and t.ema_decay is None:
        raise ConfigError("train.ema_use_buffers = true needs train.ema_decay (it is the EMA copy's use_buffers)")
    if c.lr_min > c.lr_max:
        raise ConfigError(f"compare.lr_min = {c.lr_min} > compare.lr_max = {c.lr_max}")
