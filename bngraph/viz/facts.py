"""What one drawing needs to know about a graph and a run, gathered once.

``gather`` reads the plan (order, uses, saved values, release points), the op
records (which operands get no gradient) and the run (shapes, steps, released
values, per-edge gradients) for the nodes that will be drawn, and fixes the DOT
id of every node and of the extra nodes (gradient sums, seeds, legend), so that
the statement builders only look things up.

>>> import bngraph as bg
>>> facts = gather(bg.library.get("batchnorm").plan, None, "backward")
>>> sorted(facts.fan_out), facts.grad_uses["xmu"]
(['x', 'xmu'], (('sq', 0), ('xhat', 0)))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import RunStateError, ShapeError
from ..ir import INPUT, IR, NodeSpec
from ..ops import format_shape, get_op
from ..schedule import Plan
from ..shapes import static_shapes
from .escape import quote_id
from .model import DrawnRun
from .style import CHECK_LEGEND

__all__ = ["Facts", "Verdict", "gather", "restrict", "has_gradients", "no_grad", "is_constant"]

Uses = tuple[tuple[str, int], ...]


def has_gradients(run: DrawnRun) -> bool:
    """Whether ``run.backward()`` has been called on ``run``."""
    try:
        run.grad(run.plan.ir.names[0])
    except RunStateError:
        return False
    return True


def no_grad(spec: NodeSpec) -> frozenset[int]:
    """The operand positions of a node that never get a gradient, because its op reads
    them only for their shape or as indices (a ``None`` among the op's rules).

    >>> import bngraph as bg
    >>> ir = bg.library.get("groupnorm").ir
    >>> sorted(no_grad(ir.spec("xhat"))), sorted(no_grad(ir.spec("xmu")))
    ([1], [])
    """
    if spec.op == INPUT:
        return frozenset()
    op = get_op(spec.op)
    return frozenset(k for k in range(len(spec.operands)) if op.vjp(k) is None)


@dataclass(frozen=True)
class Verdict:
    """A check painted on a node: ``"agree"``, ``"disagree"`` or ``"unchecked"``, and
    the lines its tooltip gets."""

    status: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Facts:
    """Everything a drawing looks up: members drawn in full, greyed neighbours,
    shapes, schedule steps, saved and released values, uses (those that carry a
    gradient, and those that only lend their shape), fan-out, ids, and the options
    (edge rules, checks, element ids for the viewer)."""

    ir: IR
    plan: Plan
    specs: dict[str, NodeSpec]
    run: DrawnRun | None
    view: str
    members: frozenset[str]
    boundary: frozenset[str]
    shapes: dict[str, str]
    saved: frozenset[str]
    released: frozenset[str]
    last_use: dict[str, int]
    steps: dict[str, tuple[int, int | None]]
    grads: bool
    contributions: dict[str, list[tuple[str, int, Any]]] | None
    grad_uses: dict[str, Uses]
    shape_uses: dict[str, Uses]
    fan_out: frozenset[str]
    ids: dict[str, str]
    extras: dict[tuple[str, str], str]
    rules: bool = False
    checks: Mapping[str, Verdict] | None = None
    check_legend: tuple[tuple[str, str], ...] = CHECK_LEGEND
    tagged: bool = False
    index: dict[str, int] = field(default_factory=dict)
    edge_labels: bool = True
    """Whether backward edges carry their labels (a heavy drawing keeps them in tooltips:
    each label doubles the ranks its edge crosses)."""

    @property
    def forward(self) -> bool:
        return self.view in ("forward", "both")

    @property
    def backward(self) -> bool:
        return self.view in ("backward", "both")

    def visible(self, name: str) -> bool:
        return name in self.members or name in self.boundary


def gather(
    plan: Plan,
    run: DrawnRun | None,
    view: str,
    members: Iterable[str] | None = None,
    *,
    rules: bool = False,
    checks: Mapping[str, Verdict] | None = None,
    check_legend: tuple[tuple[str, str], ...] = CHECK_LEGEND,
    tagged: bool = False,
    prefix: str = "",
    steps: Mapping[str, tuple[int, int | None]] | None = None,
) -> Facts:
    """The facts of one drawing of ``plan``'s graph (``members`` in full, their neighbours
    greyed). ``prefix`` goes before every DOT id (two graphs in one picture);
    ``tagged`` gives every element an ``id`` attribute the viewer reads; ``steps``
    are the nodes' steps when the caller already has them."""
    ir = plan.ir
    names = ir.names
    specs = {spec.name: spec for spec in ir.nodes}  # read once: records take a while
    member_set = frozenset(names if members is None else members)
    grad_uses, shape_uses = _uses(plan, specs)
    every = {n: grad_uses[n] + shape_uses[n] for n in names}
    boundary = _boundary(specs, member_set, every) if members is not None else frozenset()
    visible = names if members is None else [n for n in names if n in member_set or n in boundary]
    grads = run is not None and view != "forward" and has_gradients(run)
    outputs = set(ir.outputs)
    return Facts(
        ir=ir,
        plan=plan,
        specs=specs,
        run=run,
        view=view,
        members=member_set,
        boundary=boundary,
        shapes=_shapes(plan, run, visible),
        saved=frozenset(names[i] for i in plan.saved_values),
        released=frozenset(run.released()) if run is not None else frozenset(),
        last_use=_last_use(plan),
        steps=dict(steps) if steps is not None else _steps(plan, run, visible),
        grads=grads,
        contributions=(
            {n: run.contributions(n) for n in visible}
            if grads and run is not None and run.keep_values
            else None
        ),
        grad_uses={n: grad_uses[n] for n in visible},
        shape_uses={n: shape_uses[n] for n in visible},
        fan_out=frozenset(n for n in visible if len(grad_uses[n]) + (n in outputs) > 1),
        ids={name: quote_id(prefix + name) for name in names},
        extras=_extra_ids(ir, member_set, prefix),
        rules=rules,
        checks=checks,
        check_legend=check_legend,
        tagged=tagged,
        index={name: k for k, name in enumerate(names)},
    )


def is_constant(facts: Facts, name: str) -> bool:
    """Whether ``name`` is a constant input or computed from constants alone: it gets
    no gradient, and a backward view draws its edges dotted."""
    constant = facts.plan.constant
    return bool(constant) and constant[facts.index[name]]


def restrict(facts: Facts, members: Iterable[str]) -> Facts:
    """The same facts for a drawing of ``members`` only (their neighbours greyed): the
    viewer gathers a run's facts once and draws every stage from them."""
    member_set = frozenset(members)
    every = {n: facts.grad_uses[n] + facts.shape_uses[n] for n in facts.grad_uses}
    boundary = _boundary(facts.specs, member_set, every)
    return replace(facts, members=member_set, boundary=boundary)


def _uses(plan: Plan, specs: Mapping[str, NodeSpec]) -> tuple[dict[str, Uses], dict[str, Uses]]:
    """Each node's uses ``(consumer, position)`` in schedule order, from the plan: those
    that send it a gradient, and those that read only its shape (``no_grad``). A
    constant (and what is computed from constants alone) gets no gradient either,
    but its edges carry values, so they are neither."""
    names = plan.ir.names
    blind = {name: no_grad(spec) for name, spec in specs.items()}
    constant = plan.constant or (False,) * len(names)
    grad_uses: dict[str, Uses] = {}
    shape_uses: dict[str, Uses] = {}
    for index, node_uses in enumerate(plan.uses):
        named = [(names[c], k) for c, k in node_uses]
        grad_uses[names[index]] = () if constant[index] else tuple(
            (c, k) for c, k in named if k not in blind[c]
        )
        shape_uses[names[index]] = tuple((c, k) for c, k in named if k in blind[c])
    return grad_uses, shape_uses


def _boundary(
    specs: Mapping[str, NodeSpec], members: frozenset[str], uses: dict[str, Uses]
) -> frozenset[str]:
    """The operands and consumers of ``members`` that are not members themselves."""
    found: set[str] = set()
    for name in members:
        found.update(o for o in specs[name].operands if isinstance(o, str))
        found.update(c for c, _ in uses[name])
    return frozenset(found - members)


def _shapes(plan: Plan, run: DrawnRun | None, visible: Iterable[str]) -> dict[str, str]:
    if run is not None:
        return {n: format_shape(run.shape(n)) for n in visible}
    try:
        static = static_shapes(plan)
    except ShapeError:  # draw it anyway: the picture is how one finds the culprit
        static = dict.fromkeys(plan.ir.names)
    return {n: "?" if s is None else format_shape(s) for n, s in static.items()}


def _last_use(plan: Plan) -> dict[str, int]:
    """The forward step after which each released value goes."""
    names = plan.ir.names
    return {
        names[index]: number
        for number, step in enumerate(plan.forward_steps, start=1)
        for index in step.release
    }


def _steps(
    plan: Plan, run: DrawnRun | None, visible: Iterable[str]
) -> dict[str, tuple[int, int | None]]:
    """``(forward step, backward step)`` of each node drawn (inputs: step 0)."""
    if run is not None:
        return {n: run.step(n) for n in visible}
    return {name: (plan.step_numbers[k], None) for k, name in enumerate(plan.ir.names)}


def _extra_ids(ir: IR, members: frozenset[str], prefix: str) -> dict[tuple[str, str], str]:
    """Ids for the extra nodes (gradient sums, seeds) that no node name can take."""
    taken = set(ir.names)

    def fresh(base: str) -> str:
        candidate = base
        while candidate in taken:
            candidate += "'"
        taken.add(candidate)
        return quote_id(prefix + candidate)

    ids = {("sum", name): fresh(f"∑ {name}") for name in ir.names if name in members}
    ids.update({("seed", name): fresh(f"seed {name}") for name in ir.outputs})
    return ids
