"""Noise that is distinct per replica and independent of the replica count.

`keras.random.SeedGenerator` hands every replica of a `tf.distribute` strategy
the same seed, so noise drawn per replica would be duplicated. Here every
replica draws the noise of the *global* batch from that shared seed and keeps
its own slice: replicas get distinct noise, and a step on N replicas sees
exactly the noise a single device would for the same global batch (which is
what makes distributed and single-device first updates equal).

On other backends there is no replica context: JAX's data parallelism
(`keras.distribution.DataParallel`) traces one program over the global batch,
so plain `keras.random` noise is already the single-device noise. Every
function here then reduces to `keras.random` and imports no TensorFlow.
"""

import keras


def _tensorflow():
    """The `tensorflow` module under the TensorFlow backend, else None (never imported then)."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf


def replica_info():
    """`(replica_id, num_replicas)` of the current replica context (0, 1 outside one)."""
    tf = _tensorflow()
    context = None if tf is None else tf.distribute.get_replica_context()
    if context is None:
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def num_replicas():
    """Replicas in sync: the divisor for losses reduced by hand (1 without a strategy or off TensorFlow)."""
    tf = _tensorflow()
    return 1 if tf is None else tf.distribute.get_strategy().num_replicas_in_sync


def _global_then_slice(tf, draw, shape, seed_generator):
    replica_id, replicas = replica_info()
    local_batch = shape[0]
    global_shape = tf.concat([[local_batch * replicas], tf.cast(shape[1:], tf.int32)], axis=0)
    values = draw(global_shape, tf.cast(seed_generator.next(), tf.int64))
    start = replica_id * local_batch
    return values[start : start + local_batch]


def normal(shape, seed_generator, dtype="float32"):
    """Standard normal noise of `shape` (leading dim: this replica's batch)."""
    tf = _tensorflow()
    if tf is None:
        return keras.random.normal(tuple(shape), seed=seed_generator, dtype=dtype)
    values = _global_then_slice(tf, tf.random.stateless_normal, tf.cast(shape, tf.int32), seed_generator)
    return tf.cast(values, dtype)


def uniform(shape, seed_generator, dtype="float32"):
    """Uniform [0, 1) noise of `shape` (leading dim: this replica's batch)."""
    tf = _tensorflow()
    if tf is None:
        return keras.random.uniform(tuple(shape), seed=seed_generator, dtype=dtype)
    values = _global_then_slice(tf, tf.random.stateless_uniform, tf.cast(shape, tf.int32), seed_generator)
    return tf.cast(values, dtype)


def seeded_normal(num_samples, size, seed):
    """`(num_samples, size)` standard normal values fixed by an int `seed`.

    Stateless: under TensorFlow the same seed gives the same values in Python,
    in a `tf.function` and in an exported SavedModel (`sample` endpoints); on
    other backends the same values for the same seed on that backend.
    """
    tf = _tensorflow()
    if tf is None:
        return keras.random.normal((int(num_samples), int(size)), seed=int(seed))
    shape = tf.stack([tf.cast(num_samples, tf.int32), size])
    return tf.random.stateless_normal(shape, seed=tf.stack([tf.cast(seed, tf.int64), tf.constant(0, tf.int64)]))
