"""Offline work that may need TensorFlow (imported lazily): the Keras FCN, training, export,
evaluation, convolutionalize and benchmarks."""

__all__ = []
