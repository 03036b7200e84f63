"""Keras callbacks: training pictures."""

from keras_components.callbacks._training_curves import TrainingCurves

__all__ = ["TrainingCurves"]
