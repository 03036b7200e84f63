"""Side-by-side timing: ours against a Keras built-in, in one process.

Each `Case` pairs two zero-argument callables doing the same work. `measure`
warms both up (tracing, XLA compilation), then runs `rounds` rounds; in each
round both are timed back to back, in alternating order, and the ratio
`ours / baseline` is recorded. The reported figure is the median of those
per-round ratios, which cancels most of the drift a shared machine adds
(frequency changes, neighbours) better than a ratio of medians does.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import keras


@dataclasses.dataclass(frozen=True)
class Case:
    """One benchmark row.

    Attributes:
        name: What is measured, e.g. "mish fwd+bwd (4096, 1024) graph".
        ours: Zero-argument callable running our component once.
        baseline: Zero-argument callable running the reference once.
        baseline_name: How the reference is named in the table.
        target: Maximum acceptable median ratio, or None when informative.
        group: Suite the row belongs to (activations, losses, metrics, ...).
        reference: A third callable timed in every round (None: none):
            the row then reports what each side adds to it, the median time
            of the side less the reference's median, and the ratio of those
            two medians (not a median of per-round ratios of differences,
            which noise dominates), e.g. the cost a metric adds to a
            training epoch. Its range takes each side's quartiles.
    """

    name: str
    ours: Callable[[], Any]
    baseline: Callable[[], Any]
    baseline_name: str
    target: float | None = None
    group: str = ""
    reference: Callable[[], Any] | None = None


@dataclasses.dataclass(frozen=True)
class Result:
    case: Case
    ours_ms: float
    baseline_ms: float
    ratio: float
    ratio_low: float
    ratio_high: float
    rounds: int

    @property
    def passed(self) -> bool | None:
        if self.case.target is None:
            return None
        return self.ratio <= self.case.target


def block(value: Any) -> None:
    """Waits until every tensor in `value` is computed (async backends)."""
    for leaf in keras.tree.flatten(value):
        if hasattr(leaf, "block_until_ready"):  # JAX
            leaf.block_until_ready()
        elif hasattr(leaf, "numpy"):  # TensorFlow eager tensors
            leaf.numpy()
        elif hasattr(leaf, "cpu"):  # torch
            leaf.cpu()


def _time_once(fn: Callable[[], Any], clock: Callable[[], float]) -> float:
    start = clock()
    block(fn())
    return clock() - start


def measure(
    case: Case,
    *,
    rounds: int = 25,
    warmup: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> Result:
    """Times `case` and returns medians and the median of per-round ratios."""
    if rounds < 1:
        raise ValueError(
            f"Invalid value for argument `rounds`. Expected an integer >= 1. "
            f"Received: rounds={rounds!r}"
        )
    for _ in range(warmup):
        block(case.ours())
        block(case.baseline())
        if case.reference is not None:
            block(case.reference())
    ours, base, ratios, ref = [], [], [], []
    for i in range(rounds):
        if case.reference is not None:
            ref.append(_time_once(case.reference, clock))
        if i % 2:
            t_base = _time_once(case.baseline, clock)
            t_ours = _time_once(case.ours, clock)
        else:
            t_ours = _time_once(case.ours, clock)
            t_base = _time_once(case.baseline, clock)
        ours.append(t_ours)
        base.append(t_base)
        ratios.append(t_ours / t_base)
    if ref:
        return _added_cost(case, ours, base, statistics.median(ref), rounds)
    quartiles = statistics.quantiles(ratios, n=4) if rounds >= 2 else ratios * 3
    return Result(
        case=case,
        ours_ms=statistics.median(ours) * 1e3,
        baseline_ms=statistics.median(base) * 1e3,
        ratio=statistics.median(ratios),
        ratio_low=quartiles[0],
        ratio_high=quartiles[-1],
        rounds=rounds,
    )


def _added_cost(
    case: Case, ours: list[float], base: list[float], ref: float, rounds: int
) -> Result:
    """`measure`'s result for a case with a `reference` (see `Case`)."""

    def spread(times):
        if rounds < 2:
            return times[0], times[0]
        quartiles = statistics.quantiles(times, n=4)
        return quartiles[0] - ref, quartiles[-1] - ref

    added_ours = statistics.median(ours) - ref
    added_base = statistics.median(base) - ref
    (ours_low, ours_high), (base_low, base_high) = spread(ours), spread(base)
    tiny = 1e-9  # an added cost at or below 0 is noise: a ratio stays defined
    return Result(
        case=case,
        ours_ms=added_ours * 1e3,
        baseline_ms=added_base * 1e3,
        ratio=added_ours / max(added_base, tiny),
        ratio_low=ours_low / max(base_high, tiny),
        ratio_high=ours_high / max(base_low, tiny),
        rounds=rounds,
    )


def run_cases(
    cases: Iterable[Case],
    *,
    rounds: int = 25,
    warmup: int = 3,
    progress: Callable[[Result], None] | None = None,
) -> list[Result]:
    results = []
    for case in cases:
        result = measure(case, rounds=rounds, warmup=warmup)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def format_row(result: Result, *, compare: str | None = None) -> str:
    """One Markdown table row; `compare` fills an extra column when given."""
    target = "-" if result.case.target is None else f"<= {result.case.target:g}"
    verdict = {None: "", True: "yes", False: "**no**"}[result.passed]
    extra = "" if compare is None else f" {compare} |"
    return (
        f"| {result.case.name} | {result.ours_ms:.2f} | {result.case.baseline_name}"
        f" | {result.baseline_ms:.2f} | {result.ratio:.2f}"
        f" ({result.ratio_low:.2f}-{result.ratio_high:.2f}) |{extra} {target}"
        f" | {verdict} |"
    )


def table_header(compare: str | None = None) -> str:
    """The Markdown table header; `compare` names an extra ratio column."""
    extra = "" if compare is None else f" {compare} |"
    rule = "" if compare is None else "---:|"
    return (
        f"| benchmark | ours (ms) | baseline | baseline (ms) | ratio (IQR) |{extra}"
        " target | met |\n"
        f"|---|---:|---|---:|---:|{rule}---:|:---:|"
    )


TABLE_HEADER = table_header()


def format_table(results: Sequence[Result]) -> str:
    return "\n".join([TABLE_HEADER, *(format_row(r) for r in results)])
