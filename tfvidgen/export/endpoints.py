"""Serving endpoints: a function, its typed signature and an example request.

The checks here run inside the exported graph. TF Serving feeds tensors to the
C++ session without comparing them with the signature's shapes, so a request of
the wrong rank, size or channels would otherwise fail deep in the graph; with
these it fails with a message naming the expected shape.
"""

import collections

import tensorflow as tf

Endpoint = collections.namedtuple("Endpoint", ["function", "signature", "example", "uint8"], defaults=(None,))
Endpoint.__doc__ = """An exported signature.

Attributes:
    function: takes the signature's inputs positionally, in signature order,
        and returns a dict of float32 outputs.
    signature: list of `tf.TensorSpec`; each spec's `name` is the input key.
    example: dict of NumPy inputs for warm-up requests and servability checks.
    uint8: whether `uint8=True` exports add a `<name>_uint8` variant; `None`:
        when a rank-5 float32 (video) input is in `signature`.
"""


def _describe(shape, names):
    return "(" + ", ".join(str(size) if size is not None else names[index] for index, size in enumerate(shape)) + ")"


def checked(tensor, shape, name, dimension_names=("batch", "frames", "height", "width", "channels")):
    """Asserts in-graph that `tensor` has `len(shape)` dims and the non-None sizes of `shape`."""
    expected = _describe(shape, dimension_names)
    message = f"`{name}` must have shape {expected}"
    # The signature's static rank turns `tf.debugging.assert_rank` and `tf.rank` into trace-time
    # constants, yet a served request can have any rank: check the rank with the raw op, and pad the
    # runtime shape so that no size check indexes past a too-short shape (the executor runs checks in
    # any order, so an out-of-range slice could fail first with TensorFlow's message instead of ours).
    checks = [tf.debugging.assert_equal(tf.raw_ops.Rank(input=tensor), len(shape), message=message)]
    padded = tf.concat([tf.shape(tensor), tf.fill([len(shape)], -1)], axis=0)
    for index, size in enumerate(shape):
        if size is not None:
            checks.append(tf.debugging.assert_equal(padded[index], size, message=message))
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def scalar(tensor, name):
    """Accepts a scalar or a `[1]` tensor (TF Serving clients send either) and returns a scalar."""
    check = tf.debugging.assert_equal(tf.size(tensor), 1, message=f"`{name}` must be a scalar or have shape [1]")
    with tf.control_dependencies([check]):
        return tf.reshape(tensor, [])


def at_least(tensor, minimum, name):
    """Asserts in-graph that a scalar is >= `minimum`: "`name` must be >= minimum"."""
    check = tf.debugging.assert_greater_equal(
        tensor, tf.cast(minimum, tensor.dtype), message=f"`{name}` must be >= {minimum}"
    )
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


def non_negative(tensor, name):
    check = tf.debugging.assert_non_negative(tensor, message=f"`{name}` must be >= 0")
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


def positive(tensor, name):
    check = tf.debugging.assert_positive(tensor, message=f"`{name}` must be >= 1")
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


def at_most(tensor, maximum, name):
    """Asserts in-graph that an integer scalar is <= `maximum` (a served 2**31 - 1 would overflow later)."""
    check = tf.debugging.assert_less_equal(
        tf.cast(tensor, tf.int64), tf.constant(maximum, tf.int64), message=f"`{name}` must be at most {maximum}"
    )
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


def video_spec(shape, name):
    return tf.TensorSpec(shape, tf.float32, name=name)


def scalar_spec(name, dtype=tf.int32):
    """An int input of unknown rank, so both `4` and `[4]` are accepted."""
    return tf.TensorSpec(None, dtype, name=name)


def uint8_variant(endpoint):
    """The same endpoint taking and returning uint8 videos (0-255), converted in-graph.

    Rank-5 float32 inputs become uint8 inputs; rank-5 outputs are rounded to
    uint8; other inputs and outputs are unchanged.
    """

    def is_video(spec):
        return spec.dtype == tf.float32 and spec.shape.rank == 5

    signature = [
        tf.TensorSpec(spec.shape, tf.uint8, name=spec.name) if is_video(spec) else spec for spec in endpoint.signature
    ]
    video_inputs = {spec.name for spec in endpoint.signature if is_video(spec)}

    def function(*inputs):
        converted = [
            tf.cast(value, tf.float32) / 255.0 if spec.name in video_inputs else value
            for spec, value in zip(endpoint.signature, inputs)
        ]
        outputs = endpoint.function(*converted)
        return {
            key: tf.cast(tf.round(tf.clip_by_value(value, 0.0, 1.0) * 255.0), tf.uint8)
            if value.shape.rank == 5
            else value
            for key, value in outputs.items()
        }

    example = {
        key: (value * 255).round().astype("uint8") if key in video_inputs else value
        for key, value in endpoint.example.items()
    }
    return Endpoint(function, signature, example, True)
