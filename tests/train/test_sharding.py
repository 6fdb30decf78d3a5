"""Data parallelism: 4 (forced host) devices and 1 device train to the same parameters, in a subprocess."""
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import jax, numpy as np, optax
    assert jax.device_count() == 4, jax.devices()
    from jaxdl.train import data_parallel_mesh, fit
    from tests.train._common import blobs, mlp
    x, y = blobs(n=100); vx, vy = blobs(n=30, seed=1)  # 30 % 16: the last validation batch is not shardable
    kw = dict(epochs=2, batch_size=16, key=jax.random.key(0), progress=False)
    mesh = data_parallel_mesh()
    # SGD (Adam's sweep/mode tests live elsewhere): all-reduce order changes rounding only.
    tx = optax.sgd(0.1, momentum=0.9)
    for mode in ("scan", "loop"):
        one = fit(mlp(), tx, (x, y), (vx, vy), mode=mode, **kw)
        four = fit(mlp(), tx, (x, y), (vx, vy), mode=mode, mesh=mesh, **kw)
        assert len(four.state.params["0"]["weight"].sharding.device_set) == 4
        for a, b in zip(jax.tree.leaves(one.state.params), jax.tree.leaves(four.state.params)):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(one.history[-1]["val_loss"], four.history[-1]["val_loss"], rtol=1e-5)
    try:
        fit(mlp(), tx, (x, y), mesh=mesh, **dict(kw, batch_size=10))
    except ValueError as err:
        assert "divisible by the number of devices in the mesh (4)" in str(err), err
    else:
        raise AssertionError("batch_size=10 on 4 devices should fail")
    print("OK")
""")


def test_four_devices_match_one_device():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-W", "error", "-c", SCRIPT], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stdout + proc.stderr
