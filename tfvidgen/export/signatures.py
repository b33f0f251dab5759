"""Serving signatures of a tfvidgen model: `{name: Endpoint}` for `tfvidgen.export`.

The model declares them (`serving_signatures()`, TensorFlow-free
`tfvidgen.models.signature_spec` records): its role names the signatures
(`FramePredictor`: `predict`, `rollout`; `GenerativeModel`: `sample`,
`decode`; `InterpolatorModel`: `interpolate`, `interpolate_clip`), its family
adds its own (`extra_signatures()`: the VAE's `encode`, `reconstruct`), and
each wraps a traceable method of the model. This module only types them
for TensorFlow: input specs, the in-graph checks the declarations name (a
served request's shape is not checked by TF Serving's C++ session), float32
outputs. It never looks at the family, so a new family exports by declaring
its signatures.
"""

import tensorflow as tf

from tfvidgen.export import endpoints
from tfvidgen.models import signature_spec
from tfvidgen.models.model_role import ModelRole


# A declared check's relation -> the assertion that reports the message and the values compared.
RELATIONS = {
    "==": tf.debugging.assert_equal,
    "<=": tf.debugging.assert_less_equal,
    "<": tf.debugging.assert_less,
    ">=": tf.debugging.assert_greater_equal,
    ">": tf.debugging.assert_greater,
}


def for_model(model):
    """The endpoints of a tfvidgen model, as its role and family declare them; `serving_default` first."""
    if not isinstance(model, ModelRole):
        raise ValueError(
            f"{type(model).__name__} has no serving signatures: it must be a tfvidgen model, a subclass of "
            "FramePredictor, GenerativeModel or InterpolatorModel (tfvidgen.models)."
        )
    declared = {name: endpoint_of(signature) for name, signature in model.serving_signatures().items()}
    if model.default_signature not in declared:
        raise ValueError(
            f"{type(model).__name__}.default_signature must be one of its signatures {sorted(declared)}. "
            f"Received: default_signature={model.default_signature!r}"
        )
    return {"serving_default": declared[model.default_signature], **declared}


def tensor_spec(declared):
    """The `tf.TensorSpec` of a `TensorInput` or `ScalarInput` (a scalar of unknown rank: `4` or `[4]`)."""
    if isinstance(declared, signature_spec.ScalarInput):
        return endpoints.scalar_spec(declared.name, tf.as_dtype(declared.dtype))
    return tf.TensorSpec(declared.shape, tf.as_dtype(declared.dtype), name=declared.name)


def _checked_input(declared, value):
    if isinstance(declared, signature_spec.ScalarInput):
        value = endpoints.scalar(value, declared.name)
        if declared.minimum is not None:
            value = endpoints.at_least(value, declared.minimum, declared.name)
        if declared.maximum is not None:
            value = endpoints.at_most(value, declared.maximum, declared.name)
        return value
    if declared.dimensions is None:
        return endpoints.checked(value, declared.shape, declared.name)
    return endpoints.checked(value, declared.shape, declared.name, declared.dimensions)


def endpoint_of(signature):
    """The `Endpoint` of a declared `Signature`: checked inputs, the model's function, float32 outputs."""

    def function(*values):
        inputs = {declared.name: _checked_input(declared, value) for declared, value in zip(signature.inputs, values)}
        if signature.checks is not None:
            asserts = [
                RELATIONS[relation](left, tf.cast(right, tf.convert_to_tensor(left).dtype), message=message)
                for left, relation, right, message in signature.checks(**inputs)
            ]
            with tf.control_dependencies(asserts):
                inputs = {name: tf.identity(value) for name, value in inputs.items()}
        outputs = signature.function(**inputs)
        # TF Serving's REST layer writes no bfloat16 (and float16 needlessly): floats leave as float32.
        return {
            name: tf.cast(value, tf.float32) if value.dtype.is_floating else value for name, value in outputs.items()
        }

    spec = [tensor_spec(declared) for declared in signature.inputs]
    uint8 = signature.uint8
    if uint8 is None:
        uint8 = any(declared.dtype == "float32" and len(declared.shape or ()) == 5 for declared in _tensors(signature))
    return endpoints.Endpoint(function, spec, dict(signature.example), uint8)


def _tensors(signature):
    return [declared for declared in signature.inputs if isinstance(declared, signature_spec.TensorInput)]
