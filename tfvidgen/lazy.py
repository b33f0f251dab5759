"""TensorFlow imported on first use, so that modules which only sometimes need it import without it.

The data sources, for one, build `tf.data` pipelines, but their NumPy parts
(the Moving MNIST renderer, the video decoder) also feed JAX training on
machines without TensorFlow. `from tfvidgen.lazy import tensorflow as tf` reads
as usual; the import happens at the first `tf.<name>`, and where TensorFlow is
not installed that first use raises an `ImportError` saying what needs it.
"""

import importlib


class _LazyModule:
    def __init__(self, name, needed_for):
        self._name = name
        self._needed_for = needed_for

    def __getattr__(self, attribute):
        try:
            module = importlib.import_module(self._name)
        except ImportError as error:
            raise ImportError(
                f"{self._needed_for} needs TensorFlow, which is not installed (`pip install tensorflow`). "
                "Training on JAX needs no TensorFlow: see the README's Backends section."
            ) from error
        return getattr(module, attribute)


tensorflow = _LazyModule("tensorflow", "This (tf.data pipelines, SavedModel export, TensorBoard)")
tensorflow_datasets = _LazyModule("tensorflow_datasets", "Reading TensorFlow Datasets (`tfds:` sources)")
