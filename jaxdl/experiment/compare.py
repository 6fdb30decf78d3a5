"""The recipe behind ``jaxdl compare``: one learning-rate × seed sweep per optimizer variant (jaxdl.train.sweep),
then a figure, a CSV and a table (its command line is jaxdl.cli's ``_compare``)."""
from __future__ import annotations

import csv
import os
import time

import numpy as np

from jaxdl.config import Config, ConfigError
from jaxdl.experiment._batch import check_batch_size
from jaxdl.experiment._run_dir import prepare_run_dir

OUTPUTS = ("runs.csv", "compare.png", "table.txt")
# the [train] keys a sweep has no use for, and why (compare reads epochs, batch_size, loss and precision)
UNUSED_TRAIN_KEYS = {"train.seed": "the seeds are compare.seeds",
                     "train.mode": "a sweep is one vmapped scan program",
                     "train.patience": "a sweep trains every copy for train.epochs (no early stopping)",
                     "train.out_dir": "the output folder is --out"}
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (1, 1)), "P")]


def check_comparable(cfg: Config) -> None:
    """``jaxdl compare`` runs an MLP or CNN config with compare.variants and no [optim] table (each variant is one)."""
    if cfg.model.kind not in ("mlp", "cnn"):
        raise ConfigError(f"jaxdl compare sweeps optimizers on an MLP or CNN config; this one has model.kind = "
                          f"{cfg.model.kind!r} (train it with `jaxdl train`)")
    if not cfg.compare.variants:
        raise ConfigError("compare.variants is empty: list the optimizers to compare, e.g. variants = "
                          "[{label = 'SGD', name = 'sgd'}, {label = 'Adam', name = 'adam'}]")
    if "optim" in cfg.tables:
        raise ConfigError("jaxdl compare takes each optimizer from compare.variants; the [optim] table would be "
                          "ignored: move its hyperparameters into the variants")
    unused = sorted(k for k in cfg.keys if k in UNUSED_TRAIN_KEYS)
    if unused:
        raise ConfigError(f"jaxdl compare does not use {', '.join(unused)} (it would be ignored): "
                          f"{'; '.join(UNUSED_TRAIN_KEYS[k] for k in unused)}; remove it")


def run_compare(cfg: Config, out_dir: str, progress: bool = True, *, overwrite: bool = False) -> list[dict]:
    """Sweep every variant in ``cfg.compare`` over log-spaced lrs × seeds; write compare.png, runs.csv, table.txt.

    Returns one summary row per variant: optimizer (its label), best_lr, val_acc_mean, val_acc_std, val_loss,
    wall_s. ``out_dir`` must not hold an earlier comparison unless ``overwrite``.
    """
    check_comparable(cfg)
    prepare_run_dir(out_dir, resume=False, overwrite=overwrite, files=OUTPUTS, what="a comparison")
    from tqdm.auto import tqdm  # noqa: PLC0415

    from jaxdl.experiment import build_data, build_model, build_tx, loss_fn  # noqa: PLC0415
    from jaxdl.experiment._memory import check_memory  # noqa: PLC0415
    from jaxdl.train import sweep  # noqa: PLC0415

    c, t = cfg.compare, cfg.train
    train, val, _ = build_data(cfg)
    check_batch_size(cfg, len(train[0]), "examples", f"data.kind = {cfg.data.kind!r}")
    model = build_model(cfg, train[0].shape[1])
    lrs = np.logspace(np.log10(c.lr_min), np.log10(c.lr_max), c.num_lrs)
    for i, v in enumerate(c.variants):  # a refused hyperparameter or a sweep too large fails now, not later
        check_memory(model, build_tx(v.optim, float(lrs[0]), where=f"compare.variants[{i}]"),
                     copies=len(lrs) * len(c.seeds))
    results, rows = {}, []
    bar = tqdm(c.variants, desc="compare", unit="optimizer", disable=not progress)
    for v in bar:
        name = v.label
        bar.set_postfix_str(f"{name}: {len(lrs)} lrs × {len(c.seeds)} seeds in one vmapped program")
        t0 = time.perf_counter()
        res = sweep(model, lambda lr, v=v: build_tx(v.optim, lr), {"lr": lrs}, c.seeds, train, val,
                    loss_fn=loss_fn(cfg), epochs=t.epochs, batch_size=t.batch_size,
                    precision=t.precision)
        wall = time.perf_counter() - t0
        hist = np.array([[[h[k] if h[k] is not None else np.nan for k in ("train_loss", "val_loss", "val_acc")]
                          for h in run] for run in res.histories], dtype=np.float64)  # (copies, epochs, 3)
        hist = hist.reshape(len(lrs), len(c.seeds), t.epochs, 3)
        results[name] = hist
        rows.append({**summarize(name, hist[:, :, -1], lrs), "wall_s": wall})
    _write_csv(os.path.join(out_dir, "runs.csv"), results, lrs, c.seeds)
    _plot(os.path.join(out_dir, "compare.png"), results, rows, lrs)
    with open(os.path.join(out_dir, "table.txt"), "w") as f:
        f.write(format_table(rows) + "\n")
    return rows


def summarize(name: str, final, lrs) -> dict:
    """One optimizer's row from its final metrics ``final`` (lrs, seeds, [train_loss, val_loss, val_acc]).

    best_lr maximises the seed-mean validation accuracy (a diverged run counts 0); at it: val_acc_mean,
    val_acc_std (population std over seeds), and the seed-mean train_loss and val_loss. The README's
    figures come from this function applied to the committed runs.csv (tests/test_readme.py).
    """
    acc = np.nan_to_num(final[:, :, 2], nan=0.0)
    best = int(np.argmax(acc.mean(1)))
    return {"optimizer": name, "best_lr": float(lrs[best]), "val_acc_mean": float(acc[best].mean()),
            "val_acc_std": float(acc[best].std()), "val_loss": float(np.mean(final[best, :, 1])),
            "train_loss": float(np.mean(final[best, :, 0])), "best": best,
            "acc_by_lr": dict(zip((float(lr) for lr in lrs), acc.mean(1).tolist()))}


def read_runs(path) -> list[dict]:
    """The summary rows (``summarize``) of a runs.csv written by ``jaxdl compare``, in its order."""
    with open(path, newline="") as f:
        records = list(csv.DictReader(f))
    names = list(dict.fromkeys(r["optimizer"] for r in records))
    rows = []
    for name in names:
        mine = [r for r in records if r["optimizer"] == name]
        lrs = sorted({float(r["lr"]) for r in mine})
        seeds = sorted({int(r["seed"]) for r in mine})
        final = np.full((len(lrs), len(seeds), 3), np.nan)
        for r in mine:
            final[lrs.index(float(r["lr"])), seeds.index(int(r["seed"]))] = [
                float(r[k]) for k in ("train_loss", "val_loss", "val_acc")]
        rows.append(summarize(name, final, np.asarray(lrs)))
    return rows


def _write_csv(path, results, lrs, seeds):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["optimizer", "lr", "seed", "train_loss", "val_loss", "val_acc"])
        for name, hist in results.items():
            for i, lr in enumerate(lrs):
                for j, seed in enumerate(seeds):
                    w.writerow([name, f"{lr:.6g}", seed, *(f"{v:.6g}" for v in hist[i, j, -1])])


def _plot(path, results, rows, lrs):
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, ((name, hist), row) in enumerate(zip(results.items(), rows)):
        # distinct line styles and markers, each marker smaller than the one before and every other one open,
        # so that equal curves (Adam and AdamW at small lrs) do not hide each other
        style, marker = STYLES[i % len(STYLES)]
        look = {"linestyle": style, "marker": marker, "markersize": max(10 - 2 * i, 3),
                "fillstyle": "full" if i % 2 == 0 else "none", "markeredgewidth": 1.5}
        acc = np.nan_to_num(hist[:, :, -1, 2], nan=0.0)
        line, = a.plot(lrs, acc.mean(1), label=name, **look)
        a.fill_between(lrs, acc.min(1), acc.max(1), color=line.get_color(), alpha=0.15)
        epochs = np.arange(1, hist.shape[2] + 1)
        best = hist[row["best"]]
        every = max(1, len(epochs) // 8)
        b.plot(epochs, best[:, :, 0].mean(0), color=line.get_color(), alpha=0.45, markevery=every,
               **{**look, "marker": None})
        b.plot(epochs, best[:, :, 1].mean(0), color=line.get_color(), markevery=(i % every, every),
               label=f"{name} (lr {row['best_lr']:.3g})", **look)
    a.set(xscale="log", xlabel="learning rate", ylabel="final validation accuracy",
          title="(a) validation accuracy vs lr (band: min–max over seeds)")
    a.legend()
    b.set(yscale="log", xlabel="epoch", ylabel="loss",
          title="(b) at each best lr: validation (markers), train (faint)")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_table(rows) -> str:
    """The summary table (the wall-time column only when the rows have one: not for ``read_runs``' rows)."""
    wall = all("wall_s" in r for r in rows)
    lines = [f"{'optimizer':<18} {'best lr':>9} {'val acc (mean ± std)':>22} {'val loss':>9}"
             + (f" {'wall s':>7}" if wall else "")]
    for r in rows:
        lines.append(f"{r['optimizer']:<18} {r['best_lr']:>9.3g} {r['val_acc_mean']:>13.4f} ± {r['val_acc_std']:.4f} "
                     f"{r['val_loss']:>9.4f}" + (f" {r['wall_s']:>7.1f}" if wall else ""))
    return "\n".join(lines)
