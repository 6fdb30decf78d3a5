"""optim.swa_utils: torch's error inputs refused (the averages and SWALR are parity cases, jaxdl/parity/_cases_swa)."""
import jax
import jax.numpy as jnp
import pytest

from jaxdl.optim import swa_utils


@pytest.mark.parametrize("make,message", [
    (lambda: swa_utils.get_ema_multi_avg_fn(1.5), "Invalid decay value 1.5"),
    (lambda: swa_utils.get_ema_avg_fn(-0.1), "Invalid decay value -0.1"),
    (lambda: swa_utils.SWALR(0.1, 0.05, anneal_strategy="exp"), "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda: swa_utils.SWALR(0.1, 0.05, anneal_epochs=-1), "anneal_epochs must be equal or greater than 0"),
    (lambda: swa_utils.SWALR(0.1, -0.05), "swa_lr = -0.05 is not allowed"),
    (lambda: swa_utils.update_parameters(swa_utils.averaged_model({}), {}, avg_fn=swa_utils.get_swa_avg_fn(),
                                         multi_avg_fn=swa_utils.get_swa_multi_avg_fn()), "Only one of avg_fn"),
])
def test_error_inputs_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_ema_under_jit_copies_first_then_averages():
    avg = swa_utils.averaged_model({"w": jnp.zeros(2)}, {"n": jnp.zeros([], jnp.int32)})
    update = jax.jit(lambda a, w: swa_utils.update_parameters(
        a, {"w": w}, {"n": jnp.asarray(7, jnp.int32)}, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.5)))
    avg = update(avg, jnp.full(2, 4.0))
    avg = update(avg, jnp.full(2, 2.0))
    assert avg.params["w"].tolist() == [3.0, 3.0] and int(avg.n_averaged) == 2 and int(avg.buffers["n"]) == 7
