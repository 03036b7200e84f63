"""The `keras-components` command line: the console entry point.

This module sits outside the `keras_components` package on purpose. Importing
anything inside the package runs `keras_components/__init__.py`, which imports
Keras and so TensorFlow, and TensorFlow prints its C++ log lines while it is
imported. So this module imports only the standard library:

- `keras-components --version` and every `--help` answer without importing
  TensorFlow at all (the version is read from the package source, as
  setuptools reads it for `version = attr: ...`).
- Before a command imports TensorFlow, `TF_CPP_MIN_LOG_LEVEL` is set to 3
  unless the user set it. In TensorFlow 2.21 that variable does not silence
  the lines printed while TensorFlow's libraries load (absl's "All log
  messages before absl::InitializeLog() ..." line, the oneDNN and CUDA-driver
  notices): they come before TensorFlow reads it. So, only when the user left
  the variable unset, the first import runs with the process's standard error
  written to a temporary file; afterwards the C++ INFO, WARNING and ERROR log
  lines and absl's notice are dropped and everything else (Python warnings,
  FATAL lines) is written back. If the import fails, everything is written
  back. Set `TF_CPP_MIN_LOG_LEVEL` yourself to see TensorFlow's own logging
  untouched.

A plain `import keras_components` (library use) changes nothing in the
environment: only this command line quiets TensorFlow.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.metadata
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence

PROG = "keras-components"

# The timing suites of `keras-components bench` (keras_components/bench);
# `claims` is the side-by-side accuracy check. Kept here, not imported, so
# that `bench --help` needs no TensorFlow; a test checks both lists agree.
BENCH_SUITES = (
    "activations",
    "losses",
    "classification",
    "ranking",
    "callbacks",
    "backends",
)
CLAIMS = "claims"
# The demo's bundled datasets (keras_components/_demo.py; a test checks).
DEMO_DATASETS = ("breast_cancer", "digits")

# `keras-components catalog` choices (keras_components/_catalog.py; a test
# checks they agree).
CATALOG_FORMATS = ("text", "markdown", "json")
CATALOG_ROLES = ("activation", "loss", "metric")

# A C++ log line from TensorFlow / XLA / absl below FATAL, as absl writes it
# ("I0000 00:00:1796116924.448207    9338 port.cc:153] ..." before absl's
# clock is set up, "W1203 14:05:09.123456 ..." after).
_LOG_LINE = re.compile(
    r"^(?:[IWE]\d{4} [\d:.]+\s+\d+ [^\s:\]]+:\d+\] "
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)


def package_version() -> str:
    """`keras_components.__version__`, read without importing the package."""
    module = sys.modules.get("keras_components")
    if module is not None and hasattr(module, "__version__"):
        return module.__version__
    spec = importlib.util.find_spec("keras_components")
    if spec is not None and spec.origin:
        with contextlib.suppress(OSError, SyntaxError, ValueError):
            with open(spec.origin, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in tree.body:
                if (
                    isinstance(node, ast.Assign)
                    and any(
                        isinstance(t, ast.Name) and t.id == "__version__"
                        for t in node.targets
                    )
                    and isinstance(node.value, ast.Constant)
                ):
                    return str(node.value.value)
    try:
        return importlib.metadata.version("keras-components")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {text!r}"
            )
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `keras-components bench` (also `python -m benchmarks`)."""
    parser.add_argument(
        "suites",
        nargs="*",
        metavar="SUITE",
        help=(
            f"timing suites to run, any of {', '.join(BENCH_SUITES)} (default: "
            f"all of them); or '{CLAIMS}': for each claim in the README, Keras's "
            "value next to ours and a scikit-learn / float64 reference"
        ),
    )
    parser.add_argument(
        "--rounds",
        type=_positive_int,
        default=25,
        metavar="N",
        help="timed rounds per row; the table reports their median (default: 25)",
    )
    parser.add_argument(
        "--warmup",
        type=_non_negative_int,
        default=3,
        metavar="N",
        help="untimed runs of each side before timing (default: 3)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny inputs: checks that everything runs; timings mean nothing",
    )
    parser.add_argument(
        "--json", metavar="PATH", help="also write the timing rows as JSON to PATH"
    )
    parser.add_argument(
        "--compare",
        metavar="PATH",
        help=(
            "add a column with each row's ratio from PATH, the --json file of an "
            "earlier run (e.g. one with --bfc-allocator)"
        ),
    )
    allocator = parser.add_mutually_exclusive_group()
    allocator.add_argument(
        "--bfc-allocator",
        action="store_true",
        help=(
            "time under TensorFlow's BFC CPU allocator (TF_CPU_ALLOCATOR_USE_BFC="
            "true), for both sides alike; by default TensorFlow's default CPU "
            "allocator is used, as in a user's process"
        ),
    )
    allocator.add_argument(
        "--system-allocator",
        action="store_true",
        help=(
            "deprecated, no effect: TensorFlow's default CPU allocator is now the "
            "default (--bfc-allocator selects the BFC allocator)"
        ),
    )


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The `keras-components` parser and its `bench` sub-parser."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Keras 3 components: activations, losses, streaming metrics.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {package_version()}",
        help="print the package version and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="train, report, save, export and reload a small model (the main job)",
        description=(
            "Train a small classifier on a dataset bundled with scikit-learn (no "
            "download) with our activations, FocalLoss and metrics; report "
            "validation metrics every epoch; compare them with scikit-learn; draw "
            "the training curves, ROC, precision-recall and confusion matrix; save "
            "the model as .keras and SavedModel, reload both and verify their "
            "predictions. Exits non-zero if any check fails."
        ),
    )
    demo.add_argument(
        "--dataset",
        choices=DEMO_DATASETS,
        default=DEMO_DATASETS[0],
        help="breast_cancer: binary, imbalanced (default); digits: 10 classes",
    )
    demo.add_argument(
        "--out",
        default="saved_models/demo",
        metavar="DIR",
        help="output folder (default: saved_models/demo)",
    )
    demo.add_argument(
        "--epochs", type=_positive_int, default=12, help="training epochs (default: 12)"
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the split and the initial weights (default: 0)",
    )
    demo.add_argument(
        "--quiet",
        action="store_true",
        help="print only the output folder and the pass/fail line",
    )
    evaluate = commands.add_parser(
        "evaluate",
        help="the validation report and pictures of a saved model on stored data",
        description=(
            "Load a saved Keras model (ours or plain Keras), predict the stored "
            "inputs, and print our metrics next to scikit-learn's on the same "
            "predictions; write roc.png, pr.png, confusion_matrix.png and "
            "report.json. Exits non-zero if ours and scikit-learn's disagree."
        ),
    )
    evaluate.add_argument("model", metavar="MODEL", help="the saved model (.keras)")
    evaluate.add_argument(
        "--data",
        required=True,
        metavar="FILE",
        help="inputs and labels: a .npz file, or a .csv file with a header row",
    )
    evaluate.add_argument(
        "--x",
        dest="x_key",
        metavar="KEY",
        help="the inputs' array in the .npz (default: x), or comma-separated "
        "feature columns of the .csv (default: every column but the labels)",
    )
    evaluate.add_argument(
        "--y",
        dest="y_key",
        metavar="KEY",
        help="the labels' array or column (default: y)",
    )
    evaluate.add_argument(
        "--task",
        choices=("auto", "binary", "multiclass"),
        default="auto",
        help="auto: binary for one output unit, else multiclass (default: auto)",
    )
    evaluate.add_argument(
        "--outputs",
        choices=("auto", "logits", "probabilities"),
        default="auto",
        help="what the model outputs; auto reads the last layer's activation "
        "(sigmoid/softmax: probabilities, linear: logits)",
    )
    evaluate.add_argument(
        "--class-names",
        metavar="A,B,...",
        type=lambda text: [name.strip() for name in text.split(",")],
        help="comma-separated class names for the tables and pictures",
    )
    evaluate.add_argument(
        "--batch-size",
        type=_positive_int,
        default=256,
        help="prediction batch size (default: 256)",
    )
    evaluate.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default: MODEL's name + _evaluation, next to it)",
    )
    evaluate.add_argument(
        "--quiet",
        action="store_true",
        help="print only the output folder and the pass/fail line",
    )
    bench = commands.add_parser(
        "bench",
        help="time our components against Keras's built-ins; 'bench claims' "
        "compares their values",
        description=(
            "Time our components against Keras's closest built-ins, side by side "
            "in one process; or, with 'claims', print Keras's value, ours and a "
            "reference for each documented claim."
        ),
    )
    add_bench_arguments(bench)
    catalog = commands.add_parser(
        "catalog",
        help="every activation, loss and metric: role, import path, inputs, formula",
        description=(
            "List every activation, loss and metric, ours and the Keras core "
            "ones we point to: its role, where it lives, its input forms, its "
            "formula and, for metrics, the scikit-learn function it equals."
        ),
    )
    catalog.add_argument(
        "--format",
        choices=CATALOG_FORMATS,
        default="text",
        help="text (a reference card), markdown (tables) or json (default: text)",
    )
    catalog.add_argument(
        "--role",
        choices=CATALOG_ROLES,
        help="list only this role (default: all three)",
    )
    return parser, bench


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parses the command line; options and suite names may come in any order."""
    parser, bench = build_parser()
    args, extras = parser.parse_known_args(argv)
    if args.command == "bench":
        # argparse fills a `nargs="*"` positional from one run of words only:
        # names after an option ("bench --quick losses ranking" is fine,
        # "bench losses --quick ranking" leaves "ranking") come back here.
        words = [e for e in extras if not e.startswith("-")]
        if len(words) < len(extras):
            bench.error(f"unrecognized arguments: {' '.join(extras)}")
        args.suites = [*args.suites, *words]
        unknown = [s for s in args.suites if s not in (*BENCH_SUITES, CLAIMS)]
        if unknown:
            bench.error(
                f"unknown suite(s) {', '.join(unknown)}: choose from "
                f"{', '.join((*BENCH_SUITES, CLAIMS))}"
            )
    elif extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


@contextlib.contextmanager
def _drop_tensorflow_log_lines() -> Iterator[None]:
    """Runs the body with file descriptor 2 captured, then replays it filtered."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    failed = False
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            lines = capture.read().decode(errors="replace").splitlines(keepends=True)
            kept = lines if failed else [s for s in lines if not _LOG_LINE.match(s)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_tensorflow_import() -> None:
    """Sets `TF_CPP_MIN_LOG_LEVEL=3` (unless set) and imports the package quietly.

    Does nothing to standard error when the user set `TF_CPP_MIN_LOG_LEVEL`
    or the package is already imported (TensorFlow has then printed its
    load-time lines already, or chose not to).
    """
    if "keras_components" in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        return
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        import keras_components

        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    with _drop_tensorflow_log_lines():
        import keras_components  # noqa: F401


def _select_bench_allocator(args: argparse.Namespace) -> None:
    """`--bfc-allocator` sets `TF_CPU_ALLOCATOR_USE_BFC` before TensorFlow loads.

    TensorFlow reads the variable once, when it creates its CPU allocator, so
    it is set before the import. Without the option the environment is left
    as the user has it (TensorFlow's default allocator unless they set the
    variable themselves; the machine line of the output says which).
    """
    if args.system_allocator:
        print(
            f"{PROG} bench: --system-allocator is deprecated and has no effect: "
            "TensorFlow's default CPU allocator is now the default "
            "(--bfc-allocator selects the BFC allocator).",
            file=sys.stderr,
            flush=True,
        )
    if args.bfc_allocator:
        os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = "true"


def main(argv: Sequence[str] | None = None) -> int:
    """Runs `keras-components ARGS`; returns the exit status."""
    args = parse_args(argv)
    if args.command is None:
        build_parser()[0].print_help()
        return 0
    if args.command == "bench":
        _select_bench_allocator(args)
    quiet_tensorflow_import()
    from keras_components import cli

    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())
