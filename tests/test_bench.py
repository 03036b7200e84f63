"""The benchmark harness: its arithmetic (with a fake clock) and a quick run."""

import itertools
import math

import pytest

from keras_components import bench
from keras_components.bench import claims
from keras_components.bench.harness import (
    Case,
    format_row,
    format_table,
    measure,
    table_header,
)


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


def test_comparison_column_lines_up_with_the_header():
    case = Case("x", lambda: None, lambda: None, "b", target=2.0)
    result = measure(case, rounds=1, warmup=0, clock=fake_clock([3.0, 1.0]))
    header, rule = table_header("ratio, BFC allocator").splitlines()
    row = format_row(result, compare="1.25")
    assert header.count("|") == rule.count("|") == row.count("|")
    assert "| ratio, BFC allocator |" in header
    assert "| 3.00 (3.00-3.00) | 1.25 | <= 2 | **no** |" in row


def test_measure_with_reference_reports_ratio_of_added_medians():
    # Each round: reference, then ours/baseline alternating as above.
    timings = [
        1.0, 3.0, 2.0,  # round 0: ref 1, ours 3, base 2
        2.0, 1.5, 9.0,  # round 1: ref 2, base 1.5, ours 9
        1.5, 4.0, 2.5,  # round 2: ref 1.5, ours 4, base 2.5
    ]  # fmt: skip
    case = Case(
        "x",
        ours=lambda: None,
        baseline=lambda: None,
        baseline_name="b",
        target=3.0,
        reference=lambda: None,
    )
    result = measure(case, rounds=3, warmup=0, clock=fake_clock(timings))
    # Medians: ref 1.5, ours 4, base 2 -> added 2.5 and 0.5, ratio 5.
    assert result.ours_ms == pytest.approx(2500.0)
    assert result.baseline_ms == pytest.approx(500.0)
    assert result.ratio == pytest.approx(5.0)
    assert result.passed is False


def test_measure_rejects_zero_rounds():
    case = Case("x", lambda: None, lambda: None, "b")
    with pytest.raises(ValueError, match="argument `rounds`"):
        measure(case, rounds=0)


def test_quick_run_of_every_suite():
    results = bench.run(quick=True, rounds=2, warmup=1)
    assert {r.case.group for r in results} == set(bench.SUITES)
    timed = [r for r in results if r.case.reference is None]
    assert all(r.ratio > 0 and r.ours_ms > 0 for r in timed)
    # An added cost (time with - time without) may come out <= 0 in a quick,
    # noisy run; it must still be a number.
    assert all(math.isfinite(r.ours_ms) for r in results)
    assert any(r.case.target is not None for r in results)


def test_unknown_suite():
    with pytest.raises(ValueError, match="argument `suites`"):
        bench.run(["nope"], quick=True)


# --------------------------------------------------------------------------
# `keras-components bench claims`: Keras's value, ours, a reference
# --------------------------------------------------------------------------
CLAIMED = (
    "R2Score, float32 targets around 1e4",
    "CategoricalFocalCrossentropy(from_logits=True), logits +-100: value",
    "CategoricalFocalCrossentropy(from_logits=True), logits +-100: gradient",
    "Dice loss, empty mask predicted empty",
    "Tversky loss, empty mask predicted empty",
    "F1Score, sparse labels",
    "F1Score, masks",
    "AUC(num_thresholds=200, curve='ROC')",
    "AUC(num_thresholds=200, curve='PR')",
)


def test_claims_print_every_claim_and_ours_hold(capsys):
    # Through `python -m benchmarks`' function, on small data. Only our column
    # is checked (against scikit-learn / float64); Keras's is printed.
    assert bench.main(["claims", "--quick"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    for claim in CLAIMED:
        matching = [row for row in rows if row.startswith(f"| {claim}")]
        assert matching, claim
        assert all(row.endswith("| yes |") for row in matching), matching
    assert "All" in out
    assert "bench activations" in out  # where the Mish time claim is measured


def test_claims_fail_the_command_when_one_of_ours_does_not_hold(monkeypatch, capsys):
    broken = claims.Claim("a claim", "1", "2", "3 (reference)", "within 0", False)
    monkeypatch.setattr(claims, "CLAIMS", (lambda *, quick: [broken],))
    assert bench.main(["claims"]) == 1
    out = capsys.readouterr().out
    assert "| a claim | 1 | 2 | 3 (reference) | within 0 | **no** |" in out
    assert "1 of our claims do not hold" in out


# --------------------------------------------------------------------------
# `keras-components bench backends`: JAX and PyTorch, one subprocess each
# --------------------------------------------------------------------------
def test_backends_suite_quick_runs_each_backend_in_its_own_process(capsys):
    # Quick mode only checks that the rows run on every backend and come back
    # through the subprocesses; their timings mean nothing.
    from keras_components.bench import backends

    assert bench.main(["backends", "--quick", "--rounds", "1", "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    for label in ("JAX", "PyTorch"):
        for name, baseline in (
            ("mish fwd+bwd 64x32", "keras silu"),
            ("mish fwd+bwd 64x32", "keras mish"),
            ("FocalLoss fwd+bwd 256x10 logits", "keras CategoricalFocalCrossentropy"),
            ("F1 update+result (512, 10) one-hot", "keras F1Score"),
            ("AUROC (16384 bins) update+result 512", "keras AUC(200)"),
        ):
            assert any(
                row.startswith(f"| {label} {name} eager | ")
                and f"| {baseline} |" in row
                for row in rows
            ), (label, name, baseline, rows)
    assert any(row.startswith("| JAX mish fwd+bwd 64x32 jit |") for row in rows)
    assert set(backends.BACKENDS) == {"jax", "torch"}


def test_backends_suite_reports_a_failing_subprocess(monkeypatch):
    from keras_components.bench import backends

    monkeypatch.setenv("KERAS_BACKEND", "jax")
    with pytest.raises(RuntimeError, match="nope benchmark subprocess failed"):
        backends.run(quick=True, rounds=1, warmup=0, backends=("nope",))
