"""Put this directory first on PYTHONPATH to run a process as if TensorFlow were not installed."""

raise ImportError("TensorFlow is blocked in this process (tests/without_tensorflow): it must not be needed here.")
