"""Request bodies and answers of the dev server: TF Serving's REST JSON to checked tensors, outputs to JSON.

Row (`instances`) and columnar (`inputs`) bodies become the signature's typed
inputs, refused with a message naming the input where TF Serving's own checks
would (wrong dtype, out of range, true/false for numbers) and where tfvidgen's
bounds would be passed (`factor`, `num_future_frames`, `num_samples`); the
answer's size is estimated before the graph runs; outputs go back in the
request's layout with NaN/Inf as JSON null.
"""

import re

import numpy as np
import tensorflow as tf

from tfvidgen import validation

# Scalar inputs of tfvidgen's signatures: (bound, its name). Checked before the graph runs, so that an export made
# before its graph checked them cannot be asked for a clip of 2**30 frames.
_SCALAR_BOUNDS = {
    "factor": (validation.MAX_INTERPOLATION_FACTOR, "tfvidgen.validation.MAX_INTERPOLATION_FACTOR"),
    "num_future_frames": (validation.MAX_FRAMES, "tfvidgen.validation.MAX_FRAMES"),
    "num_samples": (validation.MAX_SAMPLES, "tfvidgen.validation.MAX_SAMPLES"),
}
# "assertion failed: [message] [Condition x <= y did not hold element-wise:] [x (Cast:0) = ] [value] ..."
# Only `x <= y` (`endpoints.at_most`) has the value checked as x; others (shapes, ranks) compare intermediates.
_ASSERTION = re.compile(
    r"assertion failed: \[(?P<message>[^\]]*)\]"
    r"(?: \[Condition x <= y did not hold[^\]]*\] \[x [^\]]*\] \[(?P<x>[^\]]*)\])?"
)


def inputs_from(body, specs, may_hold_booleans=True):
    if "instances" in body and "inputs" in body:
        raise ValueError("The request body must have 'instances' (row format) or 'inputs' (columnar format), not both.")
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise ValueError("'instances' must be a non-empty list.")
        if isinstance(rows[0], dict):
            if not all(isinstance(row, dict) for row in rows):
                raise ValueError("Every instance must be an object when the first one is.")
            values = {name: [row[name] for row in rows] for name in rows[0]}
        elif len(specs) == 1:
            values = {next(iter(specs)): rows}
        else:
            raise ValueError(f"This signature takes {sorted(specs)}: each instance must be an object naming them.")
    elif "inputs" in body:
        values = body["inputs"] if isinstance(body["inputs"], dict) else {next(iter(specs)): body["inputs"]}
    else:
        raise ValueError("Missing 'instances' or 'inputs' key in the request.")
    missing = sorted(set(specs) - set(values))
    if missing:
        raise ValueError(f"Missing inputs {missing}; the signature takes {sorted(specs)}.")
    return {name: _tensor(name, values[name], specs[name].dtype, may_hold_booleans) for name in specs}


def _has_boolean(value):
    if isinstance(value, bool):
        return True
    return isinstance(value, list) and any(_has_boolean(item) for item in value)


def _tensor(name, value, dtype, may_hold_booleans=True):
    """`value` as a tensor of `dtype`; integers are never truncated (2.5) or wrapped (2**40) on the way.

    JSON true/false are refused for numeric inputs: NumPy would make them 1 and 0 silently.
    """
    if dtype != tf.bool and may_hold_booleans and _has_boolean(value):
        raise ValueError(f"Input '{name}' must hold numbers ({dtype.name}); received true/false.")
    array = np.asarray(value)
    if dtype.is_integer:
        if array.dtype.kind == "f" and not (np.isfinite(array).all() and (array == np.round(array)).all()):
            raise ValueError(
                f"Input '{name}' must hold integers ({dtype.name}); received {array.ravel()[:4].tolist()}."
            )
        if array.dtype.kind not in "iuf" and array.size:
            raise ValueError(f"Input '{name}' must hold integers ({dtype.name}); received {array.dtype} values.")
        if array.size and (array.min() < dtype.min or array.max() > dtype.max):
            raise ValueError(
                f"Input '{name}' must be within [{dtype.min}, {dtype.max}] ({dtype.name}); received values in "
                f"[{array.min()}, {array.max()}]."
            )
    if name in _SCALAR_BOUNDS and array.size == 1 and array.dtype.kind in "iuf":  # 2**30 as 1073741824.0 too.
        maximum, bound_name = _SCALAR_BOUNDS[name]
        if array.item() > maximum:
            raise ValueError(f"Input '{name}' must be at most {maximum:,} ({bound_name}); received {array.item():,}.")
    return tf.constant(array, dtype=dtype)


def expected_values(function, inputs):
    """Numbers a signature's outputs will hold, from its output specs and the scalar inputs; None if unknown.

    The batch is `num_samples` or the leading size of the non-scalar inputs;
    an unknown time axis is `num_future_frames`, or the input clip's frames
    after `factor` interpolation.
    """
    scalars = {name: int(value.numpy()) for name, value in inputs.items() if value.shape.rank == 0}
    arrays = [value for value in inputs.values() if value.shape.rank]
    batch = scalars.get("num_samples", int(arrays[0].shape[0]) if arrays else None)
    frames = scalars.get("num_future_frames")
    if frames is None and arrays and arrays[0].shape.rank >= 2:
        frames = int(arrays[0].shape[1])
        if "factor" in scalars:
            frames = (frames - 1) * scalars["factor"] + 1
    total = 0
    for spec in function.structured_outputs.values():
        shape = list(spec.shape)
        if shape and shape[0] is None:
            shape[0] = batch
        if len(shape) > 1 and shape[1] is None:
            shape[1] = frames
        if any(size is None for size in shape):
            return None
        total += int(np.prod(shape, dtype=np.float64))
    return total


def op_error_message(error):
    """An in-graph check's message on one line (`factor` must be at most 64. Received: 128), else TF's message."""
    match = _ASSERTION.search(error.message)
    if not match:
        return error.message
    received = f". Received: {match.group('x')}" if match.group("x") is not None else ""
    return match.group("message") + received


def _json_ready(value):
    """`value.tolist()` with NaN and Inf as None (JSON null); returns it and the count replaced."""
    if not np.issubdtype(value.dtype, np.floating):
        return value.tolist(), 0
    finite = np.isfinite(value)
    if finite.all():
        return value.tolist(), 0
    cleaned = value.astype(object)
    cleaned[~finite] = None
    return cleaned.tolist(), int((~finite).sum())


def response(outputs, row):
    """The response body, and the number of non-finite values sent as null."""
    arrays = {name: value.numpy() for name, value in outputs.items()}
    outputs, replaced = {}, 0
    for name, value in arrays.items():
        outputs[name], count = _json_ready(value)
        replaced += count
    return _layout(outputs, arrays, row), replaced


def _layout(outputs, arrays, row):
    if not row:
        if len(outputs) == 1:
            return {"outputs": next(iter(outputs.values()))}
        return {"outputs": outputs}
    if len(outputs) == 1:
        return {"predictions": next(iter(outputs.values()))}
    count = len(next(iter(arrays.values())))
    return {"predictions": [{name: value[index] for name, value in outputs.items()} for index in range(count)]}
