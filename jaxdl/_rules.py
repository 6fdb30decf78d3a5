"""The value rules that the config schema applies before JAX starts and jaxdl.checks and amp use: written once,
here, without JAX (jaxdl.checks imports JAX; jaxdl.config must not)."""
import numbers

# torch.optim's lr test, ``if not 0.0 <= lr: raise ValueError(f"Invalid learning rate: {lr}")``, in our words
LR_ALLOWED = "a number ≥ 0 (torch.optim refuses only lr < 0)"


def is_valid_lr(lr: float) -> bool:
    """torch.optim's lr rule: 0 and inf pass, a negative lr and NaN do not (torch's SGD alone tests ``lr < 0.0``
    and lets NaN through)."""
    return 0.0 <= lr


def is_int(value) -> bool:
    """A Python or numpy integer, and not a bool: ``True`` is not a size or a count here."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy's bool_ is not Integral


def is_positive_int(value) -> bool:
    """An int (as :func:`is_int`) that is at least 1: a batch size, a number of epochs, heads or groups."""
    return is_int(value) and value >= 1


# Seeds: numpy's default_rng takes any int >= 0 and jax.random.key a signed 64-bit one; a seed goes to both
# (data.seed to numpy, train.seed to jax.random.key), so one range, their intersection
SEED_MAX = 2**63 - 1
SEED_ALLOWED = f"an int in [0, 2**63 - 1] = [0, {SEED_MAX}] (numpy's default_rng needs >= 0, jax.random.key int64)"


def is_valid_seed(seed) -> bool:
    """A seed numpy's ``default_rng`` and ``jax.random.key`` both take: an int in [0, 2**63 - 1]."""
    return is_int(seed) and 0 <= seed <= SEED_MAX


# The training precisions (jaxdl.amp.precision_context's names)
PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")


# The parity judge's tolerances (jaxdl.parity._core.TOLERANCES) and interop.compare's, written once here:
# float64 element by element against torch-float64; float32 by torch's own rounding (jaxdl's error against
# torch-float64 within FLOAT32_ROUNDING["factor"] times torch's float32 error plus "ulps" float32 ulps of the scale).
# ROUNDING_FACTOR: how far jaxdl's difference may exceed torch's own rounding, in float32 and in parity's float64
# probes (a gradient torch computes for its cotangent in two parts)
ROUNDING_FACTOR = 4.0
FLOAT64_TOLERANCE = {"rtol": 1e-10, "atol": 1e-12}
FLOAT32_ROUNDING = {"factor": ROUNDING_FACTOR, "ulps": 4.0}
