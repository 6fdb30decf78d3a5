"""``jaxdl compare CONFIG [--set k=v ...] [--out DIR]``: the command line of jaxdl.experiment.compare."""
from __future__ import annotations

import os

from jaxdl.cli._errors import ArgumentParser, error, interrupted, is_out_of_memory, os_error, out_of_memory
from jaxdl.config import ConfigError, load_config


def main(argv) -> int:
    """``jaxdl compare CONFIG [--set k=v ...] [--out DIR]``."""
    p = ArgumentParser(prog="jaxdl compare",
                       description="compare optimizers over a learning-rate grid and seeds (vmapped sweeps)")
    p.add_argument("config", help="a TOML file, e.g. configs/compare_optimizers.toml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (as TOML spells it, or a Python literal), "
                        "e.g. --set train.epochs=5; repeatable")
    p.add_argument("--out", default="runs/compare", help="output folder for compare.png and runs.csv "
                   "(default runs/compare; a folder holding a comparison is refused without --overwrite)")
    p.add_argument("--overwrite", action="store_true", help="replace the comparison the output folder holds")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.set)
        from jaxdl.experiment.compare import format_table, run_compare  # noqa: PLC0415  (once the config is good)

        rows = run_compare(cfg, args.out, not args.no_progress, overwrite=args.overwrite)
    except ConfigError as err:  # from load_config, the folder check, or build_data's checks against the data
        return error(str(err))
    except OSError as err:  # no space left, a folder removed under the run
        return os_error(err)
    except Exception as err:
        if not is_out_of_memory(err):
            raise
        return out_of_memory(err)
    except KeyboardInterrupt:  # runs.csv, compare.png and table.txt are written once every sweep is done
        return interrupted(f"nothing was saved ({args.out} gets its files when every sweep is done); rerun the "
                           "command to start the comparison again")
    print(format_table(rows))
    print(f"figure: {os.path.join(args.out, 'compare.png')}  runs: {os.path.join(args.out, 'runs.csv')}  "
          f"table: {os.path.join(args.out, 'table.txt')}")
    return 0
