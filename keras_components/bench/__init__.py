"""The performance suite: our components side by side with Keras's built-ins.

Run it with `keras-components bench` (or `python -m benchmarks` from a
checkout); `keras-components bench claims` prints the accuracy claims side
by side instead (`keras_components.bench.claims`). Every row times ours and
the Keras baseline in the same process, interleaved, and reports the median
of per-round time ratios; rows with a target print whether it is met.
Timings are for the TensorFlow backend on the machine at hand (the
`backends` suite: on JAX and PyTorch, one subprocess each), under
TensorFlow's default CPU allocator as a user's process has it (the command's
`--bfc-allocator` switches to the BFC allocator); the README records a
reference table with its date and host.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Callable, Sequence

from keras_components.bench import (
    activations,
    backends,
    callbacks,
    classification,
    losses,
    ranking,
)
from keras_components.bench.harness import (
    Case,
    Result,
    format_row,
    format_table,
    run_cases,
    table_header,
)

SUITES: dict[str, Callable[..., list[Case]]] = {
    "activations": activations.cases,
    "losses": losses.cases,
    "classification": classification.cases,
    "ranking": ranking.cases,
    "callbacks": callbacks.cases,
    # Measured in one subprocess per backend (`backends.run`); `cases` builds
    # the rows on the current backend.
    "backends": backends.cases,
}

__all__ = ["SUITES", "Case", "Result", "main", "run", "run_command"]


def _print_row(result: Result) -> None:
    print(format_row(result), flush=True)


def run(
    suites: Sequence[str] | None = None,
    *,
    quick: bool = False,
    rounds: int = 25,
    warmup: int = 3,
    verbose: bool = False,
    progress: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Runs the named suites (all by default) and returns their results.

    `verbose` prints each row as it is measured; `progress`, if given, is
    called with each result instead.
    """
    names = list(suites or SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise ValueError(
            f"Invalid value for argument `suites`. Expected names from "
            f"{sorted(SUITES)}. Received: suites={unknown!r}"
        )
    if progress is None and verbose:
        progress = _print_row
    local = [n for n in names if n != "backends"]
    cases = [case for name in local for case in SUITES[name](quick=quick)]
    results = run_cases(cases, rounds=rounds, warmup=warmup, progress=progress)
    if "backends" in names:
        results += backends.run(
            quick=quick, rounds=rounds, warmup=warmup, progress=progress
        )
    return results


def allocator_in_use() -> str:
    """`"BFC"` if `TF_CPU_ALLOCATOR_USE_BFC` is set true, else `"default"`."""
    use_bfc = os.environ.get("TF_CPU_ALLOCATOR_USE_BFC", "").strip().lower()
    return "BFC" if use_bfc in ("1", "true") else "default"


def machine_description() -> str:
    import keras

    backend = keras.backend.backend()
    versions = f"Keras {keras.__version__}"
    if backend == "tensorflow":
        import tensorflow as tf

        versions += f", TensorFlow {tf.__version__}"
    cpu = platform.processor() or platform.machine()
    return (
        f"{datetime.date.today().isoformat()}, {cpu}, {os.cpu_count()} CPU cores, "
        f"{backend} backend, {versions}, {allocator_in_use()} CPU allocator"
    )


def _row_key(group: str, name: str, baseline: str) -> tuple[str, str, str]:
    return (group, name, baseline)


def load_comparison(path: str) -> tuple[str, dict[tuple[str, str, str], float]]:
    """The column label and per-row ratios of an earlier run's `--json` file."""
    try:
        with open(path) as f:
            payload = json.load(f)
        ratios = {
            _row_key(row["group"], row["name"], row["baseline"]): float(row["ratio"])
            for row in payload["rows"]
        }
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(
            "Invalid value for argument `--compare`. Expected a file written by "
            f"`keras-components bench --json`. Received: --compare={path!r} "
            f"({type(error).__name__}: {error})"
        ) from None
    allocator = payload.get("allocator")
    label = f"ratio, {allocator} allocator" if allocator else "ratio, earlier run"
    return label, ratios


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
    if args.bfc_allocator:
        # Set by the command line before TensorFlow is imported; here too for
        # callers of this function (effective if TensorFlow has not created
        # its CPU allocator yet, i.e. before the first op).
        os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = "true"
    label, earlier = (None, {}) if not args.compare else load_comparison(args.compare)

    def progress(result: Result) -> None:
        compare = None
        if label is not None:
            c = result.case
            ratio = earlier.get(_row_key(c.group, c.name, c.baseline_name))
            compare = "-" if ratio is None else f"{ratio:.2f}"
        print(format_row(result, compare=compare), flush=True)

    print(f"Machine: {machine_description()}", flush=True)
    if "backends" in (suites or SUITES):
        print(f"Also: {backends.description()}", flush=True)
    print(flush=True)
    print(table_header(label), flush=True)
    results = run(
        suites,
        quick=args.quick,
        rounds=args.rounds,
        warmup=args.warmup,
        progress=progress,
    )
    if args.json:
        payload = {
            "machine": machine_description(),
            "allocator": allocator_in_use(),
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
