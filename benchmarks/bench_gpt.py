"""GPT training speed: tokens/s of one Adam step for jaxdl, torch eager and torch.compile, in one run.

Run: python benchmarks/bench_gpt.py [--steps 30] [--repeats 5] [--drop-rate 0.0] [--peers jaxdl,torch_eager,...]
Model (vocab 65, context 64, emb_dim 128, 4 layers, 4 heads, batch 32, Adam lr 1e-3): the same architecture on
both sides (jaxdl.nn.GPT and the torch reference in jaxdl/parity/_torch_gpt.py). Each peer is a function
``setup(cfg, batch, x, y) -> step`` where ``step()`` runs one training step and returns a loss that can be
synchronised; the harness warms each up, times ``--steps`` steps ``--repeats`` times (peers interleaved) and reports the median.
To add a peer, add a setup function to PEERS.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import jax
import numpy as np

CFG = {"vocab_size": 65, "context_length": 64, "emb_dim": 128, "n_heads": 4, "n_layers": 4, "drop_rate": 0.0,
       "qkv_bias": False}
BATCH = 32


def setup_jaxdl(cfg, batch, x, y):
    from jaxdl import nn, optim  # noqa: PLC0415
    from jaxdl.train import TrainState, make_steps  # noqa: PLC0415

    model, tx = nn.GPT.from_config(cfg), optim.adam(lr=1e-3)
    train_step, _ = make_steps(model, tx, nn.lm_loss, accuracy=False)
    box = {"state": TrainState.create(model, tx, jax.random.key(0))}
    xj, yj = jax.device_put(x), jax.device_put(y)

    def step():
        box["state"], metrics = train_step(box["state"], xj, yj)
        return metrics["loss"]

    return step, lambda loss: jax.block_until_ready(loss)


def _torch_setup(compiled: bool):
    def setup(cfg, batch, x, y):
        import torch  # noqa: PLC0415

        from jaxdl.parity._torch_gpt import torch_gpt  # noqa: PLC0415

        torch.manual_seed(0)
        model = torch_gpt(cfg).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        forward = torch.compile(model) if compiled else model
        xt, yt = torch.as_tensor(x).long(), torch.as_tensor(y).long()

        def step():
            logits = forward(xt)
            loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), yt.flatten())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss

        return step, lambda loss: loss.item()
    return setup


PEERS = {"jaxdl": setup_jaxdl, "torch_eager": _torch_setup(False), "torch_compile": _torch_setup(True)}


def time_peers(peers, cfg, batch, x, y, steps, repeats, warmup=5):
    """Seconds per step of each peer: {name: [one figure per repeat]}.

    The peers take turns (repeat 1 of every peer, then repeat 2, ...) with a short pause between them, so a
    burst of load from other processes on a shared machine hits all of them rather than one.
    """
    runners = {}
    for name, setup in peers.items():
        step, sync = setup(cfg, batch, x, y)
        for _ in range(warmup):  # compiles (jit, torch.compile) happen here, outside the timings
            sync(step())
        runners[name] = (step, sync)
    times = {name: [] for name in peers}
    for _ in range(repeats):
        for name, (step, sync) in runners.items():
            time.sleep(0.2)  # let the previous peer's thread pool go idle
            t0 = time.perf_counter()
            for _ in range(steps):
                loss = step()
            sync(loss)
            times[name].append((time.perf_counter() - t0) / steps)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args(argv)
    cfg = {**CFG, "drop_rate": args.drop_rate}
    rng = np.random.default_rng(0)
    x = rng.integers(0, cfg["vocab_size"], (BATCH, cfg["context_length"])).astype(np.int32)
    y = rng.integers(0, cfg["vocab_size"], (BATCH, cfg["context_length"])).astype(np.int32)
    times = time_peers({name: PEERS[name] for name in args.peers.split(",")}, cfg, BATCH, x, y, args.steps,
                       args.repeats)
    secs = {name: statistics.median(t) for name, t in times.items()}
    tokens = BATCH * cfg["context_length"]
    base = secs.get("torch_compile", next(iter(secs.values())))
    print(f"GPT {cfg}, batch {BATCH}, Adam; device {jax.devices()[0].platform}, {os.cpu_count()} CPUs; "
          f"median (and best) of {args.repeats} interleaved runs of {args.steps} steps")
    print(f"{'peer':<15} {'tokens/s':>10} {'ms/step':>9} {'best ms/step':>13} {'time/step vs torch_compile':>27}")
    for name, s in secs.items():
        print(f"{name:<15} {tokens / s:>10.0f} {1e3 * s:>9.2f} {1e3 * min(times[name]):>13.2f} {s / base:>26.2f}x")
    return secs


if __name__ == "__main__":
    main()
