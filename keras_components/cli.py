"""The `keras-components` commands: demo, evaluate, catalog, bench (claims).

The parser lives in the top-level module `keras_components_cli` (the console
entry point), which imports nothing heavy, so `--version` and `--help` need
no TensorFlow and TensorFlow's log level is set before TensorFlow is
imported. This module runs the parsed commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _verdict(report: dict, out: str) -> int:
    """The last lines of `demo` and `evaluate`, and their exit code."""
    print(f"Output folder: {out}")
    if report["passed"]:
        print("all checks passed")
        return 0
    print("FAILED:\n  " + "\n  ".join(report["failures"]))
    return 1


def _demo(args: argparse.Namespace) -> int:
    from keras_components import _demo

    report = _demo.run(
        args.out,
        dataset=args.dataset,
        epochs=args.epochs,
        seed=args.seed,
        verbose=0 if args.quiet else 1,
    )
    return _verdict(report, args.out)


def _evaluate(args: argparse.Namespace) -> int:
    from keras_components import _evaluate

    try:
        report = _evaluate.run(
            args.model,
            args.data,
            x_key=args.x_key,
            y_key=args.y_key,
            task=args.task,
            outputs=args.outputs,
            class_names=args.class_names,
            out_dir=args.out,
            batch_size=args.batch_size,
            verbose=0 if args.quiet else 1,
        )
    except ValueError as error:
        print(f"keras-components evaluate: error: {error}", file=sys.stderr)
        return 2
    return _verdict(report, report["out"])


def _bench(args: argparse.Namespace) -> int:
    from keras_components import bench

    return bench.run_command(args)


def _catalog(args: argparse.Namespace) -> int:
    from keras_components import _catalog

    sys.stdout.write(_catalog.render(args.format, args.role))
    return 0


_COMMANDS = {
    "demo": _demo,
    "evaluate": _evaluate,
    "catalog": _catalog,
    "bench": _bench,
}


def run(args: argparse.Namespace) -> int:
    """Runs a command parsed by `keras_components_cli.parse_args`."""
    return _COMMANDS[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """`keras-components ARGS` from Python; the same as the console command."""
    import keras_components_cli

    return keras_components_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
