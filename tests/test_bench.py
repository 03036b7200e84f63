"""The benchmark harness: its arithmetic (with a fake clock) and a quick run."""

import itertools

import pytest

from keras_components import bench
from keras_components.bench.harness import Case, format_table, measure


def fake_clock(durations):
    """A clock whose successive intervals are `durations` (start/stop pairs)."""
    ticks = itertools.accumulate(d for pair in durations for d in (0.0, pair))
    return lambda: next(ticks)


def test_measure_reports_median_of_ratios():
    # Rounds alternate order: ours first on even rounds, baseline first on odd.
    timings = [
        2.0,
        1.0,  # round 0: ours 2, base 1 -> 2.0
        1.0,
        4.0,  # round 1: base 1, ours 4 -> 4.0
        3.0,
        1.0,
    ]  # round 2: ours 3, base 1 -> 3.0
    case = Case(
        "x", ours=lambda: None, baseline=lambda: None, baseline_name="b", target=2.5
    )
    result = measure(case, rounds=3, warmup=0, clock=fake_clock(timings))
    assert result.ratio == 3.0
    assert result.ours_ms == 3000.0
    assert result.baseline_ms == 1000.0
    assert result.passed is False
    assert "| x |" in format_table([result])


def test_measure_rejects_zero_rounds():
    case = Case("x", lambda: None, lambda: None, "b")
    with pytest.raises(ValueError, match="argument `rounds`"):
        measure(case, rounds=0)


def test_quick_run_of_every_suite():
    results = bench.run(quick=True, rounds=2, warmup=1)
    assert {r.case.group for r in results} == set(bench.SUITES)
    assert all(r.ratio > 0 and r.ours_ms > 0 for r in results)
    assert any(r.case.target is not None for r in results)


def test_unknown_suite():
    with pytest.raises(ValueError, match="argument `suites`"):
        bench.run(["nope"], quick=True)
