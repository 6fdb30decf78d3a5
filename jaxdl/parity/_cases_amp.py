"""bf16-mixed parity: the cases below also run with float32 inputs and weights and both sides under autocast
(torch.autocast(device, torch.bfloat16) around torch's forward, jaxdl.amp.autocast with the same device's op
lists around jaxdl's): lower-precision ops, float32 ops, norms after bfloat16 layers, the GPT, and training.

On CPU linear and the convolutions agree bit for bit, the lecture MLP's training steps and fit to float32
rounding (jaxdl compiles with amp.EXACT_ROUNDING: every bfloat16 rounding lands where torch's does); attention
is within one bfloat16 ulp (torch's flash kernel sums in another order); the GPT, whose two layers chain
several such ulps, gets rtol 2e-2 (atol 5e-2, below). The cases left out gain nothing from it (elementwise ops
on float32 inputs run unchanged) or amplify one-ulp differences chaotically (three SGD steps on sum(y·ct)
through a shared BatchNorm).
"""
import dataclasses

from jaxdl.parity._core import CASES, MIXED

# a logit is a sum of 16 products of size ~1: one bfloat16 ulp in the head's input moves a logit near 0 by ~2e-2
_GPT = {"rtol": 2e-2, "atol": 5e-2}

MIXED_CASES = {
    # lower-precision ops (bfloat16 products summed in float32) and the modules around them
    "F.linear": None, "nn.Linear": None, "F.prelu": None, "nn.PReLU": None,
    "F.conv2d": None, "F.conv2d same/even kernel": None, "F.conv1d": None, "F.conv_transpose2d": None,
    "F.conv_transpose1d": None, "nn.Conv1d/Conv2d": None, "nn.ConvTranspose2d": None, "nn.Conv2d CNN": None,
    **{f"F.scaled_dot_product_attention[{k}]": None for k in ("none", "causal", "boolean", "additive",
                                                               "broadcast batch")},
    **{f"nn.MultiheadAttention[{k}]": None for k in ("none", "attn_mask_bool", "attn_mask_float", "key_padding",
                                                      "need_weights_false", "per_head_weights")},
    # float32 ops and norms
    "F.softmax": None, "F.log_softmax": None, "F.layer_norm": None, "nn.LayerNorm": None, "F.batch_norm": None,
    "F.group_norm": None, "F.pad": None, "F.cross_entropy": None, "F.mse_loss": None, "nn loss modules": None,
    # whole models and training
    "nn.GPT forward+grad": _GPT, "nn.GPT forward+grad (tied, qkv_bias)": _GPT,
    "nn.GPT forward+grad (gelu, bias=False, eps 1e-6)": _GPT, "nn.GPT forward+grad (torch SDPA reference)": _GPT,
    "nn.Sequential lecture MLP (train steps, eval)": None, "nn.Sequential(OrderedDict) (train steps, eval)": None,
    "nn.conv-style block (train steps, eval)": None, "train.fit scan vs torch loop": None,
    "train.fit loop vs torch loop": None, "train.fit DataLoader (last batch kept) vs torch loop": None,
}


def _enable_mixed() -> None:
    names = {case.name: i for i, case in enumerate(CASES)}
    missing = sorted(set(MIXED_CASES) - set(names))
    if missing:
        raise ValueError(f"_cases_amp names cases that are not registered: {missing}")
    for name, tol in MIXED_CASES.items():
        case = CASES[names[name]]
        tolerances = {**case.tolerances, MIXED: tol} if tol else case.tolerances
        CASES[names[name]] = dataclasses.replace(case, dtypes=case.dtypes + (MIXED,), tolerances=tolerances)


_enable_mixed()
