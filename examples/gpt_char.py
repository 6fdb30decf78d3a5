"""A character-level GPT trained on the standard library's source files, then sampled.

Run: python examples/gpt_char.py [configs/gpt_char.toml] [--epochs N]
Prints train/validation loss per epoch next to the unigram entropy of the validation text (the loss of a
model that ignores context), then a sample. Afterwards: jaxdl sample runs/gpt_char/checkpoint.msgpack
"""
import argparse
import time

import jax
import numpy as np

from jaxdl.config import load_config
from jaxdl.experiment import run_train
from jaxdl.generate import generate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="configs/gpt_char.toml")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--out", default=None, help="output folder (default: the config's train.out_dir)")
    parser.add_argument("--overwrite", action="store_true", help="replace the run the output folder holds")
    args = parser.parse_args(argv)
    cfg = load_config(args.config, [] if args.epochs is None else [f"train.epochs={args.epochs}"])
    t0 = time.perf_counter()
    res = run_train(cfg, args.out, progress=False, overwrite=args.overwrite)
    print(f"trained in {time.perf_counter() - t0:.0f} s; unigram entropy of the validation text: "
          f"{res['unigram_entropy']:.3f} nats")
    for h in res["history"]:
        print(f"epoch {h['epoch']}: train_loss {h['train_loss']:.3f}  val_loss {h['val_loss']:.3f}  "
              f"val_acc {h['val_acc']:.3f}")
    vocab, state = res["vocab"], res["state"]
    out = generate(res["model"], state.params, vocab.encode("def "), 200, key=jax.random.key(0),
                   temperature=0.8, top_k=10)
    print("sample:\n" + vocab.decode(np.asarray(out)))
    return res


if __name__ == "__main__":
    main()
