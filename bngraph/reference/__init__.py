"""Closed-form numpy forward and backward passes, written independently of the graphs.

They are what the tests and the ``check`` command compare the library graphs
against: the normalizations (``normalization``), softmax cross-entropy and the
two-layer perceptron (``classification``), masked attention (``attention``) and
conv2d → batch norm → relu (``convolution``). ``closed_form(name, inputs, dout)``
evaluates the reference of any library graph by name, as (output, gradients):

>>> import numpy as np
>>> x = np.arange(20.0).reshape(5, 4)
>>> out, cache = batchnorm_forward(x, 2.0, 1.0, 0.1)
>>> sorted(batchnorm_backward(out, cache))
['beta', 'eps', 'gamma', 'x']
>>> loss, grads = closed_form("softmax_cross_entropy",
...                           {"logits": np.zeros((2, 3)), "labels": np.array([0, 2])})
>>> sorted(grads)                # integer labels get no gradient
['logits']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .attention import MASKED, AttentionCache, attention_backward, attention_forward
from .classification import (
    CrossEntropyCache,
    MLPCache,
    mlp_backward,
    mlp_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from .convolution import (
    ConvBNReLUCache,
    conv2d_backward,
    conv2d_forward,
    conv_bn_relu_backward,
    conv_bn_relu_forward,
)
from .normalization import (
    NORMALIZATIONS,
    BatchNormCache,
    NormCache,
    batchnorm_backward,
    batchnorm_forward,
    groupnorm_backward,
    groupnorm_forward,
    layernorm_backward,
    layernorm_forward,
    normalization_closed_form,
    reduce_to,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)

__all__ = [
    "BatchNormCache", "batchnorm_forward", "batchnorm_backward", "reduce_to",
    "NormCache", "layernorm_forward", "layernorm_backward",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "groupnorm_forward", "groupnorm_backward", "NORMALIZATIONS", "normalization_closed_form",
    "CrossEntropyCache", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "MLPCache", "mlp_forward", "mlp_backward",
    "MASKED", "AttentionCache", "attention_forward", "attention_backward",
    "conv2d_forward", "conv2d_backward", "ConvBNReLUCache", "conv_bn_relu_forward",
    "conv_bn_relu_backward", "closed_form", "REFERENCE_NAMES",
]

REFERENCE_NAMES = (
    *NORMALIZATIONS, "softmax_cross_entropy", "mlp", "attention", "conv_bn_relu",
)
"""The library graphs that have a closed form here."""


def _others(name: str, inputs: dict[str, Any], seed: Any) -> tuple[Any, dict[str, np.ndarray]]:
    if name == "softmax_cross_entropy":
        loss, ce = softmax_cross_entropy_forward(inputs["logits"], inputs["labels"])
        return loss, softmax_cross_entropy_backward(1.0 if seed is None else seed, ce)
    if name == "mlp":
        args = [inputs[k] for k in ("x", "w1", "b1", "w2", "b2", "labels")]
        loss, mlp = mlp_forward(*args)
        return loss, mlp_backward(1.0 if seed is None else seed, mlp, inputs["b1"], inputs["b2"])
    if name == "attention":
        out, att = attention_forward(*(inputs[k] for k in ("q", "k", "v", "mask", "scale")))
        return out, attention_backward(np.ones_like(out) if seed is None else seed, att)
    out, conv = conv_bn_relu_forward(inputs["x"], inputs["w"], inputs["gamma"], inputs["beta"],
                                     inputs.get("eps", 1e-5))
    return out, conv_bn_relu_backward(np.ones_like(out) if seed is None else seed, conv)


def closed_form(
    name: str, inputs: dict[str, Any], dout: Any = None, **params: Any
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The reference output and input gradients of library graph ``name``.

    ``inputs`` holds the graph's inputs by name (a defaulted one may be left out);
    ``dout`` seeds the backward pass (ones when omitted); ``params`` are the
    graph's build parameters (``groups`` for groupnorm, default 2). Inputs that
    get no gradient (labels, masks, the attention's scale) have none here.
    """
    if name in NORMALIZATIONS:
        return normalization_closed_form(name, inputs, dout, **params)
    if name in REFERENCE_NAMES:
        out, grads = _others(name, inputs, dout)
        return np.asarray(out), grads
    from ..library import LibraryError

    raise LibraryError(
        f"no closed form for {name!r}; there is one for: {', '.join(REFERENCE_NAMES)}"
    )
