"""The parity case of a torch module converted with from_export (test_export.py, test_models.py): the module's
outputs (and buffers after the call) and gradients w.r.t. its float inputs and every parameter, torch's
``functional_call`` against the converted model's ``apply``, judged by the parity package's rules (float64: rtol
1e-10; float32: torch's own rounding against torch-float64) through ``run_case``/``compare_function``."""
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import interop
from jaxdl.interop import flatten, load_state_dict, unflatten
from jaxdl.interop import from_export as convert_exported
from jaxdl.parity._core import compare_function


def spec(make, examples, dtype=torch.float32):
    """One conversion per module builder (its class, or a function), example shapes and dtype (torch.export costs
    seconds; the spec does not depend on the weights, which every test loads into it from its own torch module
    with ``load_state_dict``).
    ``examples``: a shape, or a tuple of (shape, numpy dtype name) per input; float inputs take ``dtype``."""
    if all(isinstance(d, int) for d in examples):
        examples = ((tuple(examples), "float32"),)
    return _spec(make, tuple((tuple(shape), kind) for shape, kind in examples), dtype)


@functools.lru_cache(maxsize=None)
def _spec(make, examples, dtype):
    args = tuple(torch.zeros(shape, dtype=dtype if np.dtype(kind).kind == "f" else getattr(torch, kind))
                 for shape, kind in examples)
    return convert_exported(make().to(dtype), args)[0]


def convert(module, examples, dtype=torch.float32, make=None):
    """``(model, params, state)`` for ``module``: the cached spec of ``make`` (default: its class), the module's
    own state_dict."""
    model = spec(make or type(module), examples, dtype)
    return (model, *load_state_dict(model, module.state_dict()))


def case(make, inputs, *, training, buffers=False, pick=lambda out: out):
    """A parity case function ``fn(env)``: ``make()`` the torch module (torch's RNG is seeded from the case name:
    the same weights in every dtype), ``inputs`` a shape (one float input) or ``inputs(env)`` the list of numpy
    inputs; ``pick`` selects the compared output from both sides' results (``out["logits"]``)."""

    def fn(env):
        module = make()
        xs = [env.randn(*inputs)] if isinstance(inputs, tuple) else inputs(env)
        floats = [i for i, x in enumerate(xs) if x.dtype.kind == "f"]
        params = [n for n, _ in module.named_parameters()]
        bufs = [n for n, _ in module.named_buffers()] if buffers else []
        sd = module.state_dict()
        arrays = [sd[n].detach().numpy().astype(env.np_dtype if sd[n].is_floating_point() else np.int64)
                  for n in [*params, *bufs]]
        module = module.to(env.torch_dtype).train(training)
        examples = tuple((x.shape, "float32" if x.dtype.kind == "f" else x.dtype.name) for x in xs)
        model, _, state = convert(module, examples, env.torch_dtype, make)
        n = len(xs)

        def jax_fn(*leaves):
            p = unflatten(dict(zip(params, leaves[n:n + len(params)])))
            s = unflatten({**flatten(state), **dict(zip(bufs, leaves[n + len(params):]))})
            y, new = model.apply(p, s, *leaves[:n], training=training)
            return (pick(y), tuple(flatten(new)[b] for b in bufs)) if buffers else pick(y)

        def torch_fn(*leaves):
            tensors = dict(zip([*params, *bufs], leaves[n:]))
            y = pick(torch.func.functional_call(module, tensors, tuple(leaves[:n])))  # updates buffers in place
            return (y, tuple(tensors[b] for b in bufs)) if buffers else y

        return compare_function(env, jax_fn, torch_fn, [*xs, *arrays],
                                diff_argnums=[*floats, *range(n, n + len(params))],
                                grad_output=(lambda out: out[0]) if buffers else (lambda out: out))

    return fn


def fit_like_torch_and_resume(module, converted, xs, tmp_path, classes=3):
    """``fit`` on the converted float64 ``module`` takes torch's SGD steps (momentum; one full batch per epoch,
    so the shuffle does not matter; BatchNorm's running statistics too), to float64's rtol 1e-10, and a run
    resumed from its epoch-1 checkpoint ends bit for bit where the uninterrupted run does. (x64 on.)"""
    from jaxdl import optim, train  # noqa: PLC0415

    model, params, state = converted
    ys = np.random.default_rng(1).integers(0, classes, len(xs))
    data = (jnp.asarray(xs), jnp.asarray(ys))
    tx, kw = optim.sgd(lr=0.1, momentum=0.9), dict(batch_size=len(xs), progress=False)

    def fresh():  # copies: fit donates the state's buffers
        p, s = jax.tree.map(jnp.copy, (params, state))
        return train.TrainState.create(model, tx, jax.random.key(0)).replace(params=p, model_state=s,
                                                                           opt_state=tx.init(p))

    full = train.fit(model, tx, data, epochs=3, state=fresh(), **kw)
    opt = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
    module.train()
    for _ in range(3):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(module(torch.from_numpy(xs)), torch.from_numpy(ys)).backward()
        opt.step()
    got = interop.state_dict(full.state.params, full.state.model_state, module=model)
    for name, value in module.state_dict().items():
        np.testing.assert_allclose(got[name], value.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    train.fit(model, tx, data, epochs=1, out_dir=tmp_path, state=fresh(), **kw)
    restored, _ = train.load_checkpoint(tmp_path / "checkpoint.msgpack", fresh())
    resumed = train.fit(model, tx, data, epochs=3, out_dir=tmp_path, resume=True, state=restored, **kw)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for a, b in zip(jax.tree.leaves((full.state.params, full.state.model_state, full.state.opt_state)),
                    jax.tree.leaves((resumed.state.params, resumed.state.model_state, resumed.state.opt_state)),
                    strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), strict=True)


def each_case(cases, in_ci):
    """``test_matches_torch``'s parameters: every (case, dtype), those outside ``in_ci`` marked parity_all."""
    return pytest.mark.parametrize("parity_case,dtype", [
        pytest.param(c, d, id=f"{c.name}-{d}", marks=() if (c.name, d) in in_ci else pytest.mark.parity_all)
        for c in cases for d in ("float64", "float32")])
