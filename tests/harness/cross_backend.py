"""The harness checks that need a fresh process, for `tests/test_backends.py`; every family of `tfvidgen.models`.

`python tests/harness/cross_backend.py save DIRECTORY` (run on JAX with TensorFlow unimportable): trains each
family's tiny preset one epoch on its role's data, saves `<family>.keras`, the outputs to compare in
`outputs.npz` (`roles.backend_free_output`) and `results.json` (the backend, whether TensorFlow was imported,
the notebooks' strategy on JAX).
`python tests/harness/cross_backend.py data_parallel OUT.json`: one training step of each family on every device
(keras.distribution.DataParallel) against the same step on one device, from the same weights and batch (JAX).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/, for `harness`.

import keras  # noqa: E402
import numpy as np  # noqa: E402

from harness import roles  # noqa: E402


def save(directory):
    os.makedirs(directory, exist_ok=True)
    arrays = {}
    for family in roles.families():
        model, _ = roles.trained(family, epochs=1)
        model.save(os.path.join(directory, f"{family}.keras"))
        arrays[family] = roles.backend_free_output(model)
    np.savez(os.path.join(directory, "outputs.npz"), **arrays)
    results = {"backend": keras.backend.backend(), "families": roles.families()}
    if keras.backend.backend() == "jax":  # The notebooks' strategy cell, on JAX.
        from tfvidgen import distribute

        strategy = distribute.get_strategy()
        with strategy.scope():
            results["strategy"] = [distribute.describe(strategy), strategy.num_replicas_in_sync]
    results["tensorflow_imported"] = "tensorflow" in sys.modules
    with open(os.path.join(directory, "results.json"), "w") as file:
        json.dump(results, file)


def data_parallel(out):
    from tfvidgen import distribute

    devices = keras.distribution.list_devices()
    results = {"devices": len(devices)}
    for family in roles.families():
        reference = roles.tiny(family, seed=2)
        start = reference.get_weights()
        reference.compile()
        x, y = roles.training_data(reference)
        reference.train_on_batch(x[:8], None if y is None else y[:8])
        single = [np.asarray(weight) for weight in reference.get_weights()]
        distribute.data_parallel(devices)
        model = roles.tiny(family, seed=2)
        model.set_weights(start)
        model.compile()
        model.train_on_batch(x[:8], None if y is None else y[:8])
        parallel = [np.asarray(weight) for weight in model.get_weights()]
        keras.distribution.set_distribution(None)
        results[family] = max(float(np.abs(a - b).max()) for a, b in zip(single, parallel))
    with open(out, "w") as file:
        json.dump(results, file)


if __name__ == "__main__":
    {"save": save, "data_parallel": data_parallel}[sys.argv[1]](sys.argv[2])
