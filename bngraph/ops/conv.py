"""Two-dimensional convolution, ``conv2d``, as ``torch.nn.functional.conv2d`` (without
bias: add one with broadcasting): x (N, C, H, W), weights (O, C / groups, kH, kW),
stride, zero padding, dilation and groups.

The forward reads every window through a strided view and contracts it with
the weights in one ``einsum``; the gradient for the weights is the same
contraction with the output's gradient, and the gradient for x sends each
window's share back with a scatter-add.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> get_op("conv2d").forward(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
array([[10., 18.],
       [42., 50.]])
>>> get_op("conv2d").shape(("N", 3, 32, 32), (8, 3, 3, 3), stride=1, padding=1, dilation=1,
...                       groups=1)
('N', 8, 32, 32)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .broadcasting import Shape, format_shape
from .registry import NUMPY_ONLY, define_op
from .windows import Pair, crop, output_size, pad_spatial, pair, scatter_windows, windows

__all__: list[str] = []


class _Layout:
    """The sizes of one convolution, checked once."""

    def __init__(self, x: Shape, w: Shape, stride: Pair, padding: Pair, dilation: Pair,
                 groups: int) -> None:
        if len(x) != 4 or len(w) != 4:
            raise ShapeError(
                f"conv2d takes x (N, C, H, W) and weights (O, C/groups, kH, kW), got "
                f"{format_shape(x)} and {format_shape(w)}"
            )
        if not isinstance(groups, int) or groups < 1:
            raise ShapeError(f"groups={groups!r} must be a positive int")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding", minimum=0)
        self.dilation = pair(dilation, "dilation")
        self.groups = groups
        channels, out, per_group = x[1], w[0], w[1]
        if (isinstance(channels, int) and isinstance(per_group, int)
                and channels != per_group * groups):
            raise ShapeError(
                f"conv2d: x has {channels} channels but weights {format_shape(w)} take "
                f"{per_group} per group × {groups} group(s)"
            )
        if isinstance(out, int) and out % groups:
            raise ShapeError(f"conv2d: {out} output channels do not split into {groups} groups")
        self.kernel: tuple[Any, Any] = (w[2], w[3])  # ints when it runs
        self.out = (x[0], out) + tuple(
            output_size(size, kernel=k, stride=s, padding=p, dilation=d) if isinstance(k, int)
            else None
            for size, k, s, p, d in zip(x[2:], self.kernel, self.stride, self.padding,
                                        self.dilation, strict=True)
        )

    def grouped_windows(self, x: Any) -> Any:
        """The windows of padded x as (N, groups, C/groups, H_out, W_out, kH, kW)."""
        view = windows(pad_spatial(x, self.padding), self.kernel, self.stride, self.dilation)
        n, c = view.shape[:2]
        return view.reshape(n, self.groups, c // self.groups, *view.shape[2:])

    def grouped_weights(self, w: Any) -> Any:
        """The weights as (groups, O/groups, C/groups, kH, kW)."""
        o = w.shape[0]
        return w.reshape(self.groups, o // self.groups, *w.shape[1:])

    def grouped_grad(self, g: Any) -> Any:
        """The output's gradient as (N, groups, O/groups, H_out, W_out)."""
        n, o = g.shape[:2]
        return np.reshape(g, (n, self.groups, o // self.groups, *g.shape[2:]))


def conv2d(x: Any, w: Any, stride: Pair = 1, padding: Pair = 0, dilation: Pair = 1,
           groups: int = 1) -> Any:
    """The cross-correlation of x (N, C, H, W) with weights (O, C / groups, kH, kW), as
    ``torch.nn.functional.conv2d``: ``stride``, zero ``padding`` on each side and
    ``dilation`` are ints or (height, width) pairs; ``groups`` splits the channels
    into groups convolved apart. The result is (N, O, H_out, W_out)."""
    layout = _Layout(np.shape(x), np.shape(w), stride, padding, dilation, groups)
    n, o, ho, wo = layout.out
    out = np.einsum("ngchwij,gocij->ngohw", layout.grouped_windows(x),
                    layout.grouped_weights(w), optimize=True)
    return out.reshape(n, o, ho, wo)


def _conv_vjp_x(g: Any, out: Any, x: Any, w: Any, *, stride: Pair, padding: Pair,
                dilation: Pair, groups: int) -> Any:
    layout = _Layout(np.shape(x), np.shape(w), stride, padding, dilation, groups)
    per_window = np.einsum("ngohw,gocij->ngchwij", layout.grouped_grad(g),
                           layout.grouped_weights(w), optimize=True)
    n, _, c, ho, wo, kh, kw = per_window.shape
    per_window = per_window.reshape(n, groups * c, ho, wo, kh, kw)
    ph, pw = layout.padding
    padded = (n, groups * c, x.shape[2] + 2 * ph, x.shape[3] + 2 * pw)
    return crop(scatter_windows(per_window, padded, layout.stride, layout.dilation), layout.padding)


def _conv_vjp_w(g: Any, out: Any, x: Any, w: Any, *, stride: Pair, padding: Pair,
                dilation: Pair, groups: int) -> Any:
    layout = _Layout(np.shape(x), np.shape(w), stride, padding, dilation, groups)
    grad = np.einsum("ngohw,ngchwij->gocij", layout.grouped_grad(g),
                     layout.grouped_windows(x), optimize=True)
    return grad.reshape(np.shape(w))


def _conv_shape(x: Shape, w: Shape, *, stride: Pair, padding: Pair, dilation: Pair,
                groups: int) -> Shape:
    return _Layout(x, w, stride, padding, dilation, groups).out


def _conv_label(params: Mapping[str, Any]) -> str:
    parts = [f"{key}={params[key]}" for key, default in
             (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1))
             if params[key] != default]
    return " ".join(["conv2d", *parts])


define_op(
    "conv2d", conv2d, [_conv_vjp_x, _conv_vjp_w],
    shape=_conv_shape, label=_conv_label, saves=[0, 1],
    rules=["g convolved back with {1} (transposed)", "g correlated with the windows of {0}"],
    namespaces=NUMPY_ONLY,
)
