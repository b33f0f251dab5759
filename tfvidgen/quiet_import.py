"""TensorFlow's C++ start-up lines held back when tfvidgen is in use, replayed if the import fails.

Importing TensorFlow and discovering its devices prints ~7 lines to the process's
stderr (oneDNN, CPU features, "failed call to cuInit" on machines without a GPU)
below Python, so `warnings` filters and `TF_CPP_MIN_LOG_LEVEL=2` do not stop
them, and an error of the user's own drowns in them. `install()` (called by
`import tfvidgen`) puts a finder on `sys.meta_path` that, at the first import of
TensorFlow (by Keras, by tfvidgen or by the user), runs the import and the device
discovery with file descriptor 2 redirected to a temporary file: dropped on
success, written back to stderr if the import raises. `TFVIDGEN_DEBUG=1` turns it
off. It costs nothing where TensorFlow is never imported (JAX, post-processing).
"""

import contextlib
import importlib.abc
import importlib.util
import os
import sys
import tempfile


@contextlib.contextmanager
def held_back_stderr():
    """Redirects file descriptor 2 for the block; what it caught is replayed if the block raises."""
    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def __getattr__(self, name):  # Resource readers and the like come from the real loader.
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self._loader
        with held_back_stderr():
            self._loader.exec_module(module)
            # CUDA probing logs at device discovery, not at import.
            module.config.list_physical_devices()


class _QuietTensorFlowFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        uninstall()  # Once: the real finders resolve it from here on.
        if os.environ.get("TFVIDGEN_DEBUG"):
            return None
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def install():
    """Holds back TensorFlow's start-up lines at its first import (a no-op once it is imported)."""
    if "tensorflow" in sys.modules or any(isinstance(finder, _QuietTensorFlowFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _QuietTensorFlowFinder())


def uninstall():
    """Removes the finder `install()` put on `sys.meta_path`."""
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _QuietTensorFlowFinder)]
