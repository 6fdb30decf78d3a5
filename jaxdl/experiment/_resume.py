"""What ``--resume`` may change: mid-run settings are applied (one printed line each), the rest refused; and
where fit starts (``Start``): a new state from the seed, or the checkpoint's state with the config's new lr.

A checkpoint written by ``jaxdl train`` keeps the config it was trained with in its metadata ("config").
"""
from __future__ import annotations

import dataclasses

from jaxdl.config import KINDS, ConfigError
from jaxdl.experiment._optim import torch_defaults

# (section, key) whose change mid-run is meaningful: the lr and the optimizer's other hyperparameters (they
# live in the rebuilt transform, not in the saved state), epochs, early stopping, the loop mode, the folder.
CHANGEABLE_TRAIN = ("epochs", "patience", "mode", "precision", "out_dir")
# hyperparameters whose zero-ness (or value) selects another chain of transforms: another optimizer state
STRUCTURAL = {"weight_decay": bool, "momentum": bool, "dampening": bool, "amsgrad": bool}


def _effective(optim: dict) -> dict:
    """The hyperparameters ``jaxdl.optim.<name>`` runs with: those set, torch's defaults for the rest."""
    return {**torch_defaults(optim["name"]), **{k: v for k, v in optim.items() if v is not None}}


def _with_defaults(section: str, saved: dict) -> dict:
    """A saved table with the keys added to its kind since it was written (e.g. train.precision) at their
    defaults: a checkpoint from an older jaxdl resumes as if it had spelled them out."""
    key, default_kind, kinds = KINDS[section]
    cls = kinds.get(saved.get(key, default_kind) if key else None)
    if cls is None or not saved:
        return saved
    fields = {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}
    return {**{k: v for k, v in fields.items() if k not in saved}, **saved}


def resume_changes(saved: dict, now: dict, epoch: int) -> list[str]:
    """Lines "optim.lr 0.001 -> 0.01 from epoch 21" for each setting ``now`` changes from ``saved`` (two
    Config.to_dict()s); ConfigError naming every key that cannot change, with both values."""
    refused, changed = [], []
    for section in ("model", "data", "train"):
        old, new = _with_defaults(section, saved.get(section) or {}), now.get(section) or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) == new.get(key):
                continue
            item = f"{section}.{key} {old.get(key)!r} -> {new.get(key)!r}"
            if (section, key) == ("train", "precision") and "fp16-mixed" in (old.get(key), new.get(key)):
                refused.append(item + " (the loss scaler's state is in the optimizer's)")
                continue
            if (section, key) == ("train", "ema_decay") and None in (old.get(key), new.get(key)):
                refused.append(item + " (the EMA copy is in the state; its decay alone may change)")
                continue
            if (section, key) == ("train", "ema_decay"):
                changed.append(item)
                continue
            (changed if section == "train" and key in CHANGEABLE_TRAIN else refused).append(item)
    old, new = saved["optim"], now["optim"]
    if old["name"] != new["name"]:
        refused.append(f"optim.name {old['name']!r} -> {new['name']!r}")
    else:
        eff_old, eff_new = _effective(old), _effective(new)
        for key in sorted(set(eff_old) | set(eff_new)):
            a, b = eff_old.get(key), eff_new.get(key)
            if a == b:
                continue
            item = f"optim.{key} {a!r} -> {b!r}"
            if key in STRUCTURAL and STRUCTURAL[key](a) != STRUCTURAL[key](b):
                refused.append(item + " (changes the optimizer's state)")
            else:
                changed.append(item)
    if refused:
        raise ConfigError(f"--resume: this config differs from the one the checkpoint was trained with in "
                          f"settings that cannot change mid-run: {'; '.join(refused)}. Resume with the old values, "
                          "or start a new run (--overwrite or another --out)")
    return [f"{item} from epoch {epoch}" for item in changed]


def changed_lr(saved: dict, now: dict) -> float | None:
    """The lr ``now`` sets when it differs from ``saved``'s (torch's default standing for an unset one), else None."""
    old, new = _effective(saved["optim"]), _effective(now["optim"])
    return None if old.get("lr") == new.get("lr") else float(new["lr"])


@dataclasses.dataclass(frozen=True)
class Start:
    """Where a recipe's fit starts: a new TrainState from ``seed``, or (``checkpoint`` set: a resume) the state
    that checkpoint holds, its optimizer's lr set to ``lr`` when the config changed it.

    torch's ``optimizer.load_state_dict(ckpt); for g in optimizer.param_groups: g["lr"] = new_lr``: the resumed
    run's first step uses (and metrics.jsonl logs) the new lr.
    """

    seed: int
    checkpoint: str | None = None
    lr: float | None = None

    def fit_kwargs(self, model, tx, precision: str = "fp32", ema_decay: float | None = None) -> dict:
        """``{"key": ...}`` for a new run, ``{"state": ...}`` for a resumed one, and ``ema_decay``: fit's start
        arguments (a resumed "fp16-mixed" state holds the loss scaler's state beside the optimizer's; with
        train.ema_decay, the EMA copy)."""
        import jax  # noqa: PLC0415

        from jaxdl.amp import training_optimizer  # noqa: PLC0415
        from jaxdl.optim import set_lr  # noqa: PLC0415
        from jaxdl.train import TrainState, load_checkpoint  # noqa: PLC0415

        key = jax.random.key(self.seed)
        if self.checkpoint is None:
            return {"key": key, "ema_decay": ema_decay}
        state, _ = load_checkpoint(self.checkpoint, TrainState.create(model, training_optimizer(tx, precision), key,
                                                                       ema=ema_decay is not None))
        if self.lr is not None:
            state = state.replace(opt_state=set_lr(state.opt_state, self.lr))
        return {"state": state, "ema_decay": ema_decay}
