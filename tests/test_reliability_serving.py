"""Bounds and deadlines that keep one request or call from holding the machine (issue 27, items 4 and 8).

Each check that would run away on code without the bound asks for a small excess
first (factor 128), so that the runaway value (2**20, 2**30) is only tried once
the bound has been seen to hold.
"""

import json
import select
import socket
import threading
import time
from urllib.parse import urlparse

import numpy as np
import pytest
import tensorflow as tf

from tfvidgen import export
from tfvidgen import postprocess
from tfvidgen import validation
from tfvidgen.models import FrameInterpolator
from tfvidgen.serving import DevServer
from tfvidgen.serving import ExportedModel

FACTOR_MESSAGE = r"`factor` must be at most 64 \(tfvidgen.validation.MAX_INTERPOLATION_FACTOR\). Received: factor="


def _clip(frames, shape=(16, 16, 1)):
    return np.random.default_rng(frames).random((frames,) + shape).astype("float32")


@pytest.fixture(scope="module")
def interpolator(tmp_path_factory):
    """A tiny interpolator, its export and a dev server with a 1 s read deadline."""
    base = tmp_path_factory.mktemp("reliability") / "interp"
    model = FrameInterpolator.from_preset("tiny")
    export.export_for_serving(model, base, warmup=False)
    with DevServer({"interp": base}, read_timeout=1.0) as server:
        yield model, base, server


def _post(server, body, path="/v1/models/interp:predict"):
    import http.client

    address = urlparse(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        connection.request("POST", path, data, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


# === Item 4: the interpolation factor and the frames it makes are bounded ===


def test_the_bound_is_one_shared_constant():
    assert validation.MAX_INTERPOLATION_FACTOR == 64
    assert validation.interpolated_frames(3, 64) == 129 and validation.interpolated_frames(1, 64) == 1
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "65$"):
        validation.interpolated_frames(2, 65)
    with pytest.raises(ValueError, match=r"`factor`=64 would make 102,337 frames from 1,600; at most 100,000"):
        validation.interpolated_frames(1600, 64)


def test_the_model_refuses_a_factor_beyond_the_bound(interpolator):
    model, _, _ = interpolator
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "128$"):
        model.interpolate_clip(_clip(3), factor=128)
    start = time.monotonic()
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "1048576$"):
        model.interpolate_clip(_clip(3), factor=2**20)  # Ran until memory ran out.
    assert time.monotonic() - start < 1.0
    with pytest.raises(ValueError, match=r"`factor`=64 would make 102,337 frames from 1,600; at most 100,000"):
        model.interpolate_clip(_clip(1600), factor=64)
    assert model.interpolate_clip(_clip(3), factor=64).shape == (129, 16, 16, 1)  # The bound itself is allowed.


def test_the_exported_graph_refuses_a_huge_factor_before_allocating(interpolator):
    _, base, _ = interpolator
    interpolate_clip = tf.saved_model.load(str(base / "1")).signatures["interpolate_clip"]
    clip = tf.constant(_clip(3))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`factor` must be at most 64\] .*\[128\]"):
        interpolate_clip(clip=clip, factor=tf.constant(128))
    start = time.monotonic()
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"`factor` must be at most 64\] .*\[1073741824\]"):
        interpolate_clip(clip=clip, factor=tf.constant(2**30))  # Ran 79 s into a 23.6 GB ResourceExhaustedError.
    assert time.monotonic() - start < 2.0
    with pytest.raises(
        tf.errors.InvalidArgumentError,
        match=r"`factor` would make \(frames - 1\) \* factor \+ 1 frames, more than 100000\] .*\[102337\]",
    ):
        interpolate_clip(clip=tf.constant(_clip(1600)), factor=tf.constant(64))
    assert interpolate_clip(clip=clip, factor=tf.constant(64))["frames"].shape == (129, 16, 16, 1)
    # The Python wrapper checks before calling the graph (an older export's graph has no bound).
    exported = ExportedModel(base)
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "128$"):
        exported.interpolate_clip(_clip(3), 128)
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "1073741824$"):
        exported.interpolate_clip(_clip(3), 2**30)


def test_postprocess_interpolation_refuses_a_factor_beyond_the_bound():
    clip = _clip(2, (4, 4, 1))
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "128$"):
        postprocess.interpolate(clip, 128, method="blend")
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "1048576$"):
        postprocess.interpolate(clip, 2**20, method="blend")
    with pytest.raises(ValueError, match=FACTOR_MESSAGE + "65$"):
        postprocess.iter_interpolated(iter(clip), 65, method="repeat")
    with pytest.raises(
        ValueError,
        match=r"`target_fps` must be at most 64 times `source_fps` \(tfvidgen.validation.MAX_INTERPOLATION_FACTOR\)"
        r". Received: target_fps=1000.0, source_fps=10.0",
    ):
        postprocess.retime(clip, 10, 1000, method="repeat")
    with pytest.raises(ValueError, match=r"`step` must be at least 1/64: at most 64 output frames per source frame"):
        postprocess.speed(clip, 1 / 128, method="repeat")
    with pytest.raises(ValueError, match=r"`step` must be at least 1/64.*Received: step=0.0078125"):
        postprocess.iter_resampled(iter(clip), 1 / 128, method="repeat")  # At the call, not at the first frame.
    with pytest.raises(ValueError, match=r"`factor`=64 would make 127,937 frames from 2,000; at most 100,000"):
        postprocess.interpolate(np.zeros((2000, 2, 2, 1), np.float32), 64, method="repeat")
    with pytest.raises(ValueError, match=r"`target_fps`=640.0 would make 127,937 frames from 2,000; at most 100,000"):
        postprocess.retime(np.zeros((2000, 2, 2, 1), np.float32), 10, 640, method="repeat")
    assert postprocess.interpolate(clip, 64, method="blend").shape == (65, 4, 4, 1)
    assert postprocess.retime(clip, 10, 640, method="repeat").shape == (65, 4, 4, 1)


def test_the_dev_server_refuses_a_huge_factor_without_running_the_graph(interpolator):
    _, _, server = interpolator
    clip = _clip(2).tolist()
    warm = _post(server, {"signature_name": "interpolate_clip", "inputs": {"clip": clip, "factor": 1}})
    assert warm[0] == 200  # The export is loaded at the first request: not part of the times below.
    for factor in (128, 16384, 2**30):  # 16384 was answered with 94 MB.
        start = time.monotonic()
        status, response = _post(
            server, {"signature_name": "interpolate_clip", "inputs": {"clip": clip, "factor": factor}}
        )
        assert status == 400 and time.monotonic() - start < 2.0
        # The server's own check, not the graph's: an export made before the graph checked `factor` is safe too.
        assert response == {
            "error": "Input 'factor' must be at most 64 (tfvidgen.validation.MAX_INTERPOLATION_FACTOR); "
            f"received {factor:,}."
        }
    # The graph's checks come back as one line: the message and the value received.
    status, response = _post(
        server, {"signature_name": "interpolate_clip", "inputs": {"clip": _clip(1600).tolist(), "factor": 64}}
    )
    assert status == 400
    assert response == {
        "error": "`factor` would make (frames - 1) * factor + 1 frames, more than 100000. Received: 102337"
    }
    status, response = _post(server, {"signature_name": "interpolate_clip", "inputs": {"clip": clip, "factor": 3}})
    assert (status, response) == (400, {"error": "`factor` must be a power of 2"})
    status, response = _post(server, {"signature_name": "interpolate_clip", "inputs": {"clip": clip, "factor": 64}})
    assert status == 200 and np.asarray(response["outputs"]).shape == (65, 16, 16, 1)


def test_the_dev_server_bounds_the_numbers_it_sends(interpolator):
    _, base, _ = interpolator
    body = {"signature_name": "interpolate_clip", "inputs": {"clip": _clip(3).tolist(), "factor": 4}}
    with DevServer({"interp": base}, max_response_values=2000) as server:  # 9 frames of 16x16 are 2,304.
        assert _post(server, body) == (
            400,
            {
                "error": "The response would hold 2,304 numbers; this server sends at most 2,000 "
                "(max_response_values). Ask for fewer frames or samples."
            },
        )
        body["inputs"]["factor"] = 2
        status, response = _post(server, body)
        assert status == 200 and np.asarray(response["outputs"]).shape == (5, 16, 16, 1)
    with pytest.raises(ValueError, match=r"`max_response_values` must be a positive integer \(>= 1\). Received: "):
        DevServer({"interp": base}, max_response_values=0)


# === Item 8: bodies the server used to answer with 200, one deadline per request, a burst of connections ===


def _frames_with(value):
    """A (1, 16, 16, 1) batch as JSON-ready lists, its first pixel replaced by `value`."""
    frames = np.zeros((1, 16, 16, 1)).tolist()
    frames[0][0][0][0] = value
    return frames


@pytest.mark.parametrize(
    "body, message",
    [
        (
            {
                "signature_name": "interpolate",
                "instances": [{"frame_a": _frames_with(0.5)[0], "frame_b": _frames_with(0.5)[0]}],
                "inputs": {"frame_a": _frames_with(0.5), "frame_b": _frames_with(0.5)},
            },
            "The request body must have 'instances' (row format) or 'inputs' (columnar format), not both.",
        ),
        (
            {"signature_name": "interpolate", "inputs": {"frame_a": _frames_with(True), "frame_b": _frames_with(0.5)}},
            "Input 'frame_a' must hold numbers (float32); received true/false.",
        ),
        (
            {
                "signature_name": "interpolate",
                "instances": [{"frame_a": _frames_with(0.5)[0], "frame_b": _frames_with(False)[0]}],
            },
            "Input 'frame_b' must hold numbers (float32); received true/false.",
        ),
    ],
    ids=["instances-and-inputs", "true-in-columnar", "false-in-row"],
)
def test_the_dev_server_refuses_ambiguous_bodies_and_booleans(interpolator, body, message):
    _, _, server = interpolator
    assert _post(server, body) == (400, {"error": message})


def _dripping_client(server, prefix, seconds=4.0, interval=0.3):
    """Sends `prefix`, then a byte every `interval` s; returns (seconds until answered or closed, bytes received)."""
    address = urlparse(server.url)
    client = socket.create_connection((address.hostname, address.port), timeout=5)
    start = time.monotonic()
    try:
        client.sendall(prefix)
        while time.monotonic() - start < seconds:
            readable, _, _ = select.select([client], [], [], interval)
            if readable:
                received = b""
                while chunk := client.recv(65536):
                    received += chunk
                return time.monotonic() - start, received
            try:
                client.sendall(b"a")
            except OSError:  # Closed by the server.
                return time.monotonic() - start, b""
        return time.monotonic() - start, None
    finally:
        client.close()


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_the_read_deadline_covers_the_whole_request(interpolator, phase):
    _, _, server = interpolator
    request = b"POST /v1/models/interp:predict HTTP/1.1\r\nHost: localhost\r\n"
    prefix = request + (b"X-Slow: " if phase == "headers" else b"Content-Length: 1000\r\n\r\n{")
    # A byte every 0.3 s restarted a per-read timeout of 1 s forever; the request gets 1 s in all.
    elapsed, received = _dripping_client(server, prefix)
    assert received is not None, "the server still waited for the dripping client after 4 s"
    assert elapsed < 2.0
    assert received.startswith(b"HTTP/1.0 408 ")
    assert json.loads(received.split(b"\r\n\r\n", 1)[1]) == {"error": "The request was not received within 1 s."}


def test_a_burst_of_half_closing_clients_is_accepted_and_answered(interpolator):
    _, base, _ = interpolator
    count = 100
    server = DevServer({"interp": base})  # Listening, not yet accepting: the kernel's backlog holds them all.
    clients = []
    try:
        address = urlparse(server.url)
        for index in range(count):
            try:
                clients.append(socket.create_connection((address.hostname, address.port), timeout=1.0))
            except OSError as error:  # With socketserver's backlog of 5 the 7th connection timed out.
                pytest.fail(f"connection {index + 1} of {count} failed: {error!r}")
        server.start()
        for client in clients:
            client.settimeout(10)
            client.sendall(b"GET /v1/models/interp HTTP/1.1\r\nHost: localhost\r\n\r\n")
            client.shutdown(socket.SHUT_WR)
        answers = []
        for client in clients:
            received = b""
            while chunk := client.recv(65536):
                received += chunk
            answers.append(received)
    finally:
        for client in clients:
            client.close()
        if server.thread is not None:
            server.stop()
        else:
            server.httpd.server_close()
    assert sum(answer.startswith(b"HTTP/1.0 200 ") and b'"AVAILABLE"' in answer for answer in answers) == count


def test_a_server_never_started_stops_at_once(interpolator):
    _, base, _ = interpolator
    server = DevServer({"interp": base})
    stopping = threading.Thread(target=server.stop, daemon=True)  # `shutdown` waited for a loop never started.
    stopping.start()
    stopping.join(timeout=5)
    assert not stopping.is_alive()


def test_the_dev_server_refuses_a_response_too_large_before_running_the_graph(tmp_path):
    from tfvidgen.models import VideoVAE

    base = tmp_path / "vae"
    export.export_for_serving(VideoVAE.from_preset("tiny"), base, warmup=False)
    with DevServer({"vae": base}, max_response_values=10**6) as server:
        sample = {"signature_name": "sample", "inputs": {"num_samples": 2, "seed": 0}}
        status, response = _post(server, sample, "/v1/models/vae:predict")
        assert status == 200 and np.asarray(response["outputs"]).shape == (2, 4, 16, 16, 1)
        # 100,000 clips of 4x16x16x1 would be 102.4 million numbers computed before a refusal after the graph.
        sample["inputs"]["num_samples"] = 100_000
        start = time.monotonic()
        status, response = _post(server, sample, "/v1/models/vae:predict")
        assert time.monotonic() - start < 2.0
        assert (status, response) == (
            400,
            {
                "error": "The response would hold 102,400,000 numbers; this server sends at most 1,000,000 "
                "(max_response_values). Ask for fewer frames or samples."
            },
        )
        # A bound given as a JSON float is the same bound.
        sample["inputs"]["num_samples"] = 1073741824.0
        status, response = _post(server, sample, "/v1/models/vae:predict")
        assert status == 400 and response["error"].startswith("Input 'num_samples' must be at most ")
