"""The parity case of a torch module converted with from_export (test_export.py, test_models.py): the module's
outputs (and buffers after the call) and gradients w.r.t. its float inputs and every parameter, torch's
``functional_call`` against the converted model's ``apply``, judged by the parity package's rules (float64: rtol
1e-10; float32: torch's own rounding against torch-float64) through ``run_case``/``compare_function``."""
import functools

import numpy as np
import torch

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
