"""Parity cases for the loss modules (``criterion = nn.CrossEntropyLoss(...)``; ``criterion(input, target)``)
against torch's own modules built with the same constructor arguments: values and input gradients.
"""
import numpy as np

from jaxdl import nn
from jaxdl.parity._core import compare_function, register


def _probs(env, *shape):
    e = np.exp(env.randn(*shape))
    return (e / e.sum(axis=-1, keepdims=True)).astype(env.np_dtype)


@register("nn loss modules", "nn")
def _loss_modules(env):
    tnn = env.torch.nn
    w3, w4 = env.uniform(3, low=0.5, high=2.0), env.uniform(4, low=0.5, high=2.0)
    x, y = env.randn(5, 3), env.randint(0, 3, (5,))
    p, t = _probs(env, 5, 3), _probs(env, 5, 3)
    a, b, s = env.randn(5, 4), env.randn(5, 4), np.where(env.rng.random(5) < 0.5, -1.0, 1.0).astype(env.np_dtype)

    def tw(v):
        return env.to_torch(v)

    # (jaxdl criterion, torch criterion, inputs, differentiated inputs)
    cases = [
        (nn.CrossEntropyLoss(), tnn.CrossEntropyLoss(), [x, y], (0,)),
        (nn.CrossEntropyLoss(weight=w3, label_smoothing=0.2, reduction="sum"),
         tnn.CrossEntropyLoss(weight=tw(w3), label_smoothing=0.2, reduction="sum"), [x, y], (0,)),
        (nn.CrossEntropyLoss(ignore_index=1), tnn.CrossEntropyLoss(ignore_index=1), [x, y], (0,)),
        (nn.NLLLoss(weight=w3), tnn.NLLLoss(weight=tw(w3)), [np.log(p), y], (0,)),
        (nn.BCELoss(), tnn.BCELoss(), [p, t], (0, 1)),
        (nn.BCELoss(weight=w3, reduction="none"), tnn.BCELoss(weight=tw(w3), reduction="none"), [p, t], (0,)),
        (nn.BCEWithLogitsLoss(pos_weight=w3), tnn.BCEWithLogitsLoss(pos_weight=tw(w3)), [x, t], (0, 1)),
        (nn.MSELoss(), tnn.MSELoss(), [a, b], (0, 1)),
        (nn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum"), [a, b], (0, 1)),
        (nn.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5), [a, b], (0, 1)),
        (nn.HuberLoss(delta=0.7), tnn.HuberLoss(delta=0.7), [a, b], (0, 1)),
        (nn.KLDivLoss(reduction="batchmean"), tnn.KLDivLoss(reduction="batchmean"), [np.log(p), t], (0, 1)),
        (nn.HingeEmbeddingLoss(margin=0.5), tnn.HingeEmbeddingLoss(margin=0.5), [a[:, 0], s], (0,)),
        (nn.MultiMarginLoss(p=2, margin=0.8, weight=w4), tnn.MultiMarginLoss(p=2, margin=0.8, weight=tw(w4)),
         [a, y], (0,)),
        (nn.MarginRankingLoss(margin=0.2), tnn.MarginRankingLoss(margin=0.2), [a[:, 0], b[:, 0], s], (0, 1)),
        (nn.CosineEmbeddingLoss(margin=0.1), tnn.CosineEmbeddingLoss(margin=0.1), [a, b, s], (0, 1)),
        (nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True), tnn.TripletMarginLoss(margin=2.0, p=1.0, swap=True),
         [a, b, a[::-1].copy()], (0, 1, 2)),
        (nn.PoissonNLLLoss(full=True), tnn.PoissonNLLLoss(full=True), [a[:, :3], 3 * t], (0,)),
        (nn.GaussianNLLLoss(full=True), tnn.GaussianNLLLoss(full=True), [a, b, t[:, :1] + 0.1], (0, 1, 2)),
    ]
    return [compare_function(env, mine, theirs.to(device=env.device, dtype=env.torch_dtype), args, diff)
            for mine, theirs, args, diff in cases]
