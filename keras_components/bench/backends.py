"""Per-backend rows: Mish, FocalLoss, F1 and AUROC on JAX and on PyTorch.

The rows are the TensorFlow suites' own (`activations.mish_rows`,
`losses.focal_rows`, `classification.f1_rows`, `ranking.auroc_rows`), built
on another backend: Keras fixes its backend when it is first imported, so
each backend runs in its own subprocess (`KERAS_BACKEND` set), where ours and
Keras's built-in are timed side by side as in every other row.

Modes per backend (see `_steps`):
- JAX: "eager" (op by op, `jax.vjp` / `update_state` outside `jax.jit`) and
  "jit" (`jax.jit`, i.e. XLA: what `jit_compile="auto"` and `True` run on
  JAX; metrics through their stateless API, as Keras's JAX trainer does).
- PyTorch: "eager" (what `jit_compile="auto"` runs on PyTorch) and, for the
  activation and loss rows, "torch.compile" (what Keras's torch trainer
  wraps its step in when `jit_compile=True`); not in quick mode, where
  compiling would take most of the run.
The targets are the TensorFlow rows' own. The Mish-vs-SiLU target applies
to the modes Keras's `compile` picks (JAX `jit`, PyTorch eager and
`torch.compile`), not to JAX's op-by-op eager (informative, as on
TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence

import keras

from keras_components.bench import activations, classification, losses, ranking
from keras_components.bench.harness import Case, Result, run_cases

BACKENDS = ("jax", "torch")
LABELS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
GROUP = "backends"
_ROW_PREFIX = "BENCH-ROW "


def _modes(backend: str, *, quick: bool) -> dict[str, tuple[bool | None, ...]]:
    """Modes of the activation/loss rows and of the metric rows on `backend`."""
    if backend == "jax":
        return {"functions": (None, True), "metrics": (None, True)}
    if backend == "torch":
        return {"functions": (None,) if quick else (None, True), "metrics": (None,)}
    return {"functions": (False, True), "metrics": (False, True)}


def cases(*, quick: bool = False) -> list[Case]:
    """The per-backend rows on the current Keras backend, in this process."""
    backend = keras.backend.backend()
    modes = _modes(backend, quick=quick)
    x, upstream, size = activations._inputs(quick)
    one_hot, logits, _ = losses._focal_inputs(quick)
    _, f1_pred, f1_true, _ = classification._inputs(quick)
    y, scores, _ = ranking._inputs(quick)
    rows = []
    for jit in modes["functions"]:
        op_by_op = jit is None and backend != "torch"
        silu_target = None if op_by_op else activations.MISH_VS_SILU_TARGET
        rows += activations.mish_rows(
            x, upstream, size, jit=jit, silu_target=silu_target
        )
    for jit in modes["functions"]:
        rows += losses.focal_rows(one_hot, logits, jit=jit)
    for jit in modes["metrics"]:
        rows += classification.f1_rows(f1_true, f1_pred, jit=jit)
    for jit in modes["metrics"]:
        rows += ranking.auroc_rows(y, scores, jit=jit)
    label = LABELS.get(backend, backend)
    return [
        Case(f"{label} {c.name}", c.ours, c.baseline, c.baseline_name, c.target, GROUP)
        for c in rows
    ]


def description() -> str:
    """The versions the subprocesses will use, read without importing them."""
    from importlib import metadata

    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"backends suite: JAX {version('jax')} (modes eager, jit), PyTorch "
        f"{version('torch')} (modes eager, torch.compile), one subprocess per "
        "backend"
    )


def _row_payload(result: Result) -> str:
    return _ROW_PREFIX + json.dumps(
        {
            "name": result.case.name,
            "baseline": result.case.baseline_name,
            "target": result.case.target,
            "ours_ms": result.ours_ms,
            "baseline_ms": result.baseline_ms,
            "ratio": result.ratio,
            "ratio_iqr": [result.ratio_low, result.ratio_high],
            "rounds": result.rounds,
        }
    )


def _not_in_this_process() -> None:
    raise RuntimeError("This row was measured in a subprocess on another backend.")


def _result_from_payload(line: str) -> Result:
    row = json.loads(line[len(_ROW_PREFIX) :])
    case = Case(
        row["name"],
        _not_in_this_process,
        _not_in_this_process,
        row["baseline"],
        row["target"],
        GROUP,
    )
    low, high = row["ratio_iqr"]
    return Result(
        case, row["ours_ms"], row["baseline_ms"], row["ratio"], low, high, row["rounds"]
    )


def run(
    *,
    quick: bool = False,
    rounds: int = 25,
    warmup: int = 3,
    progress: Callable[[Result], None] | None = None,
    backends: Sequence[str] = BACKENDS,
) -> list[Result]:
    """Measures `cases()` in one subprocess per backend; returns their results.

    Each row is passed to `progress` as soon as its subprocess reports it.
    """
    package_root = os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    )
    results = []
    for backend in backends:
        env = dict(os.environ, KERAS_BACKEND=backend)
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, os.environ.get("PYTHONPATH")) if p
        )
        code = "import sys; from keras_components.bench import backends; "
        code += "sys.exit(backends._child(sys.argv[1:]))"
        command = [sys.executable, "-c", code]
        command += ["--rounds", str(rounds), "--warmup", str(warmup)]
        command += ["--quick"] if quick else []
        with tempfile.TemporaryFile("w+") as errors:
            with subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
            ) as child:
                for line in child.stdout:
                    if line.startswith(_ROW_PREFIX):
                        result = _result_from_payload(line)
                        results.append(result)
                        if progress is not None:
                            progress(result)
            if child.returncode != 0:
                errors.seek(0)
                tail = errors.read()[-4000:]
                raise RuntimeError(
                    f"The {backend} benchmark subprocess failed (exit status "
                    f"{child.returncode}, KERAS_BACKEND={backend}):\n{tail}"
                )
    return results


def _child(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    def report(result: Result) -> None:
        print(_row_payload(result), flush=True)

    run_cases(
        cases(quick=args.quick),
        rounds=args.rounds,
        warmup=args.warmup,
        progress=report,
    )
    return 0


if __name__ == "__main__":
    sys.exit(_child())
