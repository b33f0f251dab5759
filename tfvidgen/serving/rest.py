"""TF Serving's REST API: URLs, predict request bodies, responses, metadata.

The two request formats of `POST /v1/models/NAME[/versions/N]:predict`:
- row (`"instances"`): a list with one entry per example, every input
  carrying the batch dimension; answered with `"predictions"`;
- columnar (`"inputs"`): each input as a whole tensor, any shape, scalars
  included (e.g. `num_future_frames`); answered with `"outputs"`.
`GET /v1/models/NAME/metadata` returns the SignatureDefs, which
`build_predict_request` uses to check a request before sending it.
"""

import numpy as np

FORMATS = ("auto", "row", "columnar")
_DTYPES = {
    "DT_FLOAT": np.float32,
    "DT_DOUBLE": np.float64,
    "DT_INT32": np.int32,
    "DT_INT64": np.int64,
    "DT_UINT8": np.uint8,
    "DT_BOOL": np.bool_,
}


class ServingError(RuntimeError):
    """TF Serving (or a request check) rejected a request; the message is the server's."""


def model_url(base_url, model_name, version=None):
    url = f"{base_url.rstrip('/')}/v1/models/{model_name}"
    return url if version is None else f"{url}/versions/{int(version)}"


def predict_url(base_url, model_name, version=None):
    return model_url(base_url, model_name, version) + ":predict"


def metadata_url(base_url, model_name, version=None):
    return model_url(base_url, model_name, version) + "/metadata"


def signature_specs(metadata, signature_name):
    """`({input: (dtype, shape)}, [output names])` of a signature in a metadata response.

    `shape` is a list with -1 for dynamic dimensions, or `None` for an input
    of unknown rank.
    """
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    if signature_name not in signatures:
        raise ServingError(f"The model has no signature {signature_name!r}; it has {sorted(signatures)}.")
    definition = signatures[signature_name]

    def shape_of(tensor):
        shape = tensor.get("tensor_shape", {})
        if shape.get("unknown_rank"):
            return None
        return [int(dim.get("size", -1)) for dim in shape.get("dim", [])]

    inputs = {name: (tensor["dtype"], shape_of(tensor)) for name, tensor in definition.get("inputs", {}).items()}
    return inputs, sorted(definition.get("outputs", {}))


def _check_against(metadata, signature_name, arrays):
    specs, _ = signature_specs(metadata, signature_name)
    if sorted(specs) != sorted(arrays):
        raise ValueError(
            f"Signature {signature_name!r} takes inputs {sorted(specs)}; the request has {sorted(arrays)}."
        )
    for name, (dtype, shape) in specs.items():
        array = arrays[name]
        expected = _DTYPES.get(dtype)
        if expected is not None and not np.can_cast(array.dtype, expected, casting="same_kind"):
            raise ValueError(f"Input {name!r} must be {dtype}; the request has {array.dtype}.")
        if shape is None:
            continue
        if array.ndim != len(shape) or any(size not in (-1, actual) for size, actual in zip(shape, array.shape)):
            described = "(" + ", ".join("None" if size == -1 else str(size) for size in shape) + ")"
            raise ValueError(f"Input {name!r} must have shape {described}; the request has {array.shape}.")


def build_predict_request(inputs, signature_name="serving_default", format="auto", metadata=None):
    """The JSON body of a predict request.

    Args:
        inputs: `{input name: array-like}`.
        signature_name: the signature to call.
        format: `"row"`, `"columnar"`, or `"auto"` (row when every input has a
            batch dimension of the same size, columnar otherwise, e.g. with a
            scalar `num_future_frames`).
        metadata: the model's metadata response; when given, input names,
            dtypes and static dimensions are checked before sending.

    Returns:
        A JSON-serialisable dict.

    Raises:
        ValueError: naming the input and what was expected.
    """
    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {FORMATS}. Received: format={format!r}")
    if not inputs:
        raise ValueError("`inputs` must name at least one input.")
    arrays = {name: np.asarray(value) for name, value in inputs.items()}
    if metadata is not None:
        _check_against(metadata, signature_name, arrays)
    batch_sizes = {array.shape[0] if array.ndim else None for array in arrays.values()}
    row_possible = None not in batch_sizes and len(batch_sizes) == 1
    if format == "row" and not row_possible:
        raise ValueError(
            "The row format needs every input to have the same batch dimension; "
            f"shapes are { ({name: array.shape for name, array in arrays.items()}) }. Use format='columnar'."
        )
    if format == "columnar" or (format == "auto" and not row_possible):
        return {"signature_name": signature_name, "inputs": {name: array.tolist() for name, array in arrays.items()}}
    if len(arrays) == 1:
        (array,) = arrays.values()
        instances = array.tolist()
    else:
        count = next(iter(batch_sizes))
        instances = [{name: array[index].tolist() for name, array in arrays.items()} for index in range(count)]
    return {"signature_name": signature_name, "instances": instances}


def parse_predict_response(body, output_names=None):
    """`{output name: np.ndarray}` from a predict response body (a parsed JSON dict).

    Args:
        body: the response JSON.
        output_names: the signature's outputs, to name a single-output
            response (TF Serving leaves the name out); defaults to `"output"`.

    Raises:
        ServingError: for an `{"error": ...}` body.
    """
    if "error" in body:
        raise ServingError(body["error"])
    single = output_names[0] if output_names and len(output_names) == 1 else "output"
    if "outputs" in body:
        outputs = body["outputs"]
        if isinstance(outputs, dict):
            return {name: np.asarray(value) for name, value in outputs.items()}
        return {single: np.asarray(outputs)}
    if "predictions" in body:
        rows = body["predictions"]
        if rows and isinstance(rows[0], dict):
            return {name: np.asarray([row[name] for row in rows]) for name in rows[0]}
        return {single: np.asarray(rows)}
    raise ServingError(f"Not a predict response: keys {sorted(body)}.")
