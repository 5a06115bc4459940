"""Central differences against the engine's backward pass, input by input and node by node.

``gradcheck(graph, inputs)`` seeds every output with a random vector ``v`` and
compares the gradient of ``v · out`` that ``backward`` returns for every input
(defaulted ones included) with central differences, in float64; constant inputs
(``grad=False``: labels, masks) are passed as given and never perturbed. It returns the
report when every entry agrees within ``atol + rtol * |numeric|``, and raises
``GradcheckError``, whose message is the report's table, when one does not.
A failing report also names the nodes whose own rule disagrees with central
differences of their op's forward (``check_nodes``): that is where the bug is.

>>> import numpy as np, bngraph as bg
>>> report = gradcheck(bg.library.get("batchnorm"), bg.library.example("batchnorm"), seed=0)
>>> report.ok, [row.input for row in report.rows]
(True, ['x', 'gamma', 'beta', 'eps'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BngraphError, node_context
from ..formatting import format_index, format_number, format_table, worst_index
from ..ops import unbroadcast
from ..run import forward

if TYPE_CHECKING:
    from ..ir import IR, NodeSpec
    from ..ops import Op
    from ..schedule import Planned

__all__ = [
    "gradcheck", "check_nodes", "GradcheckReport", "InputCheck", "NodeCheck", "GradcheckError",
    "DEFAULT_SEED", "default_seed", "seeded",
]

DEFAULT_SEED = 0
"""The seed of ``gradcheck`` and ``check_nodes`` when none is given (outside ``seeded``)."""

_DEFAULT = ContextVar("bngraph_gradcheck_seed", default=DEFAULT_SEED)


def default_seed() -> int:
    """The seed ``gradcheck`` uses when it is given none: ``DEFAULT_SEED``, or under
    pytest the test's own seed (the plugin's ``--bngraph-seed`` mixed with the test id).

    >>> with seeded(7):
    ...     default_seed()
    7
    """
    return _DEFAULT.get()


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Within the block, ``gradcheck`` and ``check_nodes`` without ``seed=`` use ``seed``."""
    token = _DEFAULT.set(seed)
    try:
        yield
    finally:
        _DEFAULT.reset(token)



class GradcheckError(BngraphError, AssertionError):
    """A gradient that disagrees with central differences; ``.report`` holds the details."""

    def __init__(self, report: GradcheckReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class InputCheck:
    """One input's comparison: the largest errors, and the entry where it is worst.

    In ``fast`` mode the entries are random projections ``v^T J u`` and
    ``worst_index`` is ``(k,)`` for the k-th projection.
    """

    input: str
    max_abs: float
    max_rel: float
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    checked: int
    ok: bool


@dataclass(frozen=True)
class NodeCheck:
    """One operand of one node: its op's rule against central differences of its forward."""

    node: str
    op: str
    stage: str | None
    operand: int
    operand_name: str
    max_abs: float
    analytic: float
    numeric: float
    ok: bool

    def describe(self) -> str:
        where = node_context(self.node, self.op, self.stage)
        return f"{where}, operand {self.operand} ({self.operand_name!r})"


@dataclass(frozen=True)
class GradcheckReport:
    """What ``gradcheck`` found: a row per input, and on failure the suspect nodes."""

    graph: str
    rows: tuple[InputCheck, ...]
    eps: float
    atol: float
    rtol: float
    fast: bool
    seed: int
    suspects: tuple[NodeCheck, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether every input's gradient agrees with central differences."""
        return all(row.ok for row in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        data = asdict(self)
        data["ok"] = self.ok
        for row in data["rows"]:
            row["worst_index"] = list(row["worst_index"])
        data["suspects"] = [asdict(s) for s in self.suspects]
        return data

    def __str__(self) -> str:
        verdict = "passed" if self.ok else "FAILED"
        mode = "random projections v^T J u" if self.fast else "every entry"
        header = ["input", "max abs err", "max rel err", "worst index", "analytic", "numeric", "ok"]
        rows = [
            [r.input, format_number(r.max_abs), format_number(r.max_rel),
             format_index(r.worst_index),
             format_number(r.analytic), format_number(r.numeric), "yes" if r.ok else "NO"]
            for r in self.rows
        ]
        lines = [
            f"gradcheck of graph {self.graph!r} {verdict} ({mode}; eps={self.eps:g}, "
            f"atol={self.atol:g}, rtol={self.rtol:g}, seed={self.seed})",
            format_table(header, rows),
        ]
        if not self.ok:
            bad = [s for s in self.suspects if not s.ok]
            if bad:
                lines.append(
                    "rules that disagree with central differences of their forward, each node "
                    "alone at its operands' values\n(u . vjp(v) against the central difference "
                    "of v . forward along u, for random v and u: a random projection, not the "
                    "gradient shown above):"
                )
                lines.extend(
                    f"  {s.describe()}: analytic {format_number(s.analytic)}, "
                    f"numeric {format_number(s.numeric)}" for s in bad
                )
            else:
                lines.append("every node's rule agrees with central differences on its own")
        return "\n".join(lines)


def _float64_inputs(ir: IR, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every input (defaults included) as a float64 array, so that each gets checked;
    constant inputs as they are given (integer labels stay integers)."""
    values = {}
    constants = set(ir.constants)
    for name in ir.inputs:
        if name in constants:
            if name in inputs:
                values[name] = inputs[name]
        elif name in inputs:
            values[name] = np.array(inputs[name], dtype=np.float64)
        elif "default" in ir.spec(name).params:
            values[name] = np.array(ir.spec(name).params["default"], dtype=np.float64)
    values.update({k: np.array(v, dtype=np.float64) for k, v in inputs.items() if k not in values})
    return values


def _objective(
    graph: Planned, seeds: Mapping[str, np.ndarray]
) -> Callable[[dict[str, Any]], float]:
    """The scalar ``sum_o v_o · out_o`` whose gradient ``backward(seeds)`` computes."""

    def value(values: dict[str, Any]) -> float:
        outputs = forward(graph, values).outputs
        return float(sum(np.sum(seeds[o] * outputs[o]) for o in seeds))

    return value


def _errors(
    analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absolute and relative errors, and where they exceed ``atol + rtol * |numeric|``."""
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), np.finfo(np.float64).tiny)
    bad = ~(err <= atol + rtol * np.abs(numeric))
    return err, err / scale, bad


def _row(
    name: str, analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float
) -> InputCheck:
    err, rel, bad = _errors(analytic, numeric, atol, rtol)
    if analytic.size == 0:
        return InputCheck(name, 0.0, 0.0, (), 0.0, 0.0, 0, True)
    # the worst entry: the largest error among those that fail, else the largest error
    index = worst_index(np.where(bad, err, -1.0) if bad.any() else err)
    return InputCheck(
        name, float(np.max(err)), float(np.max(rel)), index,
        float(analytic[index]), float(numeric[index]), int(analytic.size), not bool(bad.any()),
    )


Objective = Callable[[dict[str, Any]], float]


def _entrywise(
    objective: Objective, values: dict[str, np.ndarray], name: str, eps: float,
    tick: Callable[[], None],
) -> np.ndarray:
    base = values[name]
    numeric = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        tick()
        shifted = base.copy()
        shifted[index] += eps
        plus = objective({**values, name: shifted})
        shifted[index] -= 2 * eps
        minus = objective({**values, name: shifted})
        numeric[index] = (plus - minus) / (2 * eps)
    return numeric


def _projected(
    objective: Objective, values: dict[str, np.ndarray], name: str, eps: float,
    grad: np.ndarray, rng: np.random.Generator, count: int, tick: Callable[[], None],
) -> tuple[np.ndarray, np.ndarray]:
    base = values[name]
    analytic, numeric = np.zeros(count), np.zeros(count)
    for k in range(count):
        tick()
        u = rng.standard_normal(base.shape)
        plus = objective({**values, name: base + eps * u})
        minus = objective({**values, name: base - eps * u})
        numeric[k] = (plus - minus) / (2 * eps)
        analytic[k] = np.sum(grad * u)
    return analytic, numeric


def gradcheck(
    graph: Planned,
    inputs: Mapping[str, Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast: bool = False,
    seed: int | None = None,
    projections: int = 3,
    check_finite: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> GradcheckReport:
    """Check ``backward`` against central differences for every input; return the report.

    Outputs are seeded with standard normal vectors (ones would hide errors
    that sum to zero, as in batch normalization's dx). ``fast=True`` checks
    ``projections`` random directions per input instead of every entry, so it
    costs ``2 * projections`` forward runs per input whatever the size.
    Raises ``GradcheckError`` (an ``AssertionError``) with the report's table.
    ``progress(done, total)``, if given, is called before each probe (a pair of
    forward runs), for a progress bar. The random draws are seeded: by ``seed``,
    else by ``default_seed()`` (the test's seed under pytest), and the report
    prints the seed, so a failure can be reproduced.
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's source
    seed = default_seed() if seed is None else seed
    ir = graph.plan.ir
    rng = np.random.default_rng(seed)
    values = _float64_inputs(ir, inputs)
    run = forward(graph, values, check_finite=check_finite)
    seeds = {o: rng.standard_normal(np.shape(run.outputs[o])) for o in ir.outputs}
    grads = run.backward(seeds, check_finite=check_finite)
    objective = _objective(graph, seeds)
    checked = [name for name in ir.inputs if name not in ir.constants]
    total = len(checked) * projections if fast else sum(
        int(np.size(values[name])) for name in checked)
    done = iter(range(total))

    def tick() -> None:
        if progress is not None:
            progress(next(done), total)

    rows = []
    for name in checked:
        if fast:
            analytic, numeric = _projected(
                objective, values, name, eps, grads[name], rng, projections, tick)
        else:
            analytic = np.asarray(grads[name], dtype=np.float64)
            numeric = _entrywise(objective, values, name, eps, tick)
        rows.append(_row(name, analytic, numeric, atol, rtol))
    report = GradcheckReport(ir.name, tuple(rows), eps, atol, rtol, fast, seed)
    if report.ok:
        return report
    checks = check_nodes(graph, values, eps=eps, atol=atol, rtol=rtol, seed=seed)
    suspects = tuple(s for s in checks if not s.ok)
    raise GradcheckError(
        GradcheckReport(ir.name, tuple(rows), eps, atol, rtol, fast, seed, suspects)
    )


def check_nodes(
    graph: Planned,
    inputs: Mapping[str, Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int | None = None,
) -> list[NodeCheck]:
    """Check every node's rules on their own, at the node's actual operand values.

    For each operand of each node: ``u · vjp(v)`` against the central difference
    of ``v · forward`` along a random direction ``u``, in float64.

    >>> import bngraph as bg
    >>> checks = check_nodes(bg.library.get("batchnorm"), bg.library.example("batchnorm"), seed=0)
    >>> all(c.ok for c in checks), checks[0].node
    (True, 'mu')
    """
    plan = graph.plan
    rng = np.random.default_rng(default_seed() if seed is None else seed)
    values = _float64_inputs(plan.ir, inputs)
    run = forward(graph, values, keep_values=True)
    checks = []
    constant = {n for n, c in zip(plan.ir.names, plan.constant, strict=True) if c}  # no gradient
    for index in plan.order:
        op = plan.ir.op(index)
        if op is None:
            continue
        spec = plan.ir.spec(index)
        name = spec.name
        args = [run.value(o) if isinstance(o, str) else o for o in spec.operands]
        out = run.value(name)
        v = rng.standard_normal(np.shape(out))
        for k, operand in enumerate(spec.operands):
            if not isinstance(operand, str) or op.vjp(k) is None or operand in constant:
                continue
            checks.append(_check_operand(op, spec, k, args, out, v, rng, eps, atol, rtol))
    return checks


def _check_operand(
    op: Op, spec: NodeSpec, k: int, args: list[Any], out: Any, v: np.ndarray,
    rng: np.random.Generator, eps: float, atol: float, rtol: float,
) -> NodeCheck:
    params = op.full_params(spec.params)
    base = np.asarray(args[k], dtype=np.float64)
    u = rng.standard_normal(base.shape)

    def along(t: float) -> float:
        shifted = [*args]
        shifted[k] = base + t * u
        return float(np.sum(v * op.forward(*shifted, **params)))

    numeric = (along(eps) - along(-eps)) / (2 * eps)
    vjp = op.vjp(k)
    assert vjp is not None  # operands without a rule are not checked
    g = vjp(v, out, *args, **params)
    analytic = 0.0 if g is None else float(np.sum(unbroadcast(np.asarray(g), base.shape) * u))
    err = abs(analytic - numeric)
    return NodeCheck(
        spec.name, spec.op, spec.stage, k, str(spec.operands[k]), err, analytic, numeric,
        bool(err <= atol + rtol * abs(numeric)),
    )
