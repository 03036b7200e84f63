"""Compatibility layers for code and saved models of other libraries.

`keras_components.compat.tfa` loads models and ports scripts written for
TensorFlow Addons (import it before `keras.models.load_model`). Nothing here
is imported by `import keras_components`: the compatibility names are
registered only when asked for.
"""
