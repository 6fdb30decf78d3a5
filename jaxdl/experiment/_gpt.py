"""The character-level language-model recipe (``model.kind = "gpt"`` or ``"lstm"``, ``data.kind = "stdlib_text"``):
configs/gpt_char.toml and configs/lstm_char.toml; only the model class differs (``build_lm``).

The vocabulary comes from the text; the model's config and the vocabulary go into every checkpoint's
metadata, so ``jaxdl sample CHECKPOINT`` needs nothing else. The loss is nn.lm_loss (cross_entropy over
(B·T, V)); the reported accuracy is per character.
"""
from __future__ import annotations

from jaxdl.config import Config, ConfigError
from jaxdl.experiment._batch import check_batch_size


def corpus(cfg: Config) -> str:
    """The [data] text: the first data.num_chars characters of the standard library's *.py files, or ConfigError
    when there are fewer (stdlib_corpus would return them all: a shorter text than the config says)."""
    from jaxdl.data import stdlib_corpus  # noqa: PLC0415

    text = stdlib_corpus(cfg.data.num_chars)
    if len(text) < cfg.data.num_chars:
        raise ConfigError(f"data.num_chars = {cfg.data.num_chars:,}, but the standard library's *.py files hold "
                          f"{len(text):,} characters on this machine: expected data.num_chars <= {len(text):,}")
    return text


def build_vocab(cfg: Config):
    """The CharVocab of the [data] text (what build_text_data's windows are encoded with)."""
    from jaxdl.data import CharVocab  # noqa: PLC0415

    return CharVocab.from_text(corpus(cfg))


def build_text_data(cfg: Config):
    """(vocab, (x_train, y_train), (x_val, y_val)) next-character windows of the [data] text."""
    from jaxdl.data import char_lm_data  # noqa: PLC0415

    d = cfg.data
    try:
        vocab, train, val = char_lm_data(corpus(cfg), cfg.model.context_length, d.val_fraction)
    except ValueError as err:  # a text too short for one window of context_length + 1 characters
        raise ConfigError(f"data.num_chars = {d.num_chars} with data.val_fraction = {d.val_fraction} is too little "
                          f"text for model.context_length = {cfg.model.context_length} ({err})") from None
    check_batch_size(cfg, len(train[0]), "windows", f"data.num_chars = {d.num_chars}")
    return vocab, train, val


def language_model_class(kind: str):
    """The class of a language model's ``model.kind``: nn.GPT ("gpt") or nn.CharLSTM ("lstm")."""
    from jaxdl.nn import GPT, CharLSTM  # noqa: PLC0415

    return {"gpt": GPT, "lstm": CharLSTM}[kind]


def build_lm(cfg: Config, vocab_size: int | None = None):
    """The [model] table's language model (nn.GPT or nn.CharLSTM by model.kind; ``vocab_size`` from the data
    when the table leaves it out)."""
    cls = language_model_class(cfg.model.kind)
    kwargs = cfg.model.model_kwargs()
    if vocab_size is not None:
        kwargs["vocab_size"] = vocab_size
    try:
        return cls(**kwargs)
    except ValueError as err:  # e.g. emb_dim not divisible by n_heads
        raise ConfigError(f"[model] kind = {cfg.model.kind!r}: {str(err).removeprefix(cls.__name__ + ': ')}") \
            from None


def run_gpt(cfg: Config, fit_kwargs: dict, start) -> dict:
    """Train the GPT or the LSTM from ``start`` (a ``_resume.Start``); returns history, val_acc, test_acc (None),
    unigram_entropy, and vocab (a CharVocab)."""
    from jaxdl.data import unigram_entropy  # noqa: PLC0415
    from jaxdl.experiment._memory import check_memory  # noqa: PLC0415
    from jaxdl.experiment._optim import build_tx  # noqa: PLC0415
    from jaxdl.nn import lm_loss  # noqa: PLC0415
    from jaxdl.train import fit  # noqa: PLC0415

    vocab, train, val = build_text_data(cfg)
    model = build_lm(cfg, vocab.size)
    t = cfg.train
    metadata = {**fit_kwargs.pop("metadata", {}), "model": model.config(), "vocab": vocab.chars}
    tx = build_tx(cfg.optim)
    check_memory(model, tx)
    result = fit(model, tx, train, val, loss_fn=lm_loss, epochs=t.epochs, batch_size=t.batch_size,
                 mode=t.mode, patience=t.patience or None, metadata=metadata,
                 **start.fit_kwargs(model, tx, t.precision, t.ema_decay), precision=t.precision,
                 ema_use_buffers=t.ema_use_buffers,
                 **fit_kwargs)
    state_epoch = result.best_epoch if t.patience else result.history[-1]["epoch"]  # fit returns that epoch's state
    record = next(h for h in result.history if h["epoch"] == state_epoch)
    return {"history": result.history, "val_acc": record["val_acc"], "test_acc": None,
            "unigram_entropy": unigram_entropy(val[1], vocab.size), "vocab": vocab, "model": model,
            "state": result.state}
