"""Invalid hyperparameters raise at build time with torch.optim's wording (checked in Python, no compiles)."""
import math

import pytest

from jaxdl import optim
from jaxdl.optim import lr_scheduler as S

CASES = [
    (lambda: optim.sgd(lr=-1.0), "lr = -1.0 is not allowed: expected a number ≥ 0 (torch.optim refuses only lr < 0)"),
    (lambda: optim.sgd(momentum=-0.1), "Invalid momentum value: -0.1"),
    (lambda: optim.sgd(weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda: optim.sgd(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.sgd(momentum=0.9, dampening=0.1, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.adam(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda: optim.adam(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda: optim.adam(betas=(0.9,)), "betas must be a pair"),
    (lambda: optim.adamw(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (lambda: optim.adamw(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
    (lambda: optim.rmsprop(alpha=-0.5), "Invalid alpha value: -0.5"),
    (lambda: optim.rmsprop(momentum=-1.0), "Invalid momentum value: -1.0"),
    (lambda: optim.adagrad(lr_decay=-1.0), "Invalid lr_decay value: -1.0"),
    (lambda: optim.adagrad(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    (lambda: optim.adadelta(rho=1.5), "Invalid rho value: 1.5"),
    (lambda: optim.adadelta(lr=-2.0), "lr = -2.0 is not allowed: expected a number ≥ 0"),
    (lambda: optim.clip_grad_norm(-1.0), "Invalid max_norm value: -1.0"),
    (lambda: optim.clip_grad_norm(1.0, norm_type=-2), "norm_type must be a number >= 0"),
    (lambda: optim.accumulate_gradients(optim.sgd(), 0), "every_k must be an int ≥ 1; got 0"),
    (lambda: optim.accumulate_gradients(optim.sgd(), 2, reduction="max"), "reduction must be 'sum' or 'mean'"),
    (lambda: optim.ReduceLROnPlateau(factor=1.0), "Factor should be < 1.0."),
    (lambda: optim.ReduceLROnPlateau(mode="best"), "mode best is unknown!"),
    (lambda: optim.ReduceLROnPlateau(threshold_mode="pct"), "threshold mode pct is unknown!"),
    (lambda: optim.ReduceLROnPlateau(patience=-1), "Expected non-negative integer patience"),
    (lambda: S.StepLR(-0.1, 3), "lr = -0.1 is not allowed: expected a number ≥ 0"),
    (lambda: S.StepLR(0.1, 0), "step_size must be an int ≥ 1; got 0"),
    (lambda: S.ExponentialLR(0.1, 0.9, steps_per_epoch=0), "steps_per_epoch must be an int ≥ 1; got 0"),
    (lambda: S.CosineAnnealingLR(0.1, T_max=0), "T_max must be an int ≥ 1; got 0"),
    (lambda: S.LinearLR(0.1, start_factor=0.0),
     "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."),
    (lambda: S.LinearLR(0.1, end_factor=1.5), "Ending multiplicative factor expected to be between 0 and 1."),
    (lambda: S.OneCycleLR(1.0), "You must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda: S.OneCycleLR(1.0, total_steps=0), "total_steps must be an int ≥ 1; got 0"),
    (lambda: S.OneCycleLR(1.0, 100, pct_start=1), "Expected float between 0 and 1 pct_start, but got 1"),
    (lambda: S.OneCycleLR(1.0, 100, anneal_strategy="exp"), "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda: S.OneCycleLR(1.0, 10, pct_start=0.1), "has zero length"),
    (lambda: S.SequentialLR([], []), "SequentialLR expects at least one scheduler, but got no scheduler."),
    (lambda: S.SequentialLR([S.StepLR(0.1, 2), S.StepLR(0.1, 3)], [2, 4]),
     "expects number of schedulers provided to be one more than the number of milestone points"),
    (lambda: S.ConstantLR(0.1, factor=1.5), "Constant multiplicative factor expected to be between 0 and 1."),
    (lambda: S.ConstantLR(0.1, total_iters=-1), "Expected non-negative integer total_iters, but got -1"),
    (lambda: S.PolynomialLR(0.1, total_iters=0), "total_iters must be an int ≥ 1; got 0"),
    (lambda: S.CosineAnnealingWarmRestarts(0.1, T_0=0), "T_0 must be an int ≥ 1; got 0"),
    (lambda: S.CosineAnnealingWarmRestarts(0.1, T_0=5, T_mult=1.5), "T_mult must be an int ≥ 1; got 1.5 (float)"),
    (lambda: S.CosineAnnealingWarmRestarts(0.1, T_0=5, eta_min="0"), "Expected float or int eta_min, but got 0"),
    (lambda: S.LambdaLR(-1.0, lambda t: 1.0), "lr = -1.0 is not allowed"),
    (lambda: optim.ReduceLROnPlateau(min_lr=[0.1, -0.2]), "Invalid min_lr value: -0.2"),
    (lambda: optim.ReduceLROnPlateau(min_lr=[0.4, 0.3]).init(0.1), "expected 1 min_lrs, got 2"),
    (lambda: S.CyclicLR(0.01, 0.1, mode="cosine"), "mode is invalid and scale_fn is None"),
    (lambda: S.CyclicLR(-0.01, 0.1), "base_lr = -0.01 is not allowed: expected a number ≥ 0"),
    (lambda: S.CyclicLR(0.01, 0.1, step_size_up=4, cycle_momentum=False).momentum(3), "needs cycle_momentum=True"),
    (lambda: S.ChainedScheduler([]), "expects at least one scheduler to be chained"),
    (lambda: S.ChainedScheduler([S.StepLR(0.1, 2), S.ExponentialLR(0.2, 0.9)]), "share one base lr"),
]


@pytest.mark.parametrize("build,message", CASES, ids=[m[:40] for _, m in CASES])
def test_invalid_hyperparameters_raise_value_error(build, message):
    with pytest.raises(ValueError) as info:
        build()
    assert message in str(info.value)


def test_wrong_types_raise_type_error():
    with pytest.raises(TypeError, match="expected a number, got str"):
        optim.adam(lr="0.1")
    with pytest.raises(TypeError, match="must be a schedule"):
        S.SequentialLR([S.StepLR(0.1, 2), 0.5], [3])
    with pytest.raises(TypeError, match="lr_lambda must be a function of the epoch, got 0.5"):
        S.LambdaLR(0.1, 0.5)
    with pytest.raises(TypeError, match="non-empty dict"):
        optim.param_groups({}, {"w": "a"})
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda must be a function of the epoch, got 0.5"):
        S.MultiplicativeLR(0.1, 0.5)
    with pytest.raises(TypeError, match="scheduler 1 \\(CosineAnnealingLR\\) is not multiplicative"):
        S.ChainedScheduler([S.StepLR(0.1, 2), S.CosineAnnealingLR(0.1, 10)])


def test_unknown_group_label_names_labels():
    with pytest.raises(ValueError, match=r"labels \['bias'\] have no transform; transforms are given for \['w'\]"):
        optim.param_groups({"w": optim.sgd()}, {"a": "w", "b": "bias"})


def test_valid_edge_values_are_accepted():
    optim.sgd(lr=0.0, momentum=0.9, nesterov=True)
    optim.adam(betas=(0.0, 0.0), eps=0.0)
    optim.adadelta(rho=1.0)
    optim.clip_grad_norm(0.0, norm_type=math.inf)
    S.LinearLR(0.1, start_factor=1.0, end_factor=0.0)
