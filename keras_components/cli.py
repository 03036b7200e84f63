"""The `keras-components` command: `demo`, `bench`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _demo(args: argparse.Namespace) -> int:
    from keras_components import _demo

    _demo.run(args.out, epochs=args.epochs, verbose=0 if args.quiet else 1)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from keras_components import bench

    return bench.main(args.bench_args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="keras-components",
        description="Keras 3 components: activations, losses, streaming metrics.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser(
        "demo", help="train, save, export and reload a small model (the main job)"
    )
    demo.add_argument("--out", default="saved_models/demo", help="output folder")
    demo.add_argument("--epochs", type=int, default=8)
    demo.add_argument("--quiet", action="store_true")
    demo.set_defaults(handler=_demo)

    bench = commands.add_parser(
        "bench",
        help="time our components against Keras's built-ins",
        add_help=False,
    )
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(handler=_bench)

    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _quiet_tensorflow()
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
