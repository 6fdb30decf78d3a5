"""A character-level GPT trained on the standard library's source files, then sampled.

Run: python examples/gpt_char.py [configs/gpt_char.toml] [--epochs N]
Prints train/validation loss per epoch next to the unigram entropy of the validation text (the loss of a
model that ignores context), then a sample. Afterwards: jaxdl sample runs/gpt_char/checkpoint.msgpack
"""
import argparse
import time
import tomllib

import jax
import numpy as np

from jaxdl.generate import generate, train_char_gpt
from jaxdl.nn import GPT


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", nargs="?", default="configs/gpt_char.toml")
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    with open(args.config, "rb") as f:
        config = tomllib.load(f)
    if args.epochs is not None:
        config["train"]["epochs"] = args.epochs
    t0 = time.perf_counter()
    result, vocab, entropy = train_char_gpt(config)
    print(f"trained in {time.perf_counter() - t0:.0f} s; unigram entropy of the validation text: {entropy:.3f} nats")
    for h in result.history:
        print(f"epoch {h['epoch']}: train_loss {h['train_loss']:.3f}  val_loss {h['val_loss']:.3f}  "
              f"val_acc {h['val_acc']:.3f}")
    model = GPT.from_config({**{k: v for k, v in config["model"].items() if k != "kind"}, "vocab_size": vocab.size})
    out = generate(model, result.state.params, vocab.encode("def "), 200, key=jax.random.key(0),
                   temperature=0.8, top_k=10)
    print("sample:\n" + vocab.decode(np.asarray(out)))


if __name__ == "__main__":
    main()
