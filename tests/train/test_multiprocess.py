"""Two real processes (jax.distributed on 127.0.0.1, gloo CPU collectives) train as one process does.

Each process owns one CPU device; the mesh spans both, so every array fit hands to a step is a global array
whose other half lives in the other process. Checked against a 1-process run of the same fit: parameters,
BatchNorm buffers and losses, for (1) the whole data set on every process (scan mode), (2) each
process reading only its rows of every batch from memory-mapped .npy files (DataLoader num_replicas/rank,
loop mode), (3) a run stopped after 2 epochs and resumed to 4 in a shared out_dir (only process 0 writes there).
"""
import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import chex
import jax
import numpy as np
import optax

from jaxdl.train import fit
from tests.train._common import blobs, mlp

TIMEOUT_S = 180  # for both workers together: ~30 s on an idle 2-core machine; only a hung run reaches it
KW = dict(batch_size=16, key=jax.random.key(0), progress=False)

WORKER = textwrap.dedent("""
    import sys
    rank, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    import jax
    from jax._src import xla_bridge
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # gloo binds to the address of the machine's hostname unless told otherwise: keep it on loopback.
    _make = xla_bridge._jax.make_gloo_tcp_collectives
    xla_bridge._jax.make_gloo_tcp_collectives = lambda distributed_client: _make(
        distributed_client=distributed_client, hostname="127.0.0.1")
    jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", coordinator_bind_address=f"127.0.0.1:{port}",
                               num_processes=2, process_id=rank, initialization_timeout=60)
    import numpy as np, optax
    from flax import serialization
    from jaxdl.data import DataLoader
    from jaxdl.train import TrainState, data_parallel_mesh, fit
    from tests.train._common import mlp
    assert jax.process_count() == 2 and jax.device_count() == 2 and jax.local_device_count() == 1
    mesh = data_parallel_mesh()
    d = np.load(f"{out}/data.npz")
    train, val = (d["x"], d["y"]), (d["vx"], d["vy"])
    tx = optax.sgd(0.1, momentum=0.9)
    kw = dict(batch_size=16, key=jax.random.key(0), progress=False, mesh=mesh)
    runs = {"whole_scan": fit(mlp(), tx, train, val, epochs=2, mode="scan", **kw)}
    key = TrainState.create(mlp(), tx, jax.random.key(0)).data_key()
    part = dict(num_replicas=jax.process_count(), rank=jax.process_index())
    runs["per_process"] = fit(mlp(), tx, DataLoader((f"{out}/x.npy", f"{out}/y.npy"), 16, shuffle=True, key=key,
                                                     drop_last=True, **part),
                              DataLoader((f"{out}/vx.npy", f"{out}/vy.npy"), 16, **part),
                              epochs=2, mode="loop", **dict(kw, batch_size=None))
    fit(mlp(), tx, train, val, epochs=2, mode="loop", out_dir=f"{out}/run", patience=5, **kw)
    runs["resumed"] = fit(mlp(), tx, train, val, epochs=4, mode="loop", out_dir=f"{out}/run", patience=5,
                          resume=True, **kw)
    for name, res in runs.items():
        assert res.state.params["0"]["weight"].sharding.device_set == set(jax.devices()), name
        tree = {"params": res.state.params, "model_state": res.state.model_state,
                "losses": np.array([[h["val_loss"], *h["step_loss"]] for h in res.history])}
        with open(f"{out}/{name}.{rank}.msgpack", "wb") as f:
            f.write(serialization.msgpack_serialize(jax.device_get(tree)))
    print("OK", rank)
""")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    port = _free_port()
    procs = [subprocess.Popen([sys.executable, "-W", "error", "-c", WORKER, str(rank), str(port), str(tmp_path)],
                              env=env, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in (0, 1)]
    return procs


def _wait(procs):
    deadline, outputs = time.monotonic() + TIMEOUT_S, []
    try:
        for p in procs:
            outputs.append(p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0])
    finally:
        for p in procs:  # only our own children, by their Popen handle (pid)
            if p.poll() is None:
                p.kill()
                p.wait()
    return outputs


def _load(path):
    from flax import serialization  # noqa: PLC0415

    return serialization.msgpack_restore(path.read_bytes())


def test_two_processes_train_as_one(tmp_path):
    x, y = blobs(n=64)
    vx, vy = blobs(n=24, seed=1)  # 24 % 16 = 8: a smaller last validation batch, split 4 + 4
    np.savez(tmp_path / "data.npz", x=x, y=y, vx=vx, vy=vy)
    for name, a in (("x", x), ("y", y), ("vx", vx), ("vy", vy)):
        np.save(tmp_path / f"{name}.npy", a)
    procs = _launch(tmp_path)
    try:  # the 1-process references, computed while the workers start
        tx = optax.sgd(0.1, momentum=0.9)
        ref = {"whole_scan": fit(mlp(), tx, (x, y), (vx, vy), epochs=2, mode="scan", **KW),
               "resumed": fit(mlp(), tx, (x, y), (vx, vy), epochs=4, mode="loop", **KW)}
        ref["per_process"] = ref["whole_scan"]  # the loader replays fit's order: loop mode equals scan mode
    finally:
        outputs = _wait(procs)
    for rank, (p, out) in enumerate(zip(procs, outputs)):
        assert p.returncode == 0 and f"OK {rank}" in out, f"process {rank} (exit {p.returncode}):\n{out[-4000:]}"
    for name, res in ref.items():
        want = {"params": res.state.params, "model_state": res.state.model_state,
                "losses": [[h["val_loss"], *h["step_loss"]] for h in res.history]}
        for rank in (0, 1):
            got = _load(tmp_path / f"{name}.{rank}.msgpack")
            # the all-reduce sums the two halves in another order than one device: float rounding only
            chex.assert_trees_all_close(jax.device_get(got["params"]), jax.device_get(want["params"]),
                                        rtol=1e-5, atol=1e-6, custom_message=f"{name}, process {rank}")
            chex.assert_trees_all_close(got["model_state"], jax.device_get(want["model_state"]), rtol=1e-5,
                                        atol=1e-6, custom_message=f"{name}, process {rank}")
            np.testing.assert_allclose(got["losses"], np.array(want["losses"]), rtol=1e-5)
    lines = [json.loads(s) for s in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in lines] == [1, 2, 3, 4]  # one writer: each epoch once
    assert sorted(os.listdir(tmp_path / "run")) == ["best.msgpack", "checkpoint.msgpack", "curves.png",
                                                    "metrics.jsonl"]
