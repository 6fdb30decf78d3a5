"""The training precisions (jaxdl.amp.precision_context), here without JAX so the config schema checks them
before JAX starts."""
PRECISIONS = ("fp32", "bf16-mixed")
