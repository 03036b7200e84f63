"""Test-wide settings, loaded before any test module or doctest imports Keras."""

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYTHONHASHSEED", "0")

collect_ignore = ["benchmarks/__main__.py", "keras_components/__main__.py"]
