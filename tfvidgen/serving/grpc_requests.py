"""TF Serving's gRPC API: `PredictRequest` protos (needs `tensorflow-serving-api`)."""

import numpy as np
import tensorflow as tf


def _apis():
    try:
        from tensorflow_serving.apis import predict_pb2
    except ImportError as error:
        raise ImportError(
            "gRPC requests need the TF Serving protos: `pip install tfvidgen[serving]` (tensorflow-serving-api)."
        ) from error
    return predict_pb2


def build_predict_request_proto(model_name, inputs, signature_name="serving_default", version=None):
    """A `tensorflow_serving.apis.predict_pb2.PredictRequest`.

    Args:
        model_name: the served model's name.
        inputs: `{input name: array-like}`; scalars stay scalars (gRPC, unlike
            the REST row format, takes any shape).
        signature_name: the signature to call.
        version: a model version, or `None` for the latest.
    """
    predict_pb2 = _apis()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = signature_name
    if version is not None:
        request.model_spec.version.value = int(version)
    for name, value in inputs.items():
        request.inputs[name].CopyFrom(tf.make_tensor_proto(np.asarray(value)))
    return request


def parse_predict_response_proto(response):
    """`{output name: np.ndarray}` from a `PredictResponse`."""
    return {name: tf.make_ndarray(proto) for name, proto in response.outputs.items()}


def predict_grpc(target, model_name, inputs, signature_name="serving_default", version=None, timeout=60.0):
    """Calls `PredictionService.Predict` on `target` (e.g. `"localhost:8500"`)."""
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        request = build_predict_request_proto(model_name, inputs, signature_name, version)
        return parse_predict_response_proto(stub.Predict(request, timeout=timeout))
