"""conv2d, max_pool2d and avg_pool2d against direct Python loops over every output
pixel (written here, on small shapes), and their gradients against central
differences, across strides, padding, dilation and groups."""

from __future__ import annotations

import numpy as np
import pytest
from op_checks import check_op, vjp

import bngraph as bg
from bngraph.errors import ShapeError


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv_loop(x, w, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    padded = np.zeros((n, c, h + 2 * ph, wd + 2 * pw))
    padded[:, :, ph:ph + h, pw:pw + wd] = x
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, ho, wo))
    per_group = o // groups
    for b, f, i, j in np.ndindex(n, o, ho, wo):
        first = (f // per_group) * cg
        total = 0.0
        for ch, a, e in np.ndindex(cg, kh, kw):
            total += padded[b, first + ch, i * sh + a * dh, j * sw + e * dw] * w[f, ch, a, e]
        out[b, f, i, j] = total
    return out


CONV_CASES = [
    {},
    {"stride": 2},
    {"padding": 1},
    {"stride": (2, 1), "padding": (1, 2)},
    {"dilation": 2},
    {"dilation": (1, 2), "padding": 2, "stride": 2},
    {"groups": 2},
    {"groups": 4, "stride": 2, "padding": 1},
    {"groups": 2, "dilation": 2, "padding": 1},
]


@pytest.mark.parametrize("params", CONV_CASES, ids=[str(p) for p in CONV_CASES])
def test_conv2d(params, rng):
    groups = params.get("groups", 1)
    x = rng.standard_normal((2, 4, 5, 6))
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    full = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, **params}
    check_op("conv2d", params, [x, w], lambda x, w: conv_loop(x, w, **full), rng=rng)


def test_conv2d_one_by_one_is_a_matrix_product(rng):
    x, w = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((5, 3, 1, 1))
    out = bg.ops.get_op("conv2d").forward(x, w)
    np.testing.assert_allclose(out, np.einsum("nchw,oc->nohw", x, w[:, :, 0, 0]), rtol=1e-12, atol=1e-12)


def test_conv2d_shape_errors_name_the_channels():
    get = bg.ops.get_op
    with pytest.raises(ShapeError, match="x has 3 channels but weights .* take 2 per group × 2"):
        get("conv2d").shape(("N", 3, 8, 8), (4, 2, 3, 3), stride=1, padding=0, dilation=1, groups=2)
    with pytest.raises(ShapeError, match="window spans 5 entries"):
        get("conv2d").shape((1, 1, 4, 4), (1, 1, 3, 3), stride=1, padding=0, dilation=2, groups=1)
    with pytest.raises(ShapeError, match="3 output channels do not split into 2 groups"):
        get("conv2d").shape((1, 4, 4, 4), (3, 2, 1, 1), stride=1, padding=0, dilation=1, groups=2)
    assert get("conv2d").shape(("N", "C", "H", "W"), (8, "C", 3, 3), stride=1, padding=1,
                               dilation=1, groups=1) == ("N", 8, None, None)


def max_pool_loop(x, kernel, stride=None, padding=0):
    (kh, kw), (ph, pw) = _pair(kernel), _pair(padding)
    sh, sw = _pair(kernel if stride is None else stride)
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out, grad_at = np.zeros((n, c, ho, wo)), {}
    for b, f, i, j in np.ndindex(n, c, ho, wo):
        best, where = -np.inf, None
        for a, e in np.ndindex(kh, kw):  # row-major: the first maximum wins
            r, s = i * sh + a - ph, j * sw + e - pw
            if 0 <= r < h and 0 <= s < w and x[b, f, r, s] > best:
                best, where = x[b, f, r, s], (b, f, r, s)
        out[b, f, i, j] = best
        grad_at[(b, f, i, j)] = where
    return out, grad_at


def avg_pool_loop(x, kernel, stride=None, padding=0, count_include_pad=True):
    (kh, kw), (ph, pw) = _pair(kernel), _pair(padding)
    sh, sw = _pair(kernel if stride is None else stride)
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    out = np.zeros((n, c, ho, wo))
    for b, f, i, j in np.ndindex(n, c, ho, wo):
        cells = [(i * sh + a - ph, j * sw + e - pw) for a, e in np.ndindex(kh, kw)]
        inside = [x[b, f, r, s] for r, s in cells if 0 <= r < h and 0 <= s < w]
        out[b, f, i, j] = sum(inside) / (kh * kw if count_include_pad else len(inside))
    return out


POOL_CASES = [
    {"kernel": 2},
    {"kernel": 3, "stride": 1},
    {"kernel": (2, 3), "stride": (1, 2)},
    {"kernel": 3, "stride": 2, "padding": 1},
    {"kernel": (3, 2), "stride": 1, "padding": (1, 0)},
]


@pytest.mark.parametrize("params", POOL_CASES, ids=[str(p) for p in POOL_CASES])
def test_max_pool2d(params, rng):
    x = rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) * 0.1  # distinct: no ties
    check_op("max_pool2d", params, [x], lambda x: max_pool_loop(x, **params)[0], rng=rng)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("params", POOL_CASES, ids=[str(p) for p in POOL_CASES])
def test_avg_pool2d(params, count_include_pad, rng):
    x = rng.standard_normal((2, 3, 5, 6))
    full = {**params, "count_include_pad": count_include_pad}
    check_op("avg_pool2d", full, [x], lambda x: avg_pool_loop(x, **full), rng=rng)


def test_max_pool_gives_a_tied_window_gradient_to_its_first_maximum_as_pytorch(rng):
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = 1.0  # a tie inside one window of the overlapping pooling
    params = {"kernel": 3, "stride": 1, "padding": 1}
    seed = rng.standard_normal((1, 1, 4, 4))
    grad = vjp("max_pool2d", params, [x], seed)[0]
    _, grad_at = max_pool_loop(x, **params)
    expected = np.zeros_like(x)
    for window, cell in grad_at.items():
        expected[cell] += seed[window]
    np.testing.assert_allclose(grad, expected, rtol=1e-15, atol=0)


def test_pool_padding_is_at_most_half_the_kernel():
    with pytest.raises(ShapeError, match="at most half of kernel"):
        bg.ops.get_op("max_pool2d").shape((1, 1, 4, 4), kernel=2, stride=None, padding=2)


def test_conv_and_pool_in_text_keep_float32():
    g = bg.parse(
        "input x[N, C, H, W]\ninput w[O, C, K, K]\n"
        "y = conv2d(x, w, padding=1)\nz = max_pool2d(y, 2)\na = avg_pool2d(z, kernel=(1, 2))\n"
        "output a"
    )
    assert "z = max_pool2d(y, kernel=2)" in g.to_dsl()
    run = g.forward(x=np.ones((1, 2, 4, 4), np.float32), w=np.ones((3, 2, 3, 3), np.float32))
    assert run.outputs["a"].shape == (1, 3, 2, 1) and run.outputs["a"].dtype == np.float32
    assert run.backward()["w"].dtype == np.float32
