"""`keras-components catalog`: every activation, loss and metric, in one card.

The card lists our components and the Keras core ones this package points
users to (ReLU, LeakyReLU, PReLU, sigmoid, softmax, the cross-entropies,
MSE / MAE / Huber), each with its role, the dotted path it is imported from,
its input forms, its formula line and, for metrics, the scikit-learn
function it equals.

Our entries are derived from the code, not copied into a second table:

- which components exist: the serialization registry (every public
  component goes through `keras_components._export.export`, so
  `keras.saving.get_custom_objects()` names it `keras_components>Name`); a
  function and a class of the same name (`focal_loss`, `FocalLoss`; `swish`,
  `Swish`) are one entry;
- the role: from the base class (`keras.metrics.Metric`,
  `keras.losses.Loss`, an activation `Layer`) or the module of a function;
- the path: the public package of the defining module plus `__name__`;
- the direction of a metric: its declared `direction`;
- the summary, formula line and scikit-learn function: from the
  docstrings (`formula_from_doc`, `sklearn_from_doc`).

What the code cannot say is declared once in `_OURS`: the input forms, and a
formula or scikit-learn function only where the docstrings state none in a
form the extractor reads (tests refuse an override where the docstring has
one, so the docstring stays the one source). A public activation, loss or
metric without an `_OURS` entry makes `entries()` raise, and a test fails.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import re
import textwrap
from collections.abc import Callable, Iterable
from typing import Any

ROLES = ("activation", "loss", "metric")
FORMATS = ("text", "markdown", "json")

# The seed's taxonomy, one line per role (the top of the card).
ROLE_LINES = {
    "activation": (
        "used inside layers: an element-wise function that adds non-linearity "
        "to what a layer computes; not an objective, nothing to compare with "
        "labels"
    ),
    "loss": (
        "drives training: compares predictions with labels, must be "
        "differentiable in y_pred; the optimiser minimises it"
    ),
    "metric": (
        "judges the model: may be non-differentiable (thresholds, argmax, "
        "counts), is never optimised; declares whether higher or lower is "
        "better"
    ),
}

DIRECTION_WORDS = {"up": "higher is better", "down": "lower is better"}
HEADINGS = {"activation": "Activations", "loss": "Losses", "metric": "Metrics"}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One catalog row.

    Attributes:
        name: The component's name (the class name when there is a class).
        role: `"activation"`, `"loss"` or `"metric"`.
        origin: `"keras_components"` (ours) or `"keras"` (Keras core).
        paths: Importable dotted paths (function and class alike).
        inputs: The accepted input forms, one line.
        formula: The formula line.
        summary: One line saying what it is.
        direction: Metrics: `"up"` or `"down"`; otherwise None.
        sklearn: Metrics: the scikit-learn functions it equals, as
            `sklearn.metrics.name`, optionally followed by a qualifier in
            parentheses (`sklearn.metrics.recall_score (pos_label=0)`).
    """

    name: str
    role: str
    origin: str
    paths: tuple[str, ...]
    inputs: str
    formula: str
    summary: str
    direction: str | None = None
    sklearn: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON-ready data."""
        data = dataclasses.asdict(self)
        data["paths"] = list(self.paths)
        data["sklearn"] = list(self.sklearn)
        return data


# --------------------------------------------------------------------------
# Input forms, shared by the entries that accept the same inputs
# --------------------------------------------------------------------------
ELEMENTWISE = (
    "x: any tensor, element-wise; the output has x's shape and dtype "
    "(half precision computed in float32)"
)
SOFTMAX = "x: logits, normalised over an axis (default the last)"
FOCAL = (
    "y_true int labels (N, ...) / (N, ..., 1) or one-hot / soft (N, ..., C) "
    "(categorical), 0/1 or soft per element (binary, multilabel); "
    "y_pred probabilities or logits (from_logits), (N, ..., C), or (N, ..., 1) "
    "for binary"
)
REGION = (
    "y_true int labels (N, *spatial) / (N, *spatial, 1) or one-hot / multi-hot "
    "(N, *spatial, C); y_pred probabilities or logits (from_logits), "
    "(N, *spatial, C), C = 1 for binary"
)
LOVASZ = (
    "y_true int labels (N, *spatial) / (N, *spatial, 1) or one-hot / soft "
    "(N, *spatial, C), in [0, 1] for binary; y_pred logits (binary, "
    "from_logits=True) or probabilities / logits (multiclass), (N, *spatial, C), "
    "C = 1 for binary"
)
WASSERSTEIN = (
    "y_true +-1 labels, y_pred's shape or one per sample (N,) / (N, 1); "
    "y_pred critic scores (N, ..., K)"
)
KAPPA_LOSS = (
    "y_true int labels (N,) / (N, 1) or one-hot / soft (N, C); y_pred "
    "softmax probabilities (N, C), C = num_classes; one value per batch"
)
COMBINED = "what every child loss accepts: the same y_true, y_pred go to each"
CLASSIFICATION = (
    "y_true int labels (N, *spatial) / (N, *spatial, 1) or one-hot "
    "(N, *spatial, C), 0/1 for binary and multilabel; y_pred probabilities or "
    "logits (from_logits), (N, *spatial, C), or (N, *spatial) / (..., 1) for "
    "binary; decided by argmax (multiclass) or p > threshold"
)
SINGLE_LABEL = CLASSIFICATION.replace(
    ", 0/1 for binary and multilabel", ", 0/1 for binary (no multilabel)"
)
RANKING = (
    "y_true int labels (N,) or one-hot / multi-hot (N, C), 0/1 for binary; "
    "y_pred scores: probabilities or logits (from_logits), (N,) / (N, 1) for "
    "binary or (N, C)"
)
BINARY_SCORES = (
    "y_true 0/1 labels (N,) / (N, 1); y_pred scores of the positive class: "
    "probabilities or logits (from_logits), (N,) / (N, 1)"
)
LOG_LOSS = (
    "y_true int labels (N,) or one-hot (N, C), 0/1 for binary; y_pred "
    "probabilities or logits (from_logits), (N,) / (N, 1) (class 1) or (N, C)"
)
REGRESSION = "y_true, y_pred real values of one shape, (N,) or (N, D) outputs"
CROSSENTROPY_BINARY = (
    "y_true 0/1 or soft, y_pred's shape; y_pred probabilities or logits "
    "(from_logits), (N, ..., K)"
)


@dataclasses.dataclass(frozen=True)
class _Ours:
    """What the code cannot say about one of our components."""

    inputs: str
    formula: str | None = None  # only where the docstrings state none
    sklearn: tuple[str, ...] = ()  # only where the docstrings name none
    ranked: bool = True  # False: not a score to monitor (a matrix)
    # Metrics scikit-learn has no counterpart of: the reference they equal.
    no_sklearn: str = ""


# Keyed by entry name (the class name, else the function name).
_OURS: dict[str, _Ours] = {
    # activations
    "Swish": _Ours(ELEMENTWISE),
    "Mish": _Ours(ELEMENTWISE),
    "GELU": _Ours(ELEMENTWISE),
    # losses
    "FocalLoss": _Ours(FOCAL),
    "DiceLoss": _Ours(REGION),
    "JaccardLoss": _Ours(REGION),
    "TverskyLoss": _Ours(REGION),
    "LovaszLoss": _Ours(LOVASZ),
    "WassersteinLoss": _Ours(WASSERSTEIN),
    "CombinedLoss": _Ours(COMBINED),
    "WeightedKappaLoss": _Ours(KAPPA_LOSS),
    # metrics
    "F1": _Ours(CLASSIFICATION),
    "FBeta": _Ours(CLASSIFICATION),
    "Dice": _Ours(CLASSIFICATION, sklearn=("sklearn.metrics.f1_score",)),
    "Precision": _Ours(CLASSIFICATION),
    "Recall": _Ours(CLASSIFICATION),
    "Specificity": _Ours(
        CLASSIFICATION,
        sklearn=(
            "sklearn.metrics.recall_score (pos_label=0, binary)",
            "sklearn.metrics.multilabel_confusion_matrix (per class)",
        ),
    ),
    "IoU": _Ours(CLASSIFICATION),
    "Accuracy": _Ours(
        CLASSIFICATION,
        formula="accuracy = sum_c O_cc / sum(O) (multilabel: rows right in all labels)",
    ),
    "HammingLoss": _Ours(
        CLASSIFICATION,
        formula="hamming = 1 - sum_c O_cc / sum(O) (multilabel: sum(fp + fn) / cells)",
    ),
    "BalancedAccuracy": _Ours(
        SINGLE_LABEL,
        formula="mean over classes present in y_true of tp_c / (tp_c + fn_c)",
    ),
    "MCC": _Ours(SINGLE_LABEL),
    "CohenKappa": _Ours(SINGLE_LABEL),
    "ConfusionMatrix": _Ours(
        CLASSIFICATION,
        formula="O[i, j] = sum of weights with true class i, predicted j "
        "(multilabel: per class [[tn, fp], [fn, tp]])",
        ranked=False,
    ),
    "AUROC": _Ours(RANKING),
    "AUPRC": _Ours(RANKING),
    "PrecisionAtRecall": _Ours(RANKING),
    "RecallAtPrecision": _Ours(RANKING),
    "SensitivityAtSpecificity": _Ours(RANKING),
    "SpecificityAtSensitivity": _Ours(RANKING),
    "BestThreshold": _Ours(BINARY_SCORES),
    "LogLoss": _Ours(LOG_LOSS),
    "CalibrationError": _Ours(
        LOG_LOSS, no_sklearn="torchmetrics.functional.calibration_error"
    ),
    "R2": _Ours(REGRESSION),
    "RMSE": _Ours(REGRESSION),
    "MAE": _Ours(REGRESSION),
    "MSLE": _Ours(REGRESSION.replace("real values", "non-negative values")),
}

# Keras core components the design points to; not ours, so written here.
KERAS_CORE: tuple[Entry, ...] = (
    Entry(
        "ReLU",
        "activation",
        "keras",
        ("keras.activations.relu", "keras.layers.ReLU"),
        ELEMENTWISE,
        "max(x, 0)",
        "Rectified linear unit.",
    ),
    Entry(
        "LeakyReLU",
        "activation",
        "keras",
        ("keras.activations.leaky_relu", "keras.layers.LeakyReLU"),
        ELEMENTWISE,
        "x if x > 0 else negative_slope * x",
        "Leaky ReLU: a small fixed slope for negative inputs.",
    ),
    Entry(
        "PReLU",
        "activation",
        "keras",
        ("keras.layers.PReLU",),
        ELEMENTWISE,
        "x if x > 0 else alpha * x, alpha a trainable weight",
        "Parametric ReLU: the negative slope is a trainable weight.",
    ),
    Entry(
        "sigmoid",
        "activation",
        "keras",
        ("keras.activations.sigmoid",),
        ELEMENTWISE,
        "1 / (1 + exp(-x))",
        "Logistic sigmoid: a probability per element (binary, multilabel).",
    ),
    Entry(
        "Softmax",
        "activation",
        "keras",
        ("keras.activations.softmax", "keras.layers.Softmax"),
        SOFTMAX,
        "exp(x_c) / sum_k exp(x_k)",
        "Softmax: one probability distribution over classes.",
    ),
    Entry(
        "BinaryCrossentropy",
        "loss",
        "keras",
        ("keras.losses.BinaryCrossentropy", "keras.losses.binary_crossentropy"),
        CROSSENTROPY_BINARY,
        "-mean(y * log(p) + (1 - y) * log(1 - p)) over the last axis",
        "Binary / multilabel cross-entropy (FocalLoss with gamma=0).",
    ),
    Entry(
        "CategoricalCrossentropy",
        "loss",
        "keras",
        (
            "keras.losses.CategoricalCrossentropy",
            "keras.losses.categorical_crossentropy",
        ),
        "y_true one-hot / soft (N, ..., C); y_pred probabilities or logits "
        "(from_logits), (N, ..., C)",
        "-sum_c y_c * log(p_c)",
        "Cross-entropy with one-hot labels (FocalLoss with gamma=0).",
    ),
    Entry(
        "SparseCategoricalCrossentropy",
        "loss",
        "keras",
        (
            "keras.losses.SparseCategoricalCrossentropy",
            "keras.losses.sparse_categorical_crossentropy",
        ),
        "y_true int labels (N, ...) / (N, ..., 1); y_pred probabilities or "
        "logits (from_logits), (N, ..., C)",
        "-log(p_y)",
        "Cross-entropy with integer labels; ignore_class drops a label.",
    ),
    Entry(
        "MeanSquaredError",
        "loss",
        "keras",
        ("keras.losses.MeanSquaredError", "keras.losses.mean_squared_error"),
        REGRESSION,
        "mean((y - y_hat)**2) over the last axis",
        "Mean squared error (regression).",
    ),
    Entry(
        "MeanAbsoluteError",
        "loss",
        "keras",
        ("keras.losses.MeanAbsoluteError", "keras.losses.mean_absolute_error"),
        REGRESSION,
        "mean(|y - y_hat|) over the last axis",
        "Mean absolute error (regression, robust to outliers).",
    ),
    Entry(
        "Huber",
        "loss",
        "keras",
        ("keras.losses.Huber", "keras.losses.huber"),
        REGRESSION,
        "mean(0.5 e**2 if |e| <= delta else delta * (|e| - 0.5 delta)), e = y - y_hat",
        "Huber loss: quadratic near 0, linear beyond delta.",
    ),
)


# --------------------------------------------------------------------------
# Reading the docstrings
# --------------------------------------------------------------------------
_SECTION = re.compile(r"^(Args|Arguments|Returns|Raises|Example|Examples|Reference)s?:")
_SPAN = re.compile(r"`([^`]+)`")
_CHAIN = re.compile(r"\s+(with|and)\s+`([^`]+)`")
_FORMULA_CHARS = re.compile(r"[*/+=^]|\w\(")
_SKLEARN = re.compile(
    r"`sklearn\.metrics\.(\w+)|scikit-learn's `(\w+_(?:score|loss|error|matrix))`"
)


def description(doc: str | None) -> str:
    """The docstring's text before its first section (`Args:`, `Example:` ...)."""
    lines = []
    for line in inspect.cleandoc(doc or "").splitlines():
        if _SECTION.match(line):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _looks_like_formula(text: str) -> bool:
    return bool(_FORMULA_CHARS.search(text)) and "." not in text.split("(")[0]


def _blocks(text: str) -> list[str]:
    """Fenced and indented code blocks (not doctests), one line each."""
    fenced = re.findall(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
    if fenced:
        return [" ".join(block.split()) for block in fenced]
    blocks: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        indented = line.startswith("    ") and not line.lstrip().startswith(">>>")
        if indented and (blocks and previous.startswith("    ")):
            blocks[-1].append(line.strip())
        elif indented and previous.rstrip().endswith(":"):
            blocks.append([line.strip()])
        previous = line if line.strip() else previous
    joined = []
    for block in blocks:
        out = block[0]
        for line in block[1:]:
            out += (" " if line[:1] in "+-*/" else "; ") + line
        joined.append(" ".join(out.split()))
    return joined


def _chain(text: str, match: re.Match[str]) -> str:
    """A span and the spans joined to it by "with" / "and" (`R2 = ...` with ...)."""
    out = match.group(1)
    end = match.end()
    while (more := _CHAIN.match(text, end)) is not None:
        out += f" {more.group(1)} {more.group(2)}"
        end = more.end()
    return " ".join(out.split())


def formula_from_doc(doc: str | None) -> str | None:
    """The formula line a docstring states, or None.

    In order: its code blocks (fenced, or indented after a line ending in a
    colon; several are joined with "; "); a span introduced by a colon
    (`Formula, per output: ...`); the first formula span of the summary
    line; the first span holding " = ". A span followed by "with `...`" /
    "and `...`" keeps those definitions. Spans that are dotted names
    (`keras.losses.Loss`) or hold no operator are not formulas.
    """
    text = description(doc)
    if not text:
        return None
    blocks = _blocks(text)
    if blocks:
        return "; ".join(blocks)
    flat = " ".join(text.split())
    summary = text.splitlines()[0]
    candidates: list[Callable[[re.Match[str]], bool]] = [
        lambda m: flat[: m.start()].rstrip().endswith(":"),
        lambda m: m.start() < len(summary),
        lambda m: " = " in m.group(1),
    ]
    for accept in candidates:
        for match in _SPAN.finditer(flat):
            if _looks_like_formula(match.group(1)) and accept(match):
                return _chain(flat, match)
    return None


def sklearn_from_doc(doc: str | None) -> tuple[str, ...]:
    """The `sklearn.metrics` functions a docstring's description says it equals."""
    names: list[str] = []
    for match in _SKLEARN.finditer(description(doc)):
        name = f"sklearn.metrics.{match.group(1) or match.group(2)}"
        if name not in names:
            names.append(name)
    return tuple(names)


def summary_from_doc(doc: str | None) -> str:
    """The docstring's first line."""
    return inspect.cleandoc(doc or "").split("\n", 1)[0].strip()


# --------------------------------------------------------------------------
# Our components, from the registry
# --------------------------------------------------------------------------
def _public_module(obj: Any) -> str:
    """`keras_components.losses._classification` -> `keras_components.losses`."""
    parts = obj.__module__.split(".")
    return ".".join(p for p in parts if not p.startswith("_"))


def role_of(obj: Any) -> str | None:
    """The role of a registered object, or None when it is none of the three."""
    import keras

    module = getattr(obj, "__module__", "")
    if isinstance(obj, type):
        if issubclass(obj, keras.metrics.Metric):
            return "metric"
        if issubclass(obj, keras.losses.Loss):
            return "loss"
        if issubclass(obj, keras.layers.Layer) and module == "keras_components.layers":
            return "activation"
        return None
    if module == "keras_components.activations":
        return "activation"
    if module.startswith("keras_components.losses"):
        return "loss"
    return None


def registered() -> dict[str, Any]:
    """Our registered public objects, by registered name."""
    import keras

    import keras_components  # noqa: F401  (runs every registration)
    from keras_components._export import PACKAGE

    prefix = f"{PACKAGE}>"
    return {
        name: obj
        for name, obj in keras.saving.get_custom_objects().items()
        if name.startswith(prefix)
    }


def _groups() -> dict[str, list[Any]]:
    """Registered activations, losses and metrics; `focal_loss` joins `FocalLoss`."""
    groups: dict[str, list[Any]] = {}
    for obj in registered().values():
        if role_of(obj) is not None:
            key = obj.__name__.lower().replace("_", "")
            groups.setdefault(key, []).append(obj)
    return groups


def _entry_name(objs: list[Any]) -> str:
    classes = [o for o in objs if isinstance(o, type)]
    return (classes or objs)[0].__name__


def missing_entries() -> list[str]:
    """Public activations, losses and metrics that have no `_OURS` entry."""
    return sorted(
        name for name in map(_entry_name, _groups().values()) if name not in _OURS
    )


def _ours_entry(objs: list[Any]) -> Entry:
    name = _entry_name(objs)
    spec = _OURS[name]
    classes = [o for o in objs if isinstance(o, type)]
    functions = [o for o in objs if not isinstance(o, type)]
    role = role_of(objs[0])
    assert role is not None  # _groups keeps only objects with a role
    # Activations are used as functions (`activation=mish`): function first.
    ordered = functions + classes if role == "activation" else classes + functions
    docs = [o.__doc__ for o in ordered]
    formula = spec.formula or next((f for f in map(formula_from_doc, docs) if f), None)
    if formula is None:
        raise ValueError(
            f"No formula for {name}: its docstrings state none the catalog can "
            "read (a code block, or a `span` with an operator), and _OURS "
            "declares none."
        )
    direction = None
    sklearn: tuple[str, ...] = ()
    if role == "metric":
        metric: Any = classes[0]
        direction = metric.direction if spec.ranked else None
        sklearn = spec.sklearn or sklearn_from_doc(metric.__doc__)
    return Entry(
        name=name,
        role=role,
        origin="keras_components",
        paths=tuple(f"{_public_module(o)}.{o.__name__}" for o in ordered),
        inputs=spec.inputs,
        formula=formula,
        summary=summary_from_doc((classes or functions)[0].__doc__),
        direction=direction,
        sklearn=sklearn,
    )


def entries(role: str | None = None) -> list[Entry]:
    """Every catalog entry (ours, then Keras core's per role), in role order.

    Args:
        role: Only this role (`"activation"`, `"loss"` or `"metric"`); None
            for all.

    Returns:
        The entries, grouped by role in `ROLES` order.

    Raises:
        ValueError: A public activation, loss or metric has no `_OURS` entry,
            or `role` is not one of `ROLES`.
    """
    if role is not None and role not in ROLES:
        raise ValueError(
            f"Invalid value for argument `role`. Expected one of {ROLES}. "
            f"Received: role={role!r}"
        )
    missing = missing_entries()
    if missing:
        raise ValueError(
            f"No catalog entry for {', '.join(missing)}: add it to _OURS in "
            "keras_components/_catalog.py (its input forms)."
        )
    ours = [_ours_entry(objs) for objs in _groups().values()]
    everything = ours + list(KERAS_CORE)
    return [e for r in ROLES if role in (None, r) for e in everything if e.role == r]


def resolve(path: str) -> Any:
    """The object a dotted path names (`keras.losses.Huber`)."""
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------
def _origin_words(entry: Entry) -> str:
    words = ["ours" if entry.origin == "keras_components" else "Keras core"]
    if entry.direction:
        words.append(DIRECTION_WORDS[entry.direction])
    elif entry.role == "metric":
        words.append("not a score to monitor")
    return ", ".join(words)


def _fields(entry: Entry) -> list[tuple[str, str]]:
    fields = [
        ("where", ", ".join(entry.paths)),
        ("formula", entry.formula),
        ("inputs", entry.inputs),
    ]
    if entry.sklearn:
        fields.append(("sklearn", ", ".join(entry.sklearn)))
    return fields


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_text(items: Iterable[Entry], width: int = 100) -> str:
    """The reference card: the three roles, then the entries by role.

    Formula lines are never wrapped (a formula reads best on one line);
    the other fields wrap at `width`.
    """
    items = list(items)
    lines = ["keras-components catalog: activations, losses, metrics", ""]
    for role in ROLES:
        lines += _wrap(ROLE_LINES[role], width, f"{role:<11} ", " " * 12)
    for role in ROLES:
        group = [e for e in items if e.role == role]
        if not group:
            continue
        lines += ["", HEADINGS[role].upper()]
        for entry in group:
            head = f"{entry.name} ({_origin_words(entry)}): "
            lines += _wrap(head + entry.summary.replace("`", ""), width, "  ", "    ")
            for label, value in _fields(entry):
                first = f"    {label:<8} "
                if label == "formula":
                    lines.append(first + value)
                else:
                    lines += _wrap(value, width, first, " " * len(first))
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(items: Iterable[Entry]) -> str:
    """One table per role, under a heading with the role's line."""
    items = list(items)
    lines = ["# keras-components catalog"]
    for role in ROLES:
        group = [e for e in items if e.role == role]
        if not group:
            continue
        metric = role == "metric"
        header = ["name", "where", "formula", "inputs"]
        if metric:
            header += ["better", "scikit-learn"]
        lines += [
            "",
            f"## {HEADINGS[role]}",
            "",
            f"{role.capitalize()}: {ROLE_LINES[role]}.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for e in group:
            name = e.name if e.origin == "keras_components" else f"{e.name} (Keras)"
            row = [
                name,
                "<br>".join(f"`{p}`" for p in e.paths),
                f"`{e.formula}`",
                e.inputs,
            ]
            if metric:
                row += [
                    DIRECTION_WORDS.get(e.direction or "", "not ranked"),
                    "<br>".join(e.sklearn),
                ]
            lines.append("| " + " | ".join(map(_cell, row)) + " |")
    return "\n".join(lines) + "\n"


def render_json(items: Iterable[Entry]) -> str:
    """A JSON list of the entries (`Entry.to_dict`)."""
    return json.dumps([e.to_dict() for e in items], indent=2) + "\n"


RENDERERS: dict[str, Callable[[Iterable[Entry]], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}


def render(format: str = "text", role: str | None = None) -> str:
    """The catalog in `format` (`"text"`, `"markdown"` or `"json"`), maybe one role."""
    if format not in RENDERERS:
        raise ValueError(
            f"Invalid value for argument `format`. Expected one of {FORMATS}. "
            f"Received: format={format!r}"
        )
    return RENDERERS[format](entries(role))
