"""The lr in the optimizer state, jit/vmap/scan, inject_hyperparams, schedules as hashable values, edges."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import optim
from jaxdl.optim import lr_scheduler as S


def _params():
    return {"layer": {"weight": jnp.ones((2, 3)), "bias": jnp.zeros(3)}, "norm": {"weight": jnp.ones(3)}}


def test_get_lr_is_next_steps_lr_like_torch_param_groups():
    """After init torch shows lr(0); after k optimizer+scheduler steps lr(k) (StepLR 0.1, step 2, γ 0.5)."""
    tx = optim.sgd(lr=S.StepLR(0.1, step_size=2, gamma=0.5))
    params = _params()
    state = tx.init(params)
    seen = [float(optim.get_lr(state))]
    step = jax.jit(lambda s: tx.update(jax.tree.map(jnp.ones_like, params), s, params)[1])
    for _ in range(4):
        state = step(state)
        seen.append(float(optim.get_lr(state)))
    np.testing.assert_allclose(seen, [0.1, 0.1, 0.05, 0.05, 0.025], rtol=1e-6)


@pytest.mark.parametrize("lr", [0.1, np.float32(0.1), np.logspace(-1, 0, 2)[0], jnp.asarray(0.1)],
                         ids=["float", "np.float32", "np.float64", "jax array"])
def test_set_lr_changes_the_step_and_persists_for_constant_lr(lr):
    # Whatever type the lr is given as, the state holds it: before, an array lr was used as given and
    # ignored set_lr (update -0.1), and so did np.float32 before that.
    tx = optim.sgd(lr=lr)
    params = {"w": jnp.zeros(2)}
    state = optim.set_lr(tx.init(params), 0.5)
    updates, state = tx.update({"w": jnp.ones(2)}, state)
    np.testing.assert_allclose(updates["w"], [-0.5, -0.5])
    assert float(optim.get_lr(state)) == 0.5
    with pytest.raises(ValueError, match=r"one lr per group \(1,\), got shape \(3,\)"):
        optim.set_lr(state, jnp.ones(3))


def test_get_lr_errors_and_groups():
    with pytest.raises(ValueError, match="no learning rate in this optimizer state"):
        optim.get_lr(optax.sgd(0.1).init({"w": jnp.zeros(1)}))
    params = _params()
    tx = optim.param_groups({"decay": optim.adamw(lr=1e-3), "no_decay": optim.adamw(lr=5e-4, weight_decay=0.0)},
                            optim.decay_labels(params))
    state = tx.init(params)
    np.testing.assert_allclose(optim.get_lrs(state), [1e-3, 5e-4], rtol=1e-6)
    with pytest.raises(ValueError, match="group 2 out of range: this state has 2"):
        optim.get_lr(state, 2)


def test_weight_decay_mask_decays_only_matrices_named_weight():
    mask = optim.weight_decay_mask(_params())
    assert mask == {"layer": {"weight": True, "bias": False}, "norm": {"weight": False}}


def test_vmap_sweep_over_learning_rates_matches_separate_runs():
    """The sweep recipe of the module docstring: build the optimizer inside vmap with a traced lr."""
    params = {"w": jnp.array([1.0, -2.0])}

    def train(lr):
        tx = optim.adam(lr=lr, weight_decay=0.1)

        def body(carry, _):
            p, s = carry
            u, s = tx.update(jax.grad(lambda q: jnp.sum(q["w"] ** 2))(p), s, p)
            return (optax.apply_updates(p, u), s), None

        (p, s), _ = jax.lax.scan(body, (params, tx.init(params)), None, length=5)
        return p["w"], optim.get_lr(s)

    lrs = jnp.array([0.01, 0.1, 0.3])
    swept, swept_lr = jax.jit(jax.vmap(train))(lrs)
    single = jnp.stack([jax.jit(train)(lr)[0] for lr in lrs])
    np.testing.assert_allclose(swept, single, rtol=1e-6)
    np.testing.assert_allclose(swept_lr, lrs)
    assert not np.allclose(swept[0], swept[1])

    # The other recipe: one optimizer, the lr set per sweep member in its state.
    tx = optim.adam(lr=1e-3, weight_decay=0.1)
    states = jax.vmap(lambda lr: optim.set_lr(tx.init(params), lr))(lrs)

    def steps(state):
        p = params
        for _ in range(5):
            u, state = tx.update(jax.grad(lambda q: jnp.sum(q["w"] ** 2))(p), state, p)
            p = optax.apply_updates(p, u)
        return p["w"]

    np.testing.assert_allclose(jax.jit(jax.vmap(steps))(states), single, rtol=1e-6)


def test_inject_hyperparams_around_a_jaxdl_optimizer_injects_all_but_the_lr():
    """The state's lr is the lr: inject_hyperparams' lr is the init value only; set_lr changes it; other
    hyperparameters are injected; static_args="lr" hands a schedule to jaxdl's own state."""
    params = {"w": jnp.array([1.0, 2.0])}
    g = {"w": jnp.array([0.5, -1.0])}
    # torch RMSprop, first step: buf = g / (sqrt((1-α)g²) + eps) = 10·sign(g) (α = 0.99), update = -lr·buf
    tx = optax.inject_hyperparams(optim.rmsprop)(lr=0.1, momentum=0.9)
    state = tx.init(params)
    state.hyperparams["lr"] = jnp.asarray(0.05)  # not followed: the inner LrState holds 0.1
    updates, after = jax.jit(tx.update)(g, state, params)
    np.testing.assert_allclose(updates["w"], [-1.0, 1.0], rtol=1e-5)
    assert float(optim.get_lr(state)) == pytest.approx(0.1) and float(optim.lr_used(state, after)) == pytest.approx(0.1)
    updates, after = jax.jit(tx.update)(g, optim.set_lr(state, 0.05), params)
    np.testing.assert_allclose(updates["w"], [-0.5, 0.5], rtol=1e-5)
    assert float(optim.get_lr(after)) == pytest.approx(0.05)
    # momentum is still injected: second step buf = μ·10·sign(g) + g/avg₂, avg₂ = sqrt(0.99·0.01g² + 0.01g²)
    second = {}
    for mu in (0.9, 0.0):
        s = optim.set_lr(state, 0.05)
        s.hyperparams["momentum"] = jnp.asarray(mu)
        _, s = tx.update(g, s, params)
        second[mu] = tx.update(g, s, params)[0]["w"]
    avg2 = np.sqrt(0.99 * 0.01 + 0.01) * np.abs([0.5, -1.0])
    for mu in (0.9, 0.0):
        np.testing.assert_allclose(second[mu], -0.05 * (mu * 10 + np.abs([0.5, -1.0]) / avg2) * np.sign([0.5, -1.0]),
                                   rtol=1e-5)
    # static_args="lr": the schedule goes to jaxdl's optimizer, whose state reports the next lr as torch
    tx = optax.inject_hyperparams(optim.sgd, static_args="lr")(lr=S.StepLR(0.1, step_size=1, gamma=0.5), momentum=0.0)
    state = tx.init(params)
    seen = []
    for _ in range(3):
        updates, state = tx.update(g, state, params)
        seen.append(float(updates["w"][0]))
    np.testing.assert_allclose(seen, [-0.05, -0.025, -0.0125], rtol=1e-6)
    assert float(optim.get_lr(state)) == pytest.approx(0.0125)


def test_get_lr_reads_optax_inject_hyperparams_state():
    # optax >= 0.2.3 gives an InjectStatefulHyperparamsState, which get_lr once did not recognise
    state = optax.inject_hyperparams(optax.sgd)(learning_rate=0.25).init({"w": jnp.zeros(2)})
    assert float(optim.get_lr(state)) == 0.25
    assert [float(lr) for lr in optim.get_lrs(state)] == [0.25]
    # set_lr writes its hyperparams['learning_rate'], which optax.sgd uses: update -0.5·g
    updates, state = optax.inject_hyperparams(optax.sgd)(learning_rate=0.25).update(
        {"w": jnp.ones(2)}, optim.set_lr(state, 0.5))
    np.testing.assert_allclose(updates["w"], [-0.5, -0.5])
    with pytest.raises(ValueError, match="no learning rate in this optimizer state"):
        optim.set_lr(optax.sgd(0.1).init({"w": jnp.zeros(2)}), 0.5)  # was a silent no-op


def test_lr_dtype_follows_x64(x64):
    state = optim.adam(lr=S.CosineAnnealingLR(0.1, T_max=10)).init({"w": jnp.zeros(2)})
    assert optim.get_lr(state).dtype == jnp.float64


def test_schedules_are_hashable_static_args():
    a, b = S.MultiStepLR(0.1, [3, 1]), S.MultiStepLR(0.1, (1, 3))
    assert a == b and hash(a) == hash(b) and a.milestones == (1, 3)
    f = jax.jit(lambda s, c: s(c), static_argnums=0)
    np.testing.assert_allclose(f(a, jnp.arange(5)), [0.1, 0.01, 0.01, 0.001, 0.001], rtol=1e-6)


def test_one_cycle_holds_its_last_value_past_total_steps():
    """torch raises past total_steps (a traced count cannot); jaxdl keeps the value at total_steps."""
    s = S.OneCycleLR(1.0, total_steps=20)
    np.testing.assert_allclose(s(jnp.array([20, 25, 1000])), s(20) * np.ones(3), rtol=1e-5)
    np.testing.assert_allclose(s(0), 1.0 / 25, rtol=1e-6)
    assert int(jnp.argmax(s(jnp.arange(20)))) == 5  # peak at pct_start·T - 1, not int(pct_start·T)
    with pytest.raises(ValueError, match="cycle_momentum=True"):
        S.OneCycleLR(1.0, total_steps=20, cycle_momentum=False).momentum(3)


def test_plateau_is_pure_under_scan_and_rejects_vector_metric():
    plateau = optim.ReduceLROnPlateau(patience=1, cooldown=2, factor=0.5, min_lr=0.03)

    def body(s, metric):
        s = plateau.step(s, metric)
        return s, s.lr

    metrics = jnp.array([1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    _, lrs = jax.lax.scan(body, plateau.init(0.1), metrics)
    # bad steps at 2,3 -> reduce (0.05) at index 3; cooldown 2 then two bad steps -> 0.03 (min_lr) at index 7
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.03, 0.03], rtol=1e-6)
    with pytest.raises(ValueError, match=r"expects a scalar metric, got shape \(2,\)"):
        plateau.step(plateau.init(0.1), jnp.ones(2))


def test_clip_grad_norm_state_and_inf_norm():
    tx = optim.clip_grad_norm(2.0, norm_type=float("inf"))
    g = {"a": jnp.array([1.0, -4.0]), "b": jnp.array([3.0])}
    clipped, state = tx.update(g, tx.init(g))
    assert float(state.total_norm) == 4.0
    np.testing.assert_allclose(clipped["a"], np.array([1.0, -4.0]) * 2.0 / (4.0 + 1e-6), rtol=1e-6)
    np.testing.assert_allclose(optim.get_total_norm({}), 0.0)


def test_amsgrad_beta1_can_be_traced_under_vmap():
    # torch's beta1 is a group hyperparameter, swept like the lr. Before the fix, amsgrad's bias
    # correction compared the traced β1 to 0.0 in Python (TracerBoolConversionError).
    params, g = jnp.ones(3), jnp.arange(3.0)

    def run(b1):
        tx = optim.adam(lr=0.1, betas=(b1, 0.99), amsgrad=True)
        s = tx.init(params)
        for _ in range(3):
            u, s = tx.update(g, s, params)
        return u

    swept = jax.jit(jax.vmap(run))(jnp.array([0.5, 0.9]))
    for i, b1 in enumerate((0.5, 0.9)):
        np.testing.assert_allclose(swept[i], run(b1), rtol=1e-6)


def test_plateau_with_one_min_lr_per_group_and_schedules_under_jit_vmap():
    plateau = optim.ReduceLROnPlateau(patience=0, factor=0.5, min_lr=(0.4, 0.3))
    s = plateau.init(jnp.array([1.0, 0.5]))
    for metric in (1.0, 1.0, 1.0, 1.0):
        s = jax.jit(plateau.step)(s, metric)
    np.testing.assert_allclose(s.lr, [0.4, 0.3])  # each group floored at its own min_lr (torch's list)
    cyc = S.CyclicLR(0.01, 0.1, step_size_up=3)
    np.testing.assert_allclose(jax.vmap(cyc)(jnp.arange(7)), cyc(jnp.arange(7)), rtol=1e-6)
    mult = S.MultiplicativeLR(0.1, lambda k: 0.9, steps_per_epoch=2)
    np.testing.assert_allclose(jax.jit(mult)(jnp.array([0, 1, 2, 5])), 0.1 * 0.9 ** np.array([0, 0, 1, 2]), rtol=1e-6)
