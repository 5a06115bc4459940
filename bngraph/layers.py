"""``BatchNorm``: a batch normalization layer with running statistics, on top of the graphs.

In training mode ``forward(x)`` runs the library graph (``batchnorm``, or
``batchnorm_spatial`` with ``spatial=True``), normalizing with the batch's
statistics, and updates the running mean and variance; in evaluation mode it
runs a graph of its own, ``(x - running_mean) / sqrt(running_var + eps) * gamma
+ beta``, whose gradients (x, gamma, beta, the running statistics and eps) are
those of that formula. Either way it returns the ``Run``: ``run.outputs["out"]``,
``run.backward(dout)``.

Two conventions for the running statistics (docs/batchnorm.md has them side by side):

- ``"torch"``: ``running = (1 - momentum) * running + momentum * batch``, with the
  unbiased batch variance; running_mean starts at 0 and running_var at 1;
  ``momentum=None`` is the cumulative average ``momentum = 1 / num_batches_tracked``.
  Default momentum 0.1.
- ``"cs231n"``: ``running = momentum * running + (1 - momentum) * batch``, with the
  biased batch variance; both start at 0. Default momentum 0.9.

>>> import numpy as np, bngraph as bg
>>> layer = bg.BatchNorm(4)
>>> run = layer.forward(np.arange(20.0).reshape(5, 4))
>>> layer.running_mean, layer.running_var, layer.num_batches_tracked
(array([0.8, 0.9, 1. , 1.1]), array([4.9, 4.9, 4.9, 4.9]), 1)
>>> _ = layer.eval()
>>> layer.forward(np.full((1, 4), 8.0)).outputs["out"].round(3)
array([[3.253, 3.207, 3.162, 3.117]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functions as F
from . import library
from .errors import BngraphError, ShapeError
from .graph import Graph
from .run import Run

__all__ = ["BatchNorm", "LayerError", "CONVENTIONS"]

CONVENTIONS = ("torch", "cs231n")
_DEFAULT_MOMENTUM = {"torch": 0.1, "cs231n": 0.9}


class LayerError(BngraphError, ValueError):
    """An invalid layer argument or an input the layer cannot normalize."""


class _Default:
    def __repr__(self) -> str:
        return "<0.1 for torch, 0.9 for cs231n>"


DEFAULT: Any = _Default()


def _eval_graph(spatial: bool) -> Graph:
    """Evaluation mode: normalization with given statistics, as a graph of its own."""
    g = Graph("batchnorm_spatial_eval" if spatial else "batchnorm_eval")
    x = g.input("x", shape=("N", "C", "H", "W") if spatial else ("N", "C"))
    params = {}
    for name in ("running_mean", "running_var", "gamma", "beta"):
        params[name] = g.input(name, shape=("C",))
    eps = g.input("eps", default=1e-5)
    if spatial:
        with g.stage("0 per channel"):
            params = {k: F.reshape(v, shape=(-1, 1, 1), name=f"{k}_c") for k, v in params.items()}
    with g.stage("1 center"):
        xmu = (x - params["running_mean"]).named("xmu")
    with g.stage("2 std"):
        sqrtvar = F.sqrt(params["running_var"] + eps, name="sqrtvar")
    with g.stage("3 invert"):
        ivar = (1 / sqrtvar).named("ivar")
    with g.stage("4 normalize"):
        xhat = (xmu * ivar).named("xhat")
    with g.stage("5 scale"):
        gammax = (params["gamma"] * xhat).named("gammax")
    with g.stage("6 shift"):
        out = (gammax + params["beta"]).named("out")
    g.output(out)
    return g.freeze()


_EVAL_GRAPHS = {False: _eval_graph(False), True: _eval_graph(True)}


class BatchNorm:
    """Batch normalization over ``num_features`` features (or channels, with ``spatial=True``).

    ``gamma`` (ones) and ``beta`` (zeros) are plain arrays the caller may set;
    ``running_mean``, ``running_var`` and ``num_batches_tracked`` follow the
    chosen convention. The layer starts in training mode.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = DEFAULT,
        convention: str = "torch",
        spatial: bool = False,
    ) -> None:
        whole = isinstance(num_features, (int, np.integer)) and not isinstance(num_features, bool)
        if not whole or num_features < 1:
            raise LayerError(
                f"BatchNorm: num_features must be a positive int, not {num_features!r}"
            )
        if convention not in CONVENTIONS:
            raise LayerError(
                f"BatchNorm: unknown convention {convention!r}; "
                f"conventions: {', '.join(CONVENTIONS)}"
            )
        if momentum is DEFAULT:
            momentum = _DEFAULT_MOMENTUM[convention]
        if momentum is None and convention != "torch":
            raise LayerError(
                "BatchNorm: momentum=None (a cumulative average) exists only in the torch "
                f"convention; give the {convention} convention a momentum in [0, 1]"
            )
        if momentum is not None and (
            isinstance(momentum, bool) or not isinstance(momentum, (int, float))
            or not 0.0 <= momentum <= 1.0
        ):
            raise LayerError(
                f"BatchNorm: momentum must be a number in [0, 1] or None, not {momentum!r}"
            )
        if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0.0 <= eps < np.inf:
            raise LayerError(f"BatchNorm: eps must be a finite number >= 0, not {eps!r}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.convention = convention
        self.spatial = bool(spatial)
        self.training = True
        self.gamma = np.ones(self.num_features)
        self.beta = np.zeros(self.num_features)
        self.reset_running_stats()

    def reset_running_stats(self) -> None:
        """Back to the convention's starting values, with no batch tracked."""
        start_var = 1.0 if self.convention == "torch" else 0.0
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.full(self.num_features, start_var)
        self.num_batches_tracked = 0

    def train(self, mode: bool = True) -> BatchNorm:
        """Training mode (or evaluation mode with ``mode=False``); returns the layer."""
        self.training = bool(mode)
        return self

    def eval(self) -> BatchNorm:
        """Evaluation mode: normalize with the running statistics; returns the layer."""
        return self.train(False)

    @property
    def graph(self) -> Graph:
        """The graph ``forward`` runs in the current mode."""
        if self.training:
            return library.get("batchnorm_spatial" if self.spatial else "batchnorm")
        return _EVAL_GRAPHS[self.spatial]

    @property
    def _axes(self) -> tuple[int, ...]:
        return (0, 2, 3) if self.spatial else (0,)

    def _check(self, given: Any) -> np.ndarray:
        x = np.asarray(given)
        want = 4 if self.spatial else 2
        layout = "(N, C, H, W)" if self.spatial else "(N, C)"
        if x.ndim != want:
            raise ShapeError(
                f"BatchNorm{' (spatial)' if self.spatial else ''} takes x of shape {layout}, "
                f"not an array of shape {x.shape}"
            )
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"BatchNorm({self.num_features}) got x of shape {x.shape}: axis 1 has "
                f"{x.shape[1]} features, not {self.num_features}"
            )
        return x

    def forward(self, x: Any, *, check_finite: bool = False, keep_values: bool = False) -> Run:
        """Normalize ``x`` and return the run; in training mode, update the running statistics."""
        x = self._check(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        options = {"check_finite": check_finite, "keep_values": keep_values}
        gamma, beta = self.gamma.astype(dtype), self.beta.astype(dtype)
        if not self.training:
            return self.graph.forward(
                x=x, gamma=gamma, beta=beta, eps=self.eps,
                running_mean=self.running_mean.astype(dtype),
                running_var=self.running_var.astype(dtype), **options,
            )
        count = x.size // self.num_features
        if count < 2 and self.convention == "torch":
            raise LayerError(
                f"BatchNorm in training mode needs more than one value per channel with the "
                f"torch convention (its running_var is the unbiased variance, which divides by "
                f"count - 1); got x of shape {x.shape}"
            )
        run = self.graph.forward(x=x, gamma=gamma, beta=beta, eps=self.eps, **options)
        self._update(x.astype(np.float64), count)
        return run

    __call__ = forward

    def _update(self, x: np.ndarray, count: int) -> None:
        mean = x.mean(axis=self._axes)
        var = x.var(axis=self._axes)
        self.num_batches_tracked += 1
        if self.convention == "cs231n":
            keep = self.momentum or 0.0  # never None here: __init__ refuses it for cs231n
            self.running_mean = keep * self.running_mean + (1 - keep) * mean
            self.running_var = keep * self.running_var + (1 - keep) * var
            return
        weight = 1.0 / self.num_batches_tracked if self.momentum is None else float(self.momentum)
        unbiased = var * count / (count - 1)
        self.running_mean = (1 - weight) * self.running_mean + weight * mean
        self.running_var = (1 - weight) * self.running_var + weight * unbiased

    def __repr__(self) -> str:
        mode = "training" if self.training else "evaluation"
        return (
            f"BatchNorm({self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
            f"convention={self.convention!r}, spatial={self.spatial}) in {mode} mode"
        )
