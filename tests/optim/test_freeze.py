"""optim.freeze: frozen parameters get no update, no decay and no optimizer state, as torch's requires_grad_(False)."""
from collections import OrderedDict

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import torch

from jaxdl import interop, nn, optim
from tests.helpers import assert_close


def _model(nn_):
    return nn_.Sequential(OrderedDict([("first", nn_.Linear(3, 6)), ("act", nn_.Tanh()), ("second", nn_.Linear(6, 4)),
                                       ("third", nn_.Linear(4, 2))]))


def _elements(tree):
    return sum(np.size(x) for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("make", [lambda: optim.adamw(1e-2, weight_decay=0.1, amsgrad=True),
                                  lambda: optim.sgd(0.1, momentum=0.9, weight_decay=0.1)])
def test_frozen_leaves_hold_no_optimizer_state(make, key):
    params, _ = _model(nn).init(key)
    frozen = optim.freeze(make(), params, ["first", "second.weight"])
    trainable = {"second": {"bias": params["second"]["bias"]}, "third": params["third"]}
    state = frozen.init(params)
    assert _elements(state) == _elements(make().init(trainable))  # only the trainable leaves' buffers
    assert _elements(state) < _elements(make().init(params))
    grads = jax.tree.map(jnp.ones_like, params)
    _, state = jax.jit(frozen.update)(grads, state, params)
    assert _elements(state) == _elements(make().init(trainable))  # and it does not grow with updates


def test_frozen_leaves_never_change_even_with_weight_decay(key):
    params, _ = _model(nn).init(key)
    tx = optim.freeze(optim.adamw(0.1, weight_decay=0.5), params, ["first"])
    state = tx.init(params)
    new = params
    for _ in range(3):
        upd, state = tx.update(jax.tree.map(jnp.ones_like, new), state, new)
        new = optax.apply_updates(new, upd)
    np.testing.assert_array_equal(new["first"]["weight"], params["first"]["weight"])
    np.testing.assert_array_equal(new["first"]["bias"], params["first"]["bias"])
    assert not np.allclose(new["third"]["weight"], params["third"]["weight"])
    assert float(optim.get_lr(state)) == pytest.approx(0.1)  # one param group, as torch's


@pytest.mark.parametrize("frozen,make_jax,make_torch", [
    (["first", "second.weight"], lambda: optim.sgd(0.1, momentum=0.9, weight_decay=0.1),
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1)),
    (["third.bias", "second"], lambda: optim.adamw(0.05, weight_decay=0.2),
     lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.2))])
def test_fine_tune_equals_torch(frozen, make_jax, make_torch):
    torch.manual_seed(0)
    tm = _model(torch.nn)
    for name, p in tm.named_parameters():
        if any(name == f or name.startswith(f + ".") for f in frozen):
            p.requires_grad_(False)
    opt = make_torch(tm.parameters())  # torch's habit: every parameter given, the frozen ones have no grad
    jm = _model(nn)
    params, state = interop.load_state_dict(jm, tm.state_dict())
    tx = optim.freeze(make_jax(), params, frozen)
    opt_state = tx.init(params)
    rng = np.random.default_rng(0)

    @jax.jit
    def step(params, opt_state, x, y):
        grads = jax.grad(lambda p: jnp.mean((jm.apply(p, state, x)[0] - y) ** 2))(params)
        upd, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, upd), opt_state

    for _ in range(5):
        x, y = rng.standard_normal((8, 3)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)
        params, opt_state = step(params, opt_state, x, y)
        opt.zero_grad()
        ((tm(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
        opt.step()
        assert_close(interop.flatten(params), {k: v for k, v in tm.state_dict().items()})


def test_names_are_checked(key):
    params, _ = _model(nn).init(key)
    with pytest.raises(ValueError, match=r"\['fir', 'third.weights'\] match no parameter.*first.weight"):
        optim.freeze(optim.sgd(0.1), params, ["first", "fir", "third.weights"])  # whole components only
    with pytest.raises(TypeError, match=r"write \['first'\]"):
        optim.frozen_mask(params, "first")
    mask = optim.frozen_mask(params, ["second", "first.bias"])
    assert interop.flatten(mask) == {"first.weight": False, "first.bias": True, "second.weight": True,
                                     "second.bias": True, "third.weight": False, "third.bias": False}


def test_composes_with_param_groups_and_clipping(key):
    params, _ = _model(nn).init(key)
    groups = optim.param_groups({"decay": optim.sgd(1e-2, momentum=0.9, weight_decay=0.1),
                                 "no_decay": optim.sgd(3e-3)}, optim.decay_labels(params))
    tx = optim.freeze(optax.chain(optim.clip_grad_norm(1.0), groups), params, ["first"])
    grads = jax.tree.map(jnp.ones_like, params)
    grads["first"]["weight"] = grads["first"]["weight"] * 1e6  # frozen: must not enter the clipping norm
    upd, state = tx.update(grads, tx.init(params), params)
    assert float(jnp.abs(upd["first"]["weight"]).max()) == 0.0
    assert [float(lr) for lr in optim.get_lrs(state)] == pytest.approx([1e-2, 3e-3])
    rest = {k: v for k, v in params.items() if k != "first"}  # the same optimizer on the trainable leaves alone
    ref_tx = optax.chain(optim.clip_grad_norm(1.0), optim.param_groups(
        {"decay": optim.sgd(1e-2, momentum=0.9, weight_decay=0.1), "no_decay": optim.sgd(3e-3)},
        optim.decay_labels(rest)))
    ref, _ = ref_tx.update({k: grads[k] for k in rest}, ref_tx.init(rest), rest)
    assert_close({k: upd[k] for k in rest}, ref)
