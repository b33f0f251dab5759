"""Serving signatures as the models declare them, without TensorFlow.

A role class (`FramePredictor`, `GenerativeModel`, `InterpolatorModel`) and
its families return `{name: Signature}` from `serving_signatures()`;
`tfvidgen.export` turns each into a SavedModel signature (typed inputs, the
in-graph checks named here, float32 outputs) and never looks at the family.
A signature's `function` wraps one of the model's own traceable methods
(`call`, `rollout`, `sample_step`, ...), so no model maths lives in the export.
"""

import collections

TensorInput = collections.namedtuple(
    "TensorInput", ["name", "shape", "dtype", "dimensions"], defaults=("float32", None)
)
TensorInput.__doc__ = """A tensor input, its rank and non-None sizes checked in the graph.

Attributes:
    name: the input key.
    shape: a tuple, `None` for a dynamic size (the batch, the frames).
    dtype: `"float32"` (a rank-5 float32 input is a video: it gets a uint8
        variant with `uint8=True` exports) or another dtype name.
    dimensions: the names of the sizes in error messages; `None` is
        `("batch", "frames", "height", "width", "channels")`.
"""

ScalarInput = collections.namedtuple(
    "ScalarInput", ["name", "dtype", "minimum", "maximum"], defaults=("int32", None, None)
)
ScalarInput.__doc__ = """A scalar input (a `[1]` tensor is accepted too), optionally bounded in the graph.

Attributes:
    name: the input key.
    dtype: `"int32"` (default) or `"float32"`.
    minimum, maximum: inclusive bounds, `None` for none; a failed bound
        answers "`name` must be >= minimum" / "`name` must be at most maximum".
"""

Signature = collections.namedtuple(
    "Signature", ["function", "inputs", "example", "checks", "uint8", "defaults"], defaults=(None, None, None)
)
Signature.__doc__ = """A serving signature.

Attributes:
    function: takes the inputs as keyword arguments (checked tensors) and
        returns `{output name: tensor}`; a traceable model method wrapped.
    inputs: a list of `TensorInput`/`ScalarInput`, in signature order.
    example: `{input name: np.ndarray}`, a valid request (warm-up requests,
        servability checks).
    checks: optional `function(**inputs) -> [(left, relation, right, message)]`:
        checks between inputs, `relation` one of `"=="`, `"<="`, `"<"`, `">="`,
        `">"` (`left` and `right` computed with `keras.ops`), each failing with
        `message` and the values compared.
    uint8: also export a `<name>_uint8` variant (uint8 videos in and out);
        `None` (default): when the signature has a video input.
    defaults: optional `{input name: JSON value}` for inputs a caller may
        leave out (a sampler's `steps`, `guidance`): recorded in the export's
        `tfvidgen.json`, filled in by `tfvidgen.serving.ExportedModel` (a
        SavedModel signature itself has no optional inputs).
"""
