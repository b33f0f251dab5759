import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfvidgen import export
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoVAE
from tfvidgen.serving import DevServer
from tfvidgen.serving import ExportedModel
from tfvidgen.serving import ServingClient
from tfvidgen.serving import ServingError
from tfvidgen.serving import build_predict_request
from tfvidgen.serving import build_predict_request_proto
from tfvidgen.serving import metadata_url
from tfvidgen.serving import model_config_list
from tfvidgen.serving import parse_predict_response
from tfvidgen.serving import parse_predict_response_proto
from tfvidgen.serving import predict_url
from tfvidgen.serving import signature_specs


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("served")
    convlstm = ConvLSTMPredictor.from_preset("tiny", seed=1)
    vae = VideoVAE.from_preset("tiny", seed=1)
    export.export_for_serving(convlstm, base / "convlstm", warmup=False)
    export.export_for_serving(vae, base / "vae", warmup=False)
    with DevServer({"convlstm": base / "convlstm", "vae": base / "vae"}) as server:
        yield server, convlstm, vae


@pytest.fixture(scope="module")
def served_simvp(tmp_path_factory):
    base = tmp_path_factory.mktemp("served_simvp")
    keras.utils.set_random_seed(2)
    simvp = SimVPPredictor.from_preset("tiny")
    export.export_for_serving(simvp, base / "simvp", warmup=False)
    with DevServer({"simvp": base / "simvp"}) as server:
        yield server, simvp, base / "simvp"


def test_a_simvp_export_serves_through_the_predictor_calls(served, served_simvp):
    server, simvp, path = served_simvp
    client = ServingClient(server.url, "simvp")
    context = np.random.default_rng(3).random((2, 3, 16, 16, 1)).astype(np.float32)
    # One `predict` contract for both predictors: `frames` in, `next_frames` out (SimVP's took `context` before).
    convlstm_metadata = ServingClient(served[0].url, "convlstm").metadata()
    simvp_inputs, simvp_outputs = signature_specs(client.metadata(), "predict")
    assert simvp_inputs == {"frames": ("DT_FLOAT", [-1, -1, 16, 16, 1])} and simvp_outputs == ["next_frames"]
    assert signature_specs(convlstm_metadata, "predict") == (simvp_inputs, simvp_outputs)
    exported = ExportedModel(path)
    # Byte-equal: the served signature is the model's own `call` / `rollout`, traced.
    np.testing.assert_array_equal(client.next_frames(context), exported.next_frames(context).numpy())
    np.testing.assert_allclose(client.next_frames(context), simvp(context).numpy(), atol=1e-5)
    assert client.next_frames(context).shape == (2, 2, 16, 16, 1)  # The SimVP's `future_frames` after the context.
    future = client.predict_future(context, 5)
    np.testing.assert_array_equal(future, client.rollout(context, 5))
    np.testing.assert_array_equal(future, simvp.predict_future(context, 5).numpy())
    np.testing.assert_array_equal(future, exported.predict_future(context, 5).numpy())


def test_urls_and_model_config():
    assert predict_url("http://host:8501/", "vae") == "http://host:8501/v1/models/vae:predict"
    assert metadata_url("http://h:1", "vae", version=3) == "http://h:1/v1/models/vae/versions/3/metadata"
    text = model_config_list({"convlstm": "/models/convlstm", "vae": "/models/vae"})
    assert text.count("config {") == 2 and 'base_path: "/models/vae"' in text and text.startswith("model_config_list {")
    with pytest.raises(ValueError, match="without spaces"):
        model_config_list({"my model": "/m"})


def test_row_and_columnar_request_bodies():
    frames = np.zeros((2, 3, 4, 4, 1), np.float32)
    row = build_predict_request({"frames": frames}, "predict")
    assert row["signature_name"] == "predict" and len(row["instances"]) == 2
    assert np.asarray(row["instances"]).shape == (2, 3, 4, 4, 1)
    multi = build_predict_request({"a": np.ones((2, 3)), "b": np.zeros((2,))}, format="row")
    assert multi["instances"][1] == {"a": [1.0, 1.0, 1.0], "b": 0.0}
    auto = build_predict_request({"context": frames, "num_future_frames": 5}, "rollout")
    assert "inputs" in auto and auto["inputs"]["num_future_frames"] == 5
    with pytest.raises(ValueError, match="row format needs every input to have the same batch"):
        build_predict_request({"context": frames, "num_future_frames": 5}, format="row")


def test_response_parsing():
    rows = {"predictions": [{"z_mean": [1, 2], "z_log_var": [0, 0]}, {"z_mean": [3, 4], "z_log_var": [1, 1]}]}
    parsed = parse_predict_response(rows)
    np.testing.assert_array_equal(parsed["z_mean"], [[1, 2], [3, 4]])
    assert parse_predict_response({"predictions": [[1.0], [2.0]]}, ["clips"])["clips"].shape == (2, 1)
    assert parse_predict_response({"outputs": [[0.5]]}, ["future_frames"])["future_frames"].shape == (1, 1)
    with pytest.raises(ServingError, match="boom"):
        parse_predict_response({"error": "boom"})


def test_requests_are_checked_against_the_served_signatures(served):
    server, _, _ = served
    metadata = ServingClient(server.url, "convlstm").metadata()
    inputs, outputs = signature_specs(metadata, "rollout")
    assert inputs == {"context": ("DT_FLOAT", [-1, -1, 16, 16, 1]), "num_future_frames": ("DT_INT32", None)}
    assert outputs == ["future_frames"]
    good = np.zeros((1, 2, 16, 16, 1), np.float32)
    build_predict_request({"context": good, "num_future_frames": 3}, "rollout", metadata=metadata)
    with pytest.raises(
        ValueError,
        match=r"Input 'context' must have shape \(None, None, 16, 16, 1\); the request has \(1, 2, 8, 8, 1\)",
    ):
        build_predict_request(
            {"context": np.zeros((1, 2, 8, 8, 1), np.float32), "num_future_frames": 3}, "rollout", metadata=metadata
        )
    with pytest.raises(ValueError, match="takes inputs \\['context', 'num_future_frames'\\]"):
        build_predict_request({"context": good}, "rollout", metadata=metadata)
    with pytest.raises(ValueError, match="must be DT_INT32"):
        build_predict_request({"context": good, "num_future_frames": 2.5}, "rollout", metadata=metadata)
    with pytest.raises(ServingError, match="no signature 'predict_uint8'"):
        signature_specs(metadata, "predict_uint8")


def test_client_against_the_dev_server(served):
    server, convlstm, vae = served
    client = ServingClient(server.url, "convlstm")
    context = np.random.default_rng(0).random((2, 3, 16, 16, 1)).astype(np.float32)
    np.testing.assert_allclose(client.rollout(context, 4), convlstm.predict_future(context, 4).numpy(), atol=1e-5)
    np.testing.assert_allclose(client.next_frames(context), convlstm(context).numpy(), atol=1e-5)
    vae_client = ServingClient(server.url, "vae", version=1)
    np.testing.assert_allclose(vae_client.sample(3, seed=4), vae.sample(3, seed=4).numpy(), atol=1e-5)
    clips = np.random.default_rng(1).random((2, 4, 16, 16, 1)).astype(np.float32)
    outputs = vae_client.reconstruct(clips)
    assert sorted(outputs) == ["reconstruction", "z_log_var", "z_mean"]
    np.testing.assert_allclose(outputs["z_mean"], vae.encode(clips)[0].numpy(), atol=1e-5)
    np.testing.assert_array_equal(vae_client.encode(clips)["z_mean"], outputs["z_mean"])
    latents = np.random.default_rng(2).normal(size=(2, vae.latent_dim)).astype(np.float32)
    np.testing.assert_allclose(vae_client.decode(latents), vae.decode(latents).numpy(), atol=1e-5)


def test_the_old_client_verb_warns_and_gives_the_same_clips(tmp_path):
    gan = VideoDCGAN.from_preset("tiny", seed=1)
    export.export_for_serving(gan, tmp_path / "gan", warmup=False)
    latents = np.random.default_rng(2).normal(size=(2, gan.latent_dim)).astype(np.float32)
    with DevServer({"gan": tmp_path / "gan"}) as server:
        client = ServingClient(server.url, "gan")
        with pytest.warns(
            DeprecationWarning, match=r"`ServingClient.generate` is deprecated .* `ServingClient.decode`"
        ):
            old = client.generate(latents)
        np.testing.assert_array_equal(old, client.decode(latents))
    np.testing.assert_allclose(old, gan.decode(latents).numpy(), atol=1e-5)


def test_server_errors_reach_the_client(served, monkeypatch):
    server, _, _ = served
    client = ServingClient(server.url, "convlstm")
    # Skip the client-side check to see the server's own in-graph message.
    monkeypatch.setattr("tfvidgen.serving.rest._check_against", lambda *args: None)
    with pytest.raises(ServingError, match=r"(?s)400 .*`frames` must have shape \(batch, frames, 16, 16, 1\)"):
        client.predict({"frames": np.zeros((1, 2, 16, 16, 3), np.float32)}, "predict")
    with pytest.raises(ServingError, match="404 .*unknown model"):
        ServingClient(server.url, "gan").metadata()
    with pytest.raises(ServingError, match="Specific\\(vae, 9\\)"):
        ServingClient(server.url, "vae", version=9).metadata()
    with pytest.raises(ConnectionError, match="Cannot reach TF Serving"):
        ServingClient("http://127.0.0.1:9", "vae", timeout=2).metadata()


def test_grpc_request_protos():
    context = np.zeros((1, 2, 16, 16, 1), np.float32)
    request = build_predict_request_proto(
        "convlstm", {"context": context, "num_future_frames": np.int32(5)}, "rollout", version=2
    )
    assert (request.model_spec.name, request.model_spec.signature_name, request.model_spec.version.value) == (
        "convlstm",
        "rollout",
        2,
    )
    assert request.inputs["context"].dtype == tf.float32.as_datatype_enum
    assert [dim.size for dim in request.inputs["context"].tensor_shape.dim] == [1, 2, 16, 16, 1]
    assert request.inputs["num_future_frames"].tensor_shape.dim == [] and request.inputs[
        "num_future_frames"
    ].int_val == [5]
    from tensorflow_serving.apis import predict_pb2

    response = predict_pb2.PredictResponse()
    response.outputs["future_frames"].CopyFrom(tf.make_tensor_proto(np.ones((1, 5, 16, 16, 1), np.float32)))
    assert parse_predict_response_proto(response)["future_frames"].shape == (1, 5, 16, 16, 1)


def _raw_post(server, body, headers=None, path="/v1/models/vae:predict", timeout=30):
    """Sends bytes as a predict request; returns (status, parsed JSON body, headers)."""
    import http.client
    import json
    from urllib.parse import urlparse

    address = urlparse(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
    try:
        connection.putrequest("POST", path)
        for key, value in (headers or {"Content-Length": str(len(body))}).items():
            connection.putheader(key, value)
        connection.endheaders()
        connection.send(body)
        response = connection.getresponse()
        return response.status, json.loads(response.read()), dict(response.getheaders())
    finally:
        connection.close()


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b"[1, 2]", 400, "must be a JSON object .* received a list"),
        (b'"clips"', 400, "received a str"),
        (b"null", 400, "received a null"),
        (b"{not json", 400, "not valid JSON"),
        (b"\xff\xfe", 400, "not valid JSON"),
        (b"[" * 200_000 + b"]" * 200_000, 400, "nested too deeply"),
        (b'{"instances": 3}', 400, "'instances' must be a non-empty list"),
        (b'{"instances": [{"clips": 1}, 2]}', 400, "Every instance must be an object"),
        (b'{"inputs": {"clips": [[1, 2], [3]]}}', 400, ""),
        (b'{"signature_name": ["x"], "inputs": {}}', 400, "not found in signature def"),
        # 2.5 was truncated to 2 and 2**40 wrapped to 0 on the way to an int32 input.
        (b'{"signature_name": "sample", "inputs": {"num_samples": 2.5, "seed": 0}}', 400, "must hold integers"),
        (b'{"signature_name": "sample", "inputs": {"num_samples": 1099511627776, "seed": 0}}', 400, "within"),
    ],
)
def test_the_dev_server_answers_every_bad_body_with_json(served, body, status, message):
    server, _, _ = served
    code, response, _ = _raw_post(server, body)
    assert code == status and "error" in response
    assert re.search(message, response["error"]), response["error"]


def test_the_dev_server_limits_size_and_time(served, tmp_path):
    server, _, _ = served
    code, response, _ = _raw_post(server, b"", headers={"Content-Length": str(50 * 2**20)})
    assert code == 413 and "limit is 33,554,432" in response["error"]  # Refused before reading 50 MB.
    code, response, _ = _raw_post(server, b"{}", headers={"Content-Length": "-5"})
    assert code == 400 and "non-negative integer" in response["error"]
    export.export_for_serving(VideoVAE.from_preset("tiny", seed=1), tmp_path / "vae", warmup=False)
    with DevServer({"vae": tmp_path / "vae"}, read_timeout=0.5) as slow:
        code, response, _ = _raw_post(slow, b"{", headers={"Content-Length": "100"})  # 99 bytes never come.
        assert code == 408 and "within 0.5 s" in response["error"]
    with pytest.raises(FileNotFoundError, match="'missing' holds no SavedModel version"):
        DevServer({"vae": "missing"})


def test_non_finite_outputs_come_back_as_null_with_a_warning(served, monkeypatch):
    server, _, _ = served
    from tfvidgen.serving import request_bodies

    original = request_bodies.response

    def poisoned(outputs, row):
        outputs = dict(outputs)
        name = sorted(outputs)[0]
        values = outputs[name].numpy().copy()
        values.flat[:2] = [np.nan, np.inf]
        outputs[name] = tf.constant(values)
        return original(outputs, row)

    monkeypatch.setattr(request_bodies, "response", poisoned)
    body = b'{"signature_name": "sample", "inputs": {"num_samples": 1, "seed": 0}}'
    code, response, headers = _raw_post(server, body)
    assert code == 200 and headers["X-Tfvidgen-Warning"].startswith("2 non-finite output values")
    flat = np.asarray(response["outputs"], dtype=object).ravel()
    assert flat[0] is None and flat[1] is None and isinstance(flat[2], float)


def test_fuzzed_requests_always_get_a_json_answer(served):
    server, _, _ = served
    rng = np.random.default_rng(0)
    pieces = [b"{", b"}", b"[", b"]", b'"instances"', b'"inputs"', b":", b",", b"1", b"null", b'"clips"', b"1e999"]
    for _ in range(40):  # Bounded: 40 requests to the loopback server.
        if rng.random() < 0.3:
            body = rng.bytes(int(rng.integers(0, 64)))
        else:
            body = b"".join(pieces[index] for index in rng.integers(0, len(pieces), int(rng.integers(1, 20))))
        code, response, _ = _raw_post(server, body)
        assert 400 <= code < 500 and isinstance(response.get("error"), str), (body, code, response)
