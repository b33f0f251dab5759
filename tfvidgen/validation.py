"""Argument checks shared across tfvidgen.

Every check raises `ValueError` (or `TypeError` for a wrong type) with a message
that names the argument, the expected value and the value received, so a bad
call fails at the call site instead of deep inside a TensorFlow graph.
"""

import numbers


# Upper bounds of counts that become int32 tensors: far beyond any real use, far below int32's wrap-around
# (2**32 + 3 frames used to become 3). 100,000 frames of 64x64 are 1.6 GB per clip.
MAX_FRAMES = 100_000
MAX_SAMPLES = 100_000
# Frame interpolation's `factor` (new frame rate / old): 64x slow motion is beyond any use; a factor of 2**20 ran until
# memory ran out. Shared by FrameInterpolator.interpolate_clip, its exported graph, the dev server and
# tfvidgen.postprocess (interpolate, retime, speed). The interpolated clip is also held to MAX_FRAMES.
MAX_INTERPOLATION_FACTOR = 64


def _integer(name, value, minimum, maximum, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a {what} integer. Received: {name}={value!r} of type {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"`{name}` must be a {what} integer (>= {minimum}). Received: {name}={value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be at most {maximum:,}. Received: {name}={value!r}")
    return int(value)


def positive_int(name, value, maximum=None):
    """Returns `value` as an int, or raises if it is not an integer in [1, `maximum`]."""
    return _integer(name, value, 1, maximum, "positive")


def non_negative_int(name, value, maximum=None):
    """Returns `value` as an int, or raises if it is not an integer in [0, `maximum`]."""
    return _integer(name, value, 0, maximum, "non-negative")


def interpolated_frames(frames, factor, name="factor"):
    """`(frames - 1) * factor + 1`, the length of a clip of `frames` frames interpolated by an integer `factor`.

    Raises:
        ValueError: naming `name` if `factor` exceeds `MAX_INTERPOLATION_FACTOR` or the result `MAX_FRAMES`.
    """
    if factor > MAX_INTERPOLATION_FACTOR:
        raise ValueError(
            f"`{name}` must be at most {MAX_INTERPOLATION_FACTOR} (tfvidgen.validation.MAX_INTERPOLATION_FACTOR). "
            f"Received: {name}={factor!r}"
        )
    count = (int(frames) - 1) * int(factor) + 1 if frames > 1 else int(frames)
    if count > MAX_FRAMES:
        raise ValueError(
            f"`{name}`={factor!r} would make {count:,} frames from {frames:,}; at most {MAX_FRAMES:,} "
            "(tfvidgen.validation.MAX_FRAMES). Interpolate the clip in parts."
        )
    return count


def positive_float(name, value):
    """Returns `value` as a float, or raises if it is not a number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a positive number. Received: {name}={value!r}")
    if not value > 0:
        raise ValueError(f"`{name}` must be a positive number (> 0). Received: {name}={value!r}")
    return float(value)


def non_negative_float(name, value):
    """Returns `value` as a float, or raises if it is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a non-negative number. Received: {name}={value!r}")
    if not 0.0 <= value < float("inf"):
        raise ValueError(f"`{name}` must be a finite non-negative number (>= 0). Received: {name}={value!r}")
    return float(value)


def probability(name, value):
    """Returns `value` as a float, or raises if it is not in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number in [0, 1]. Received: {name}={value!r}")
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value!r}")
    return float(value)


def one_of(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises `ValueError`."""
    if value not in choices:
        expected = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"`{name}` must be one of {expected}. Received: {name}={value!r}")
    return value


def channels(name, value):
    """Returns `value` if it is 1 (grayscale) or 3 (RGB), else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value not in (1, 3):
        raise ValueError(f"`{name}` must be 1 (grayscale) or 3 (RGB). Received: {name}={value!r}")
    return int(value)


def frame_shape(name, value):
    """Returns `(height, width, channels)` as ints: positive sizes, 1 or 3 channels, else raises `ValueError`."""
    value = tuple(value)
    if len(value) != 3:
        raise ValueError(f"`{name}` must be (height, width, channels). Received: {name}={value!r}")
    height, width = frame_size(f"{name}[:2]", value[:2])
    return height, width, channels(f"{name}[2]", value[2])


def frame_size(name, value):
    """Returns `(height, width)` from an int or a pair of positive ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        size = (value, value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        size = tuple(value)
    else:
        raise ValueError(
            f"`{name}` must be an int or a (height, width) pair of positive ints. Received: {name}={value!r}"
        )
    for dimension in size:
        if isinstance(dimension, bool) or not isinstance(dimension, numbers.Integral) or dimension < 1:
            raise ValueError(
                f"`{name}` must be an int or a (height, width) pair of positive ints. Received: {name}={value!r}"
            )
    return int(size[0]), int(size[1])


def int_list(name, value, length=None):
    """Returns `value` as a list of positive ints (an int is repeated `length` times)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if length is None:
            return [positive_int(name, value)]
        return [positive_int(name, value)] * length
    if not isinstance(value, (tuple, list)) or not value:
        raise ValueError(
            f"`{name}` must be a positive int or a non-empty list of positive ints. Received: {name}={value!r}"
        )
    if length is not None and len(value) != length:
        raise ValueError(f"`{name}` must have {length} entries (one per layer). Received: {name}={value!r}")
    return [positive_int(f"{name}[{index}]", item) for index, item in enumerate(value)]


def float32_tensor(value):
    """Any array-like as a float32 tensor of the Keras backend, casting (not rejecting) other float dtypes.

    Under a `mixed_float16`/`mixed_bfloat16` policy, intermediate tensors (a sampled
    latent, an encoder output) come back in the compute dtype; public methods accept
    them and work in float32.
    """
    from keras import ops

    value = ops.convert_to_tensor(value)
    return value if str(value.dtype).endswith("float32") else ops.cast(value, "float32")
