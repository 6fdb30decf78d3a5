"""Parity cases for jaxdl.nn: each module with torch's own weights (loaded through jaxdl.interop), outputs and
input/parameter gradients compared; BatchNorm1d and a lecture MLP over several training steps (running
stats and num_batches_tracked compared after each), then in eval mode.
"""
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl import nn
from jaxdl.interop import flatten, load_state_dict
from jaxdl.parity._core import Comparison, _promoted_product, compare_function, register, to_numpy


def _numpy_state_dict(tm):
    return {k: v.detach().cpu().numpy() for k, v in tm.state_dict().items()}


def _prepare(env, tm, randomize_buffers=False):
    """torch module on env's device/dtype, with random running stats when asked (so eval is not trivial)."""
    tm = tm.to(device=env.device, dtype=env.torch_dtype)
    if randomize_buffers:
        with env.torch.no_grad():
            for name, buf in tm.named_buffers():
                if name.endswith("running_mean"):
                    buf.copy_(env.to_torch(env.randn(*buf.shape)))
                elif name.endswith("running_var"):
                    buf.copy_(env.to_torch(env.uniform(*buf.shape, low=0.5, high=2.0)))
    return tm


def _stateless(env, jm, tm, x, *, training=False, int_input=False, randomize_buffers=False):
    """One forward (state held fixed): output, d/dx (float inputs) and d/d every parameter."""
    tm = _prepare(env, tm, randomize_buffers).train(training)
    params, state = load_state_dict(jm, _numpy_state_dict(tm))
    leaves, treedef = jax.tree_util.tree_flatten(params)
    names = [".".join(k.key for k in path) for path, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
    pvals = [np.asarray(v) for v in leaves]
    key = jax.random.key(0) if training else None

    def jax_fn(x, *p):
        return jm.apply(jax.tree_util.tree_unflatten(treedef, p), state, x, training=training, key=key)[0]

    def torch_fn(x, *p):
        return env.torch.func.functional_call(tm, dict(zip(names, p)), (x,))

    diff = tuple(range(0 if not int_input else 1, 1 + len(pvals)))
    return compare_function(env, jax_fn, torch_fn, [x, *pvals], diff_argnums=diff)


def _training_steps(env, jm, tm, xs, x_eval, *, randomize_buffers=False):
    """Training steps on ``xs`` then one eval forward: outputs, x and parameter grads, state after each step."""
    torch = env.torch
    tm = _prepare(env, tm, randomize_buffers)
    params, state = load_state_dict(jm, _numpy_state_dict(tm))
    buffer_names = [n for n, _ in tm.named_buffers()]

    @env.jit
    def step(params, state, x, ct, key):
        def objective(p, x):
            y, new_state = jm.apply(p, state, x, training=True, key=key)
            return jnp.sum(_promoted_product(y, ct)), (y, new_state)

        (_, (y, new_state)), grads = jax.value_and_grad(objective, (0, 1), has_aux=True)(params, x)
        return y, new_state, grads

    evaluate = env.jit(lambda params, state, x: jm.apply(params, state, x, training=False))
    comparisons = []
    for i, x in enumerate(xs):
        key = jax.random.key(i)
        ct = env.randn(*jax.eval_shape(lambda: jm.apply(params, state, env.to_jax(x), training=True, key=key)[0]).shape)
        y, state, (gp, gx) = step(params, state, env.to_jax(x), ct, key)

        tm.train()
        tm.zero_grad()
        xt = env.to_torch(x, requires_grad=True)
        with env.autocast():
            yt = tm(xt)
        (yt * env.to_torch(ct)).sum().backward()
        # clones: float64 .numpy() would share memory with tensors updated in place below
        t_grads = {n: p.grad.clone() for n, p in tm.named_parameters()}
        t_state = {n: b.clone() for n, b in tm.named_buffers()}
        comparisons.append(Comparison(values=to_numpy(((y, flatten(state)), (yt, t_state))),
                                      grads=to_numpy(((flatten(gp), gx), (t_grads, xt.grad)))))
        # torch's optimiser step isn't under test here: move the weights the same way on both sides
        with torch.no_grad():
            for p in tm.parameters():
                p.sub_(0.1 * p.grad)
        params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, gp)
    assert sorted(flatten(state)) == sorted(buffer_names), (sorted(flatten(state)), buffer_names)
    tm.eval()
    with torch.no_grad(), env.autocast():
        yt = tm(env.to_torch(x_eval))
    y, eval_state = evaluate(params, state, env.to_jax(x_eval))
    t_state = {n: b for n, b in tm.named_buffers()}
    comparisons.append(Comparison(values=to_numpy(((y, flatten(eval_state)), (yt, t_state)))))
    return comparisons


@register("nn.Linear", "nn", mixed=True)
def _linear(env):
    tnn = env.torch.nn
    return [_stateless(env, nn.Linear(5, 3), tnn.Linear(5, 3), env.randn(4, 5)),
            _stateless(env, nn.Linear(5, 3, bias=False), tnn.Linear(5, 3, bias=False), env.randn(2, 4, 5)),
            _stateless(env, nn.Linear(5, 3), tnn.Linear(5, 3), env.randn(5))]  # unbatched (in_features,)


@register("nn.Identity/Flatten", "nn")
def _shape_modules(env):
    tnn = env.torch.nn
    x = env.randn(2, 3, 4, 5)
    return [_stateless(env, nn.Identity(), tnn.Identity(), x),
            _stateless(env, nn.Flatten(), tnn.Flatten(), x),
            _stateless(env, nn.Flatten(0, 2), tnn.Flatten(0, 2), x),
            _stateless(env, nn.Flatten(-2, -1), tnn.Flatten(-2, -1), x)]


@register("nn activations", "nn")
def _activations(env):
    tnn = env.torch.nn
    x = env.randn(4, 6, scale=3.0)
    x[0, :4] = (0.0, -0.0, 1e-3, -1e-3)  # kinks
    pairs = [(nn.ReLU(), tnn.ReLU()), (nn.LeakyReLU(), tnn.LeakyReLU()), (nn.LeakyReLU(0.2), tnn.LeakyReLU(0.2)),
             (nn.GELU(), tnn.GELU()), (nn.GELU("tanh"), tnn.GELU("tanh")), (nn.SiLU(), tnn.SiLU()),
             (nn.Sigmoid(), tnn.Sigmoid()), (nn.Tanh(), tnn.Tanh()), (nn.Softmax(dim=1), tnn.Softmax(dim=1)),
             (nn.Softmax(dim=0), tnn.Softmax(dim=0))]
    seq_j, seq_t = nn.Sequential(*[j for j, _ in pairs]), env.torch.nn.Sequential(*[t for _, t in pairs])
    # each activation alone (one compile for all: a tuple of outputs), then all of them chained
    tm = [t.to(device=env.device, dtype=env.torch_dtype) for _, t in pairs]
    alone = compare_function(env, lambda a: tuple(j.apply({}, {}, a)[0] for j, _ in pairs),
                             lambda a: tuple(t(a) for t in tm), [x])
    return [alone, _stateless(env, seq_j, seq_t, x)]


@register("nn.Dropout", "nn")
def _dropout(env):
    tnn = env.torch.nn
    x = env.randn(3, 4)
    # eval: identity for any p; training with p=0: identity; with p=1: zeros (torch's special cases)
    return [_stateless(env, nn.Dropout(0.5), tnn.Dropout(0.5), x),
            _stateless(env, nn.Dropout(0.0), tnn.Dropout(0.0), x, training=True),
            _stateless(env, nn.Dropout(1.0), tnn.Dropout(1.0), x, training=True)]


@register("nn.LayerNorm", "nn", mixed=True)
def _layer_norm(env):
    tnn = env.torch.nn

    def randomized(tm):  # non-trivial affine parameters
        with env.torch.no_grad():
            for p in tm.parameters():
                p.copy_(env.to_torch(env.randn(*p.shape)))
        return tm

    x = env.randn(2, 3, 4)
    return [_stateless(env, nn.LayerNorm(4), randomized(tnn.LayerNorm(4)), x),
            _stateless(env, nn.LayerNorm((3, 4), eps=1e-3), randomized(tnn.LayerNorm((3, 4), eps=1e-3)), x),
            _stateless(env, nn.LayerNorm(4, bias=False), randomized(tnn.LayerNorm(4, bias=False)), x),
            _stateless(env, nn.LayerNorm(4, elementwise_affine=False), tnn.LayerNorm(4, elementwise_affine=False), x)]


@register("nn.Embedding", "nn")
def _embedding(env):
    tnn = env.torch.nn
    idx = env.randint(0, 7, (3, 5))
    idx[0, :3] = (2, 2, 6)  # repeated indices accumulate gradient; 2 is also the padding row below
    return [_stateless(env, nn.Embedding(7, 4), tnn.Embedding(7, 4), idx, int_input=True),
            _stateless(env, nn.Embedding(7, 4, padding_idx=2), tnn.Embedding(7, 4, padding_idx=2), idx,
                       int_input=True)]  # padding row: zero gradient


def _batchnorm_case(shape, **kwargs):
    def case(env):
        c = shape[1]
        xs = [env.randn(*shape, scale=2.0) + 1.0 for _ in range(3)]
        return _training_steps(env, nn.BatchNorm1d(c, **kwargs), env.torch.nn.BatchNorm1d(c, **kwargs), xs,
                               env.randn(*shape))
    return case


for _shape in ((8, 3), (4, 3, 5)):
    for _kw in ({}, {"momentum": None}, {"affine": False}, {"track_running_stats": False},
                {"eps": 1e-3, "momentum": 0.3}, {"bias": False}):
        _label = ",".join(f"{k}={v}" for k, v in _kw.items())
        register(f"nn.BatchNorm1d{list(_shape)}[{_label}]", "nn")(_batchnorm_case(_shape, **_kw))


@register("nn.BatchNorm1d eval", "nn")
def _batchnorm_eval(env):
    tnn = env.torch.nn
    return [_stateless(env, nn.BatchNorm1d(3), tnn.BatchNorm1d(3), env.randn(4, 3), randomize_buffers=True),
            _stateless(env, nn.BatchNorm1d(3), tnn.BatchNorm1d(3), env.randn(2, 3, 5), randomize_buffers=True)]


def _lecture_mlp(nn_):
    """The lecture's MLP: (Linear, BatchNorm1d, ReLU, Dropout) twice, then Linear to 3 classes."""
    return nn_.Sequential(nn_.Linear(5, 8), nn_.BatchNorm1d(8), nn_.ReLU(), nn_.Dropout(0.0),
                          nn_.Linear(8, 8), nn_.BatchNorm1d(8), nn_.ReLU(), nn_.Dropout(0.0), nn_.Linear(8, 3))


@register("nn.Sequential lecture MLP (train steps, eval)", "nn", mixed=True)
def _mlp(env):
    xs = [env.randn(6, 5) for _ in range(3)]
    return _training_steps(env, _lecture_mlp(nn), _lecture_mlp(env.torch.nn), xs, env.randn(4, 5))
