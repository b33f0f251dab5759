"""Spreading training over devices: a `tf.distribute` strategy on TensorFlow, `DataParallel` on JAX.

TensorFlow: TPU, multi-worker, several GPUs, or one device (`get_strategy`).
JAX: `keras.distribution.DataParallel` over every local device
(`data_parallel`): one program traced over the global batch, sharded on its
batch axis, so a step on N devices is the single-device step on that batch.
"""

import json
import logging
import os

from tfvidgen import validation

logger = logging.getLogger(__name__)

STRATEGIES = ("auto", "default", "one_device", "mirrored", "multi_worker", "tpu")


def _tpu_hinted():
    """True where a TPU may be reachable, without touching the network otherwise."""
    return bool(os.environ.get("TPU_NAME") or os.environ.get("COLAB_TPU_ADDR") or os.path.exists("/dev/accel0"))


def _tpu_strategy():
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=os.environ.get("TPU_NAME", ""))
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


def _has_tf_config_cluster():
    config = os.environ.get("TF_CONFIG")
    if not config:
        return False
    try:
        return bool(json.loads(config).get("cluster"))
    except ValueError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}") from error


class DataParallelStrategy:
    """What `get_strategy()` returns off TensorFlow: `DataParallel` over every local device, strategy-shaped.

    Code written for a strategy (`with strategy.scope(): ...`,
    `strategy.num_replicas_in_sync`, `describe(strategy)`) runs unchanged on
    JAX: the scope is a no-op (the distribution is global in Keras), the
    replica count is the device count.
    """

    def __init__(self, devices=None):
        import keras

        self.devices = list(devices or keras.distribution.list_devices())
        self.description = data_parallel(self.devices)
        self.num_replicas_in_sync = len(self.devices)

    def scope(self):
        import contextlib

        return contextlib.nullcontext()


def get_strategy(name="auto"):
    """Returns a `tf.distribute.Strategy`; create and compile models in its `scope()`.

    Off TensorFlow (JAX) it returns a `DataParallelStrategy` over every local
    device, whatever `name` says (`"auto"` and `"default"` only).

    Args:
        name: `"auto"` picks, in order: `TPUStrategy` when a TPU is reachable
            (`TPU_NAME` or `COLAB_TPU_ADDR` set, or a TPU VM device),
            `MultiWorkerMirroredStrategy` when `TF_CONFIG` describes a cluster,
            `MirroredStrategy` with more than one GPU, else the default
            strategy (one device). `"default"`, `"one_device"`, `"mirrored"`
            (all local GPUs, or all logical CPUs without GPUs),
            `"multi_worker"` and `"tpu"` force one.

    Raises:
        ValueError: for an unknown name, or `"tpu"` where no TPU answers.
    """
    import keras

    validation.one_of("strategy", name, STRATEGIES)
    if keras.backend.backend() != "tensorflow":
        if name not in ("auto", "default"):
            raise ValueError(f"`strategy={name!r}` is a tf.distribute strategy; on JAX use 'auto' (DataParallel).")
        return DataParallelStrategy()
    import tensorflow as tf

    if name == "tpu" or (name == "auto" and _tpu_hinted()):
        try:
            return _tpu_strategy()
        except (ValueError, RuntimeError, tf.errors.OpError) as error:
            if name == "tpu":
                raise ValueError(f"`strategy='tpu'` was asked for but no TPU could be reached: {error}") from error
            logger.warning("A TPU was hinted but could not be reached (%s); falling back.", error)
    if name == "multi_worker" or (name == "auto" and _has_tf_config_cluster()):
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored":
        devices = [device.name for device in gpus] or [device.name for device in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    return tf.distribute.get_strategy()


def describe(strategy):
    """A one-line description, e.g. `MirroredStrategy on 2 replicas (GPU:0, GPU:1)`."""
    if isinstance(strategy, DataParallelStrategy):
        return strategy.description
    import tensorflow as tf

    try:
        devices = strategy.extended.worker_devices
    except (RuntimeError, AttributeError):  # The default strategy has none to list.
        devices = ()
    short = ", ".join(device.split("device:")[-1] for device in devices)
    # The public name: TF's MultiWorkerMirroredStrategy class is CollectiveAllReduceStrategy.
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        name = "MultiWorkerMirroredStrategy"
    elif type(strategy).__name__ == "_DefaultDistributionStrategy":  # TF's private class name.
        name = "default strategy (no distribution)"
    else:
        name = type(strategy).__name__
    return f"{name} on {strategy.num_replicas_in_sync} replica(s)" + (f" ({short})" if short else "")


def data_parallel(devices=None):
    """On JAX: data parallelism over `devices` (default: every local device); returns a description.

    With one device nothing is set. With several, the global batch size must
    divide evenly among them.
    """
    import keras

    devices = list(devices or keras.distribution.list_devices())
    if len(devices) > 1:
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        return f"DataParallel on {len(devices)} devices ({', '.join(map(str, devices))})"
    return f"one device ({devices[0]})"


def set_mixed_precision(mode):
    """`None`, `"float16"` or `"bfloat16"`: sets Keras' global dtype policy.

    Call before building models. tfvidgen's models keep float32 outputs and
    losses, and the GAN wraps both its optimizers for loss scaling under float16.
    """
    if mode is None:
        return
    validation.one_of("mixed_precision", mode, ("float16", "bfloat16"))
    import keras

    keras.mixed_precision.set_global_policy(f"mixed_{mode}")


def step_outputs(results):
    """Makes a train/test step's metric results reducible under multi-worker `fit`.

    Keras 3.15 reduces step outputs under MultiWorkerMirroredStrategy with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on the scalar
    results every step returns ("Invalid reduction dimension 0 for input with
    0 dimensions", tensorflow/tensorflow#72388). Inside such a step the results
    are returned with shape `(1,)`: the reduction then averages them over the
    workers back to scalars. Elsewhere, and on backends other than
    TensorFlow, they pass through unchanged.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return results
    import tensorflow as tf

    if tf.inside_function() and isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return {name: tf.reshape(value, (1,)) for name, value in results.items()}
    return results
