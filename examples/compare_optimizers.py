"""The optimizer comparison from Python: what `jaxdl compare configs/compare_optimizers.toml` runs."""
import sys

from jaxdl.experiment.compare import format_table, run_compare
from jaxdl.config import load_config


def main(overrides=(), out_dir: str = "runs/compare") -> list:
    cfg = load_config("configs/compare_optimizers.toml", overrides)
    rows = run_compare(cfg, out_dir)     # one vmapped sweep (lrs × seeds) per optimizer; compare.png, runs.csv
    print(format_table(rows))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
