"""`saved_models/make_golden.py` imported as a module (a script, not a package)."""

import importlib.util
import sys
from pathlib import Path

SAVED_MODELS = Path(__file__).resolve().parents[1] / "saved_models"
SCRIPT = SAVED_MODELS / "make_golden.py"


def make_golden():
    """The script's module (builders, `write_folder`, `check_folder`), loaded once."""
    name = "keras_components_make_golden"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def version_folders():
    """Every committed golden folder, `saved_models/v*/` (never `demo/`)."""
    return sorted(p for p in SAVED_MODELS.glob("v*") if p.is_dir())
