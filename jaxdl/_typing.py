"""Type aliases shared across jaxdl."""
from typing import Any, Mapping

import jax

Array = jax.Array
Key = jax.Array
Params = Mapping[str, Any]
State = Mapping[str, Any]
Tree = Any
