"""torch's lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*) and
``materialize``, which turns them into the modules torch's become after their first forward.

torch infers the first constructor argument (in_features, in_channels, num_features) from the first input and
then turns the module into its eager class (``cls_to_become``). A jaxdl spec holds no arrays and never changes,
so the inference is a function: ``nn.materialize(model, example_input)`` returns the same model with every lazy
module replaced by its eager class (shapes from the example, traced with ``jax.eval_shape``: nothing is
computed), and ``init`` then gives the parameters torch's lazy module has after its first forward (its eager
class's, with the eager class's initialisation). A lazy module that is inited or applied before is refused.

Example:
  >>> import jax, jax.numpy as jnp
  >>> from jaxdl import nn
  >>> model = nn.materialize(nn.Sequential(nn.LazyLinear(10), nn.ReLU(), nn.LazyLinear(2)), jnp.ones((4, 64)))
  >>> model[0], model[2]
  (Linear(in_features=64, out_features=10, bias=True), Linear(in_features=10, out_features=2, bias=True))
"""
from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from jaxdl.nn._batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from jaxdl.nn._container import Sequential
from jaxdl.nn._conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from jaxdl.nn._instancenorm import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from jaxdl.nn._linear import Linear
from jaxdl.nn._module import Module, named_children, unchecked


class LazyModule(Module):
    """Base of the lazy modules: the eager class's constructor without its first argument, which
    ``materialize`` infers from an input as torch's ``initialize_parameters`` does."""

    cls_to_become: type = None  # torch's name for the eager class

    @staticmethod
    def inferred(shape: tuple) -> int:
        raise NotImplementedError

    def materialize(self, input_shape) -> Module:
        """The eager module for an input of ``input_shape`` (torch: the module after its first forward)."""
        given = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return self.cls_to_become(self.inferred(tuple(input_shape)), **given)

    def init(self, key, dtype=jnp.float32):
        raise ValueError(f"{type(self).__name__}: its {dataclasses.fields(self.cls_to_become)[0].name} is not known "
                         f"yet; call nn.materialize(model, example_input) first (torch infers it at the first "
                         f"forward)")

    @unchecked
    def apply(self, params, state, input, *, training=False, key=None):
        self.init(None)


def _lazy(eager: type, inferred, doc: str, **defaults) -> type:
    """The lazy class of ``eager``: its dataclass fields but the first (torch's Lazy* signatures), with torch's
    lazy ``defaults`` where they differ from the eager class's, and ``inferred(input_shape)`` for the first."""
    fields = dataclasses.fields(eager)[1:]
    cls = dataclasses.make_dataclass(
        f"Lazy{eager.__name__}",
        [(f.name, f.type, dataclasses.field(default=defaults.get(f.name, f.default))
          if f.default is not dataclasses.MISSING else dataclasses.field()) for f in fields],
        bases=(LazyModule,), frozen=True,
        namespace={"cls_to_become": eager, "inferred": staticmethod(inferred), "__module__": __name__,
                   "__doc__": f"torch.nn.Lazy{eager.__name__}: {eager.__name__} with {doc} (nn.materialize)."})
    return cls


def _last(shape):  # Linear: in_features = input.shape[-1]
    return shape[-1]


def _channels(n):  # Conv: in_channels = input.shape[0] unbatched, else shape[1] (torch's _get_in_channels)
    return lambda shape: shape[0] if len(shape) == n + 1 else shape[1]


def _second(shape):  # the norms: num_features = input.shape[1] (torch's _LazyNormBase, also unbatched)
    return shape[1]


LazyLinear = _lazy(Linear, _last, "in_features = input.shape[-1]")
LazyConv1d, LazyConv2d, LazyConv3d = (
    _lazy(c, _channels(n), "in_channels from the input's channel dimension")
    for n, c in ((1, Conv1d), (2, Conv2d), (3, Conv3d)))
LazyConvTranspose1d, LazyConvTranspose2d, LazyConvTranspose3d = (
    _lazy(c, _channels(n), "in_channels from the input's channel dimension")
    for n, c in ((1, ConvTranspose1d), (2, ConvTranspose2d), (3, ConvTranspose3d)))
LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d = (
    _lazy(c, _second, "num_features = input.shape[1]") for c in (BatchNorm1d, BatchNorm2d, BatchNorm3d))
# torch's LazyInstanceNorm*d default to affine=True, track_running_stats=True (InstanceNorm*d: False, False)
LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d = (
    _lazy(c, _second, "num_features = input.shape[1]; affine and track_running_stats default to True, as torch's "
          "lazy class (InstanceNorm's own default is False)", affine=True, track_running_stats=True)
    for c in (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d))


def _has_lazy(module) -> bool:
    return isinstance(module, LazyModule) or any(_has_lazy(c) for _, c in named_children(module))


def materialize(module: Module, example_input) -> Module:
    """``module`` with every lazy module replaced by its eager class, shapes inferred from ``example_input``
    (an array or a ShapeDtypeStruct of the input ``apply`` will get), as torch's first forward does.

    A lazy module itself, a Sequential (each child sees the previous one's output shape, traced with
    ``jax.eval_shape`` in eval mode) and any module without lazy children are handled; a custom module that holds
    lazy children is refused: materialize those children where their inputs are known.
    """
    if isinstance(module, LazyModule):
        return module.materialize(jnp.shape(example_input))
    if not _has_lazy(module):
        return module
    if not isinstance(module, Sequential):
        raise TypeError(f"materialize: {type(module).__name__} holds lazy modules, but only a lazy module or a "
                        f"Sequential can be materialized from the model's input; materialize its lazy children "
                        f"from their own example inputs")
    x = jax.ShapeDtypeStruct(jnp.shape(example_input), jnp.result_type(example_input))
    dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
    pairs = []
    for name, child in named_children(module):
        child = materialize(child, x)
        pairs.append((name, child))
        x = jax.eval_shape(lambda inp, c=child: c.apply(*c.init(jax.random.key(0), dtype), inp)[0], x)
    return module._replace(pairs)
