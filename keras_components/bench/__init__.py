"""The performance suite: our components side by side with Keras's built-ins.

Run it with `keras-components bench` (or `python -m benchmarks` from a
checkout). Every row times ours and the Keras baseline in the same process,
interleaved, and reports the median of per-round time ratios; rows with a
target print whether it is met. Timings are for the TensorFlow backend on the
machine at hand; the README records a reference table with its date and host.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
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

__all__ = ["SUITES", "Case", "Result", "main", "run"]


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
    parser = argparse.ArgumentParser(
        prog="keras-components bench",
        description="Time our components against Keras's built-ins.",
    )
    parser.add_argument(
        "suites", nargs="*", help=f"suites to run (default: all of {sorted(SUITES)})"
    )
    parser.add_argument("--rounds", type=int, default=25, help="timed rounds per row")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm-up runs")
    parser.add_argument(
        "--quick", action="store_true", help="tiny inputs: checks the suite runs"
    )
    parser.add_argument("--json", metavar="PATH", help="also write results as JSON")
    parser.add_argument(
        "--system-allocator",
        action="store_true",
        help="keep TensorFlow's default CPU allocator (noisier timings)",
    )
    args = parser.parse_args(argv)
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
        args.suites,
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
    return 0


__all__ += ["format_table"]
