"""Parity cases for the loss modules (``criterion = nn.CrossEntropyLoss(...)``; ``criterion(input, target)``)
against torch's own modules built with the same constructor arguments: values and input gradients.
"""
import numpy as np

from jaxdl import nn
from jaxdl.parity._core import compare_function, register


def _probs(env, *shape):
    e = np.exp(env.randn(*shape))
    return (e / e.sum(axis=-1, keepdims=True)).astype(env.np_dtype)


@register("nn loss modules", "nn", mixed=True)
def _loss_modules(env):
    tnn = env.torch.nn
    w3, w4 = env.uniform(3, low=0.5, high=2.0), env.uniform(4, low=0.5, high=2.0)
    x, y = env.randn(5, 3), env.randint(0, 3, (5,))
    p, t = _probs(env, 5, 3), _probs(env, 5, 3)
    a, b, s = env.randn(5, 4), env.randn(5, 4), np.where(env.rng.random(5) < 0.5, -1.0, 1.0).astype(env.np_dtype)

    def tw(v):
        return env.to_torch(v)

    inputs = {"x": x, "y": y, "p": p, "logp": np.log(p), "t": t, "t3": 3 * t, "a": a, "b": b, "a3": a[:, :3],
              "ar": a[::-1].copy(), "a0": a[:, 0], "b0": b[:, 0], "s": s, "var": t[:, :1] + 0.1}
    # (jaxdl criterion, torch criterion, names of its inputs)
    cases = [
        (nn.CrossEntropyLoss(), tnn.CrossEntropyLoss(), "x y"),
        (nn.CrossEntropyLoss(weight=w3, label_smoothing=0.2, reduction="sum"),
         tnn.CrossEntropyLoss(weight=tw(w3), label_smoothing=0.2, reduction="sum"), "x y"),
        (nn.CrossEntropyLoss(ignore_index=1), tnn.CrossEntropyLoss(ignore_index=1), "x y"),
        (nn.NLLLoss(weight=w3), tnn.NLLLoss(weight=tw(w3)), "logp y"),
        (nn.BCELoss(), tnn.BCELoss(), "p t"),
        (nn.BCELoss(weight=w3, reduction="none"), tnn.BCELoss(weight=tw(w3), reduction="none"), "p t"),
        (nn.BCEWithLogitsLoss(pos_weight=w3), tnn.BCEWithLogitsLoss(pos_weight=tw(w3)), "x t"),
        (nn.MSELoss(), tnn.MSELoss(), "a b"),
        (nn.L1Loss(reduction="sum"), tnn.L1Loss(reduction="sum"), "a b"),
        (nn.SmoothL1Loss(beta=0.5), tnn.SmoothL1Loss(beta=0.5), "a b"),
        (nn.HuberLoss(delta=0.7), tnn.HuberLoss(delta=0.7), "a b"),
        (nn.KLDivLoss(reduction="batchmean"), tnn.KLDivLoss(reduction="batchmean"), "logp t"),
        (nn.HingeEmbeddingLoss(margin=0.5), tnn.HingeEmbeddingLoss(margin=0.5), "a0 s"),
        (nn.MultiMarginLoss(p=2, margin=0.8, weight=w4), tnn.MultiMarginLoss(p=2, margin=0.8, weight=tw(w4)), "a y"),
        (nn.MarginRankingLoss(margin=0.2), tnn.MarginRankingLoss(margin=0.2), "a0 b0 s"),
        (nn.CosineEmbeddingLoss(margin=0.1), tnn.CosineEmbeddingLoss(margin=0.1), "a b s"),
        (nn.TripletMarginLoss(margin=2.0, p=1.0, swap=True), tnn.TripletMarginLoss(margin=2.0, p=1.0, swap=True),
         "a b ar"),
        (nn.PoissonNLLLoss(full=True), tnn.PoissonNLLLoss(full=True), "a3 t3"),
        (nn.GaussianNLLLoss(full=True), tnn.GaussianNLLLoss(full=True), "a b var"),
    ]
    names = list(inputs)
    torch_cases = [(theirs.to(device=env.device, dtype=env.torch_dtype), keys) for _, theirs, keys in cases]

    def run(crits, *arrays):  # every criterion on its inputs, one tuple (one compile for all)
        by_name = dict(zip(names, arrays))
        return tuple(c(*(by_name[k] for k in keys.split())) for c, keys in crits)

    diff = tuple(i for i, k in enumerate(names) if k != "y")  # gradients w.r.t. every float input
    return compare_function(env, lambda *v: run([(m, k) for m, _, k in cases], *v), lambda *v: run(torch_cases, *v),
                            [inputs[k] for k in names], diff)
