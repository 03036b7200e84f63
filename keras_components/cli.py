"""The `keras-components` command: `demo`, `bench` (and `bench claims`), `catalog`.

The parser lives in the top-level module `keras_components_cli` (the console
entry point), which imports nothing heavy, so `--version` and `--help` need
no TensorFlow and TensorFlow's log level is set before TensorFlow is
imported. This module runs the parsed commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _demo(args: argparse.Namespace) -> int:
    from keras_components import _demo

    _demo.run(args.out, epochs=args.epochs, verbose=0 if args.quiet else 1)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from keras_components import bench

    return bench.run_command(args)


def _catalog(args: argparse.Namespace) -> int:
    from keras_components import _catalog

    sys.stdout.write(_catalog.render(args.format, args.role))
    return 0


_COMMANDS = {"demo": _demo, "bench": _bench, "catalog": _catalog}


def run(args: argparse.Namespace) -> int:
    """Runs a command parsed by `keras_components_cli.parse_args`."""
    return _COMMANDS[args.command](args)


def main(argv: Sequence[str] | None = None) -> int:
    """`keras-components ARGS` from Python; the same as the console command."""
    import keras_components_cli

    return keras_components_cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
