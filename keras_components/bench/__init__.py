"""The performance suite: our components side by side with Keras's built-ins.

Run it with `keras-components bench` (or `python -m benchmarks` from a
checkout); `keras-components bench claims` prints the accuracy claims side
by side instead (`keras_components.bench.claims`). Every row times ours and
the Keras baseline in the same process, interleaved, and reports the median
of per-round time ratios; rows with a target print whether it is met.
Timings are for the TensorFlow backend on the machine at hand; the README
records a reference table with its date and host.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence

from keras_components.bench import activations, classification, losses, ranking
from keras_components.bench.harness import (
    Case,
    Result,
    format_row,
    format_table,
    run_cases,
)

SUITES: dict[str, Callable[..., list[Case]]] = {
    "activations": activations.cases,
    "losses": losses.cases,
    "classification": classification.cases,
    "ranking": ranking.cases,
}

__all__ = ["SUITES", "Case", "Result", "main", "run", "run_command"]


def run(
    suites: Sequence[str] | None = None,
    *,
    quick: bool = False,
    rounds: int = 25,
    warmup: int = 3,
    verbose: bool = False,
) -> list[Result]:
    """Runs the named suites (all by default) and returns their results."""
    names = list(suites or SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ValueError(
            f"Invalid value for argument `suites`. Expected names from "
            f"{sorted(SUITES)}. Received: suites={unknown!r}"
        )
    cases = [case for name in names for case in SUITES[name](quick=quick)]
    progress = (lambda r: print(format_row(r), flush=True)) if verbose else None
    return run_cases(cases, rounds=rounds, warmup=warmup, progress=progress)


def machine_description() -> str:
    import keras

    backend = keras.backend.backend()
    versions = f"Keras {keras.__version__}"
    if backend == "tensorflow":
        import tensorflow as tf

        versions += f", TensorFlow {tf.__version__}"
    cpu = platform.processor() or platform.machine()
    allocator = (
        "BFC CPU allocator"
        if os.environ.get("TF_CPU_ALLOCATOR_USE_BFC", "").lower() in ("1", "true")
        else "default CPU allocator"
    )
    return (
        f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} CPU cores, "
        f"{backend} backend, {versions}, {allocator}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`keras-components bench ARGS` (what `python -m benchmarks ARGS` runs)."""
    import keras_components_cli

    argv = sys.argv[1:] if argv is None else argv
    return keras_components_cli.main(["bench", *argv])


def run_command(args: argparse.Namespace) -> int:
    """Runs `bench` as parsed by `keras_components_cli` (options there).

    `claims` among the suite names prints the claims table first (see
    `keras_components.bench.claims`); the timing suites named (all when none
    is, unless only `claims` is) run after it. Returns 1 when one of our
    claims does not hold, else 0; a missed timing target is reported, not an
    error (timings depend on the machine).
    """
    suites = list(args.suites)
    status = 0
    if "claims" in suites:
        from keras_components.bench import claims

        status = claims.main(quick=args.quick)
        suites = [s for s in suites if s != "claims"]
        if not suites:
            return status
        print(flush=True)
    if not args.system_allocator:
        # TensorFlow's default CPU allocator returns large buffers to the OS and
        # page-faults them back in on every step, which adds more run-to-run
        # noise than the differences we measure. The BFC allocator keeps them;
        # it applies to ours and the baseline alike. Effective only if set
        # before TensorFlow's first allocation (as in this command).
        os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

    print(f"Machine: {machine_description()}\n", flush=True)
    from keras_components.bench.harness import TABLE_HEADER

    print(TABLE_HEADER, flush=True)
    results = run(
        suites,
        quick=args.quick,
        rounds=args.rounds,
        warmup=args.warmup,
        verbose=True,
    )
    if args.json:
        payload = {
            "machine": machine_description(),
            "rows": [
                {
                    "group": r.case.group,
                    "name": r.case.name,
                    "baseline": r.case.baseline_name,
                    "ours_ms": r.ours_ms,
                    "baseline_ms": r.baseline_ms,
                    "ratio": r.ratio,
                    "ratio_iqr": [r.ratio_low, r.ratio_high],
                    "target": r.case.target,
                    "met": r.passed,
                }
                for r in results
            ],
        }
        with open(args.json, "w") as f:
            json.dump(payload, f, indent=2)
    missed = [r for r in results if r.passed is False]
    if missed and not args.quick:
        print(f"\n{len(missed)} row(s) missed their target.")
    return status


__all__ += ["format_table"]
