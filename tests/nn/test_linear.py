"""nn.Linear's constructor and input checks: where torch refuses, jaxdl refuses too, naming the argument."""
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import nn


@pytest.mark.parametrize("args,name", [((-1, 3), "in_features"), ((3, -1), "out_features"),
                                       ((2.5, 3), "in_features"), ((3, "4"), "out_features")])
def test_bad_sizes_name_the_argument(args, name):
    with pytest.raises((RuntimeError, TypeError)):  # torch refuses them too (inside torch.empty)
        torch.nn.Linear(*args)
    with pytest.raises(ValueError, match=f"Linear: {name} must be an int ≥ 0; got"):
        nn.Linear(*args)


def test_zero_sizes_are_allowed_as_in_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "Initializing zero-element tensors is a no-op"
        torch.nn.Linear(0, 3)
    params, _ = nn.Linear(0, 3).init(jax.random.key(0))
    assert params["weight"].shape == (3, 0)


@pytest.mark.parametrize("dtype", [np.int32, np.bool_])
def test_integer_input_raises_as_torch(dtype):
    x = np.ones((2, 3), dtype)
    with pytest.raises(RuntimeError, match="must have the same dtype"):
        torch.nn.Linear(3, 2)(torch.from_numpy(x))
    model = nn.Linear(3, 2)
    params, state = model.init(jax.random.key(0))
    with pytest.raises(TypeError, match="linear: input, weight, bias must have the same dtype .*got input "
                                        f"{np.dtype(dtype).name}, weight float32"):
        model.apply(params, state, jnp.asarray(x))
