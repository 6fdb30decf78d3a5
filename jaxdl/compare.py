"""``jaxdl compare``: one learning-rate × seed sweep per optimizer variant (jaxdl.train.sweep), then a figure, a
CSV and a table."""
from __future__ import annotations

import argparse
import csv
import os
import time

import numpy as np

from jaxdl.cli import error, os_error
from jaxdl.config import Config, ConfigError, load_config
from jaxdl.experiment._run_dir import prepare_run_dir

OUTPUTS = ("runs.csv", "compare.png")
STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1)), "v"), ((0, (1, 1)), "P")]


def check_comparable(cfg: Config) -> None:
    """``jaxdl compare`` runs an MLP config with compare.variants and no [optim] table (each variant is one)."""
    if cfg.model.kind != "mlp":
        raise ConfigError(f"jaxdl compare sweeps optimizers on an MLP config; this one has model.kind = "
                          f"{cfg.model.kind!r} (train it with `jaxdl train`)")
    if not cfg.compare.variants:
        raise ConfigError("compare.variants is empty: list the optimizers to compare, e.g. variants = "
                          "[{label = 'SGD', name = 'sgd'}, {label = 'Adam', name = 'adam'}]")
    if "optim" in cfg.tables:
        raise ConfigError("jaxdl compare takes each optimizer from compare.variants; the [optim] table would be "
                          "ignored: move its hyperparameters into the variants")


def run_compare(cfg: Config, out_dir: str, progress: bool = True, *, overwrite: bool = False) -> list[dict]:
    """Sweep every variant in ``cfg.compare`` over log-spaced lrs × seeds; write compare.png and runs.csv.

    Returns one summary row per variant: optimizer (its label), best_lr, val_acc_mean, val_acc_std, val_loss,
    wall_s. ``out_dir`` must not hold an earlier comparison unless ``overwrite``.
    """
    check_comparable(cfg)
    prepare_run_dir(out_dir, resume=False, overwrite=overwrite, files=OUTPUTS, what="a comparison")
    from tqdm.auto import tqdm  # noqa: PLC0415

    from jaxdl.experiment import build_data, build_model, build_tx, loss_fn  # noqa: PLC0415
    from jaxdl.train import sweep  # noqa: PLC0415

    c, t = cfg.compare, cfg.train
    train, val, _ = build_data(cfg)
    model = build_model(cfg, train[0].shape[1])
    lrs = np.logspace(np.log10(c.lr_min), np.log10(c.lr_max), c.num_lrs)
    for i, v in enumerate(c.variants):  # a refused hyperparameter fails now, not after the first sweeps
        build_tx(v.optim, float(lrs[0]), where=f"compare.variants[{i}]")
    results, rows = {}, []
    bar = tqdm(c.variants, desc="compare", unit="optimizer", disable=not progress)
    for v in bar:
        name = v.label
        bar.set_postfix_str(f"{name}: {len(lrs)} lrs × {len(c.seeds)} seeds in one vmapped program")
        t0 = time.perf_counter()
        res = sweep(model, lambda lr, v=v: build_tx(v.optim, lr), {"lr": lrs}, c.seeds, train, val,
                    loss_fn=loss_fn(cfg), epochs=t.epochs, batch_size=min(t.batch_size, len(train[0])))
        wall = time.perf_counter() - t0
        hist = np.array([[[h[k] if h[k] is not None else np.nan for k in ("train_loss", "val_loss", "val_acc")]
                          for h in run] for run in res.histories], dtype=np.float64)  # (copies, epochs, 3)
        hist = hist.reshape(len(lrs), len(c.seeds), t.epochs, 3)
        results[name] = hist
        acc = np.nan_to_num(hist[:, :, -1, 2], nan=0.0)
        best = int(np.argmax(acc.mean(1)))
        rows.append({"optimizer": name, "best_lr": float(lrs[best]), "val_acc_mean": float(acc[best].mean()),
                     "val_acc_std": float(acc[best].std()), "val_loss": float(np.mean(hist[best, :, -1, 1])),
                     "wall_s": wall, "best": best})
    _write_csv(os.path.join(out_dir, "runs.csv"), results, lrs, c.seeds)
    _plot(os.path.join(out_dir, "compare.png"), results, rows, lrs)
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
        style, marker = STYLES[i % len(STYLES)]  # distinct styles and markers: equal curves do not hide each other
        acc = np.nan_to_num(hist[:, :, -1, 2], nan=0.0)
        line, = a.plot(lrs, acc.mean(1), linestyle=style, marker=marker, label=name)
        a.fill_between(lrs, acc.min(1), acc.max(1), color=line.get_color(), alpha=0.15)
        epochs = np.arange(1, hist.shape[2] + 1)
        best = hist[row["best"]]
        every = max(1, len(epochs) // 8)
        b.plot(epochs, best[:, :, 0].mean(0), color=line.get_color(), linestyle=style, marker=marker,
               markevery=every, fillstyle="none", alpha=0.6)
        b.plot(epochs, best[:, :, 1].mean(0), color=line.get_color(), linestyle=style, marker=marker,
               markevery=(every // 2, every), label=f"{name} (lr {row['best_lr']:.3g})")
    a.set(xscale="log", xlabel="learning rate", ylabel="final validation accuracy",
          title="(a) validation accuracy vs lr (band: min–max over seeds)")
    a.legend()
    b.set(yscale="log", xlabel="epoch", ylabel="loss",
          title="(b) at each best lr: train (open markers, faint), validation (filled)")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_table(rows) -> str:
    lines = [f"{'optimizer':<18} {'best lr':>9} {'val acc (mean ± std)':>22} {'val loss':>9} {'wall s':>7}"]
    for r in rows:
        lines.append(f"{r['optimizer']:<18} {r['best_lr']:>9.3g} "
                     f"{r['val_acc_mean']:>13.4f} ± {r['val_acc_std']:.4f} {r['val_loss']:>9.4f} {r['wall_s']:>7.1f}")
    return "\n".join(lines)


def main(argv) -> int:
    """``jaxdl compare CONFIG [--set k=v ...] [--out DIR]``."""
    p = argparse.ArgumentParser(prog="jaxdl compare",
                                description="compare optimizers over a learning-rate grid and seeds (vmapped sweeps)")
    p.add_argument("config", help="a TOML file, e.g. configs/compare_optimizers.toml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (Python literal), e.g. --set train.epochs=5; repeatable")
    p.add_argument("--out", default="runs/compare", help="output folder for compare.png and runs.csv "
                   "(default runs/compare; a folder holding a comparison is refused without --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace the comparison the output folder holds")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.set)
        rows = run_compare(cfg, args.out, not args.no_progress, overwrite=args.overwrite)
    except ConfigError as err:  # from load_config, the folder check, or build_data's checks against the data
        return error(str(err))
    except OSError as err:  # no space left, a folder removed under the run
        return os_error(err)
    print(format_table(rows))
    print(f"figure: {os.path.join(args.out, 'compare.png')}  runs: {os.path.join(args.out, 'runs.csv')}")
    return 0
