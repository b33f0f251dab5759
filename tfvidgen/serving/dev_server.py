"""A development server speaking TF Serving's REST API, for laptops, notebooks and tests.

It is **not** TF Serving: it runs the SavedModel's signatures with TensorFlow's
Python API in one process (`tfvidgen.export.check_servable` is the proof that
TF Serving's C++ loader takes an export). It answers the same URLs with the
same JSON: `GET /v1/models/NAME[/versions/N]`, `.../metadata`, and
`POST .../NAME[/versions/N]:predict` in row or columnar format, so code written
against it works against `tensorflow_model_server --rest_api_port`.

It always answers, with a JSON body: a request body that is not a JSON object,
nested too deeply, with both `instances` and `inputs`, with true/false where
numbers are expected, larger than `max_request_bytes` (413), a request (request
line, headers and body together) not received within `read_timeout` seconds
(408), a count beyond tfvidgen's bounds (`factor` above
`tfvidgen.validation.MAX_INTERPOLATION_FACTOR`, refused before the graph runs)
or outputs of more than `max_response_values` numbers gets a 4xx error naming
the problem; an unexpected failure is a 500 with its
message. Non-finite outputs (NaN, Inf) are returned as JSON `null`, with the
header `X-Tfvidgen-Warning` saying how many.
"""

import http.server
import io
import json
import math
import os
import re
import socket
import threading
import time

import numpy as np
import tensorflow as tf
from google.protobuf import json_format

from tfvidgen import validation
from tfvidgen.export import saved_model as saved_model_lib
from tfvidgen.export.servable import signature_defs
from tfvidgen.serving import request_bodies

DEFAULT_MAX_REQUEST_BYTES = 32 * 2**20
DEFAULT_READ_TIMEOUT = 30.0
# Output numbers in one response, about 700 MB of JSON (and 1 GB of Python floats while it is written):
# 8,192 frames of 64x64x1, 2,730 of 64x64x3.
DEFAULT_MAX_RESPONSE_VALUES = 2**25
# Connections the kernel holds before the server accepts them; socketserver's 5 reset clients of a burst.
LISTEN_BACKLOG = 1024
WARNING_HEADER = "X-Tfvidgen-Warning"
_ROUTE = re.compile(r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?(?P<rest>/metadata|:predict)?$")


class _Model:
    """One served model: its base path, loaded versions and metadata."""

    def __init__(self, name, base_path):
        self.name = name
        self.base_path = os.fspath(base_path)
        self.loaded = {}
        self.lock = threading.Lock()

    def version(self, requested):
        available = saved_model_lib.versions(self.base_path)
        if not available:
            raise LookupError(f"Servable not found for request: Latest({self.name})")
        if requested is None:
            return available[-1]
        if int(requested) not in available:
            raise LookupError(f"Servable not found for request: Specific({self.name}, {requested})")
        return int(requested)

    def signatures(self, version):
        with self.lock:
            if version not in self.loaded:
                self.loaded[version] = tf.saved_model.load(os.path.join(self.base_path, str(version)))
            return self.loaded[version].signatures

    def metadata(self, version):
        definitions = signature_defs(os.path.join(self.base_path, str(version)))
        return {
            "model_spec": {"name": self.name, "signature_name": "", "version": str(version)},
            "metadata": {
                "signature_def": {
                    "signature_def": {
                        name: json_format.MessageToDict(proto, preserving_proto_field_name=True)
                        for name, proto in definitions.items()
                    }
                }
            },
        }


class RequestError(Exception):
    """A request the server answers with a 4xx status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class _DeadlineReader(io.RawIOBase):
    """The connection's reads against one deadline per request, where a socket timeout restarts on every byte.

    A client sending a byte a second held a thread for as long as it liked
    against a 30 s socket timeout; here the request line, headers and body
    together get `read_timeout` seconds.
    """

    def __init__(self, connection, idle_timeout):
        self.connection = connection
        self.idle_timeout = idle_timeout  # The socket's timeout between reads, i.e. while the response is written.
        self.start(idle_timeout)

    def start(self, seconds):
        self.deadline = time.monotonic() + seconds
        self.received = 0
        self.timed_out = False

    def readable(self):
        return True

    def readinto(self, buffer):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.timed_out = True
            raise TimeoutError("The request's read deadline has passed.")
        self.connection.settimeout(remaining)
        try:
            count = self.connection.recv_into(buffer)
        except TimeoutError:
            self.timed_out = True
            raise
        finally:
            self.connection.settimeout(self.idle_timeout)
        self.received += count
        return count


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "tfvidgen-dev-server"

    def setup(self):
        self.timeout = self.server.read_timeout  # Applied to the socket: a stalled client cannot hold a thread.
        super().setup()
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self.server.read_timeout))

    def handle_one_request(self):
        reader = self.rfile.raw
        reader.start(self.server.read_timeout)  # The deadline covers this request's line, headers and body.
        self.answered = False
        super().handle_one_request()
        if reader.timed_out and reader.received and not self.answered:
            # The request line or headers stalled (a stalled body is answered in `_read_body`).
            if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
                self.request_version = "HTTP/1.1"
            self.requestline = getattr(self, "requestline", "")
            try:
                self._send(408, {"error": self._timeout_message()})
            except OSError:
                pass
            self.close_connection = True

    def _timeout_message(self):
        return f"The request was not received within {self.server.read_timeout:g} s."

    def log_message(self, *args):  # Quiet by default.
        pass

    def _send(self, status, body, headers=None):
        self.answered = True
        data = json.dumps(body, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if status >= 400:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _route(self):
        match = _ROUTE.match(self.path)
        if not match or match.group("name") not in self.server.models:
            raise LookupError(f"Malformed request or unknown model: {self.path}")
        model = self.server.models[match.group("name")]
        return model, model.version(match.group("version")), match.group("rest")

    def _answer(self, handler):
        """Runs `handler`, turning every failure into a JSON error response."""
        try:
            handler()
        except LookupError as error:
            self._send(404, {"error": str(error)})
        except RequestError as error:
            self._send(error.status, {"error": str(error)})
        except (ValueError, TypeError, KeyError, tf.errors.OpError) as error:
            message = request_bodies.op_error_message(error) if isinstance(error, tf.errors.OpError) else str(error)
            self._send(400, {"error": message})
        except (socket.timeout, ConnectionError):
            self.close_connection = True  # The client is gone or stalled; nothing can be sent.
        except Exception as error:  # A bug: still an answer, not a dropped connection.
            self._send(500, {"error": f"{type(error).__name__}: {error}"})

    def do_GET(self):
        self._answer(self._get)

    def do_POST(self):
        self._answer(self._post)

    def _get(self):
        model, version, rest = self._route()
        if rest == "/metadata":
            return self._send(200, model.metadata(version))
        status = {"version": str(version), "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
        return self._send(200, {"model_version_status": [status]})

    def _read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            raise RequestError(411, "A predict request needs a Content-Length header.")
        if not length.strip().isdigit():
            raise RequestError(400, f"Content-Length must be a non-negative integer. Received: {length!r}")
        length = int(length)
        if length > self.server.max_request_bytes:
            raise RequestError(
                413, f"The request body has {length:,} bytes; the limit is {self.server.max_request_bytes:,}."
            )
        try:
            data = self.rfile.read(length)
        except socket.timeout:
            raise RequestError(408, self._timeout_message()) from None
        if len(data) < length:
            raise RequestError(400, f"The request body ended after {len(data):,} of {length:,} bytes.")
        try:
            body = json.loads(data or b"{}")
        except RecursionError:
            raise RequestError(400, "The request body is nested too deeply.") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise RequestError(400, f"The request body is not valid JSON: {error}") from None
        self.may_hold_booleans = b"true" in data or b"false" in data
        if not isinstance(body, dict):
            raise RequestError(
                400,
                f"The request body must be a JSON object with 'instances' or 'inputs'; received a "
                f"{type(body).__name__ if body is not None else 'null'}.",
            )
        return body

    def _check_response_size(self, values):
        if values is not None and values > self.server.max_response_values:
            raise ValueError(
                f"The response would hold {values:,} numbers; this server sends at most "
                f"{self.server.max_response_values:,} (max_response_values). Ask for fewer frames or samples."
            )

    def _post(self):
        model, version, rest = self._route()
        if rest != ":predict":
            raise LookupError(f"Only :predict is served at {self.path}")
        body = self._read_body()
        signatures = model.signatures(version)
        name = body.get("signature_name") or "serving_default"
        if not isinstance(name, str) or name not in signatures:
            raise ValueError(f'Serving signature name: "{name}" not found in signature def')
        function = signatures[name]
        specs = function.structured_input_signature[1]
        try:
            inputs = request_bodies.inputs_from(body, specs, self.may_hold_booleans)
        except RecursionError:
            raise RequestError(400, "An input is nested too deeply.") from None
        # Before the graph runs where the request says how much it asks for (num_samples: 100,000 clips of
        # 16x64x64x3 would be ~79 GB computed before a refusal), after it otherwise.
        self._check_response_size(request_bodies.expected_values(function, inputs))
        outputs = function(**inputs)
        self._check_response_size(sum(int(np.prod(value.shape)) for value in outputs.values()))
        response, replaced = request_bodies.response(outputs, row="instances" in body)
        headers = {}
        if replaced:
            headers[WARNING_HEADER] = f"{replaced} non-finite output values (NaN or Inf) were sent as null"
        return self._send(200, response, headers)


class DevServer:
    """Serves `{name: base_path}` exports over REST on `host:port` in a background thread.

    Args:
        models: `{model name: base directory of integer versions}`; each must
            hold at least one version (checked at start-up).
        host: interface to bind; keep the default loopback address.
        port: TCP port; 0 picks a free one (see `url`).
        max_request_bytes: larger request bodies get a 413 (default 32 MiB).
        read_timeout: seconds a client may take to send a request, its line,
            headers and body together (408 after).
        max_response_values: outputs holding more numbers get a 400 instead
            of a response (default 2**25, about 700 MB of JSON).

    Example:

    >>> with DevServer({"vae": "runs/vae/export/vae"}) as server:
    ...     clips = ServingClient(server.url, "vae").sample(4, seed=0)
    """

    def __init__(
        self,
        models,
        host="127.0.0.1",
        port=0,
        max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
        read_timeout=DEFAULT_READ_TIMEOUT,
        max_response_values=DEFAULT_MAX_RESPONSE_VALUES,
    ):
        if not models:
            raise ValueError("`models` must name at least one model: {name: base_path}.")
        for name, path in models.items():
            if not saved_model_lib.versions(os.fspath(path)):
                raise FileNotFoundError(
                    f"Model {name!r}: {os.fspath(path)!r} holds no SavedModel version (BASE/<integer>/saved_model.pb)."
                )
        if not max_request_bytes > 0 or not read_timeout > 0 or math.isinf(read_timeout):
            raise ValueError(
                "`max_request_bytes` and `read_timeout` must be positive and finite. "
                f"Received: max_request_bytes={max_request_bytes!r}, read_timeout={read_timeout!r}"
            )
        max_response_values = validation.positive_int("max_response_values", max_response_values)
        self.httpd = _Server((host, port), _Handler)
        self.httpd.models = {name: _Model(name, path) for name, path in models.items()}
        self.httpd.max_request_bytes = int(max_request_bytes)
        self.httpd.read_timeout = float(read_timeout)
        self.httpd.max_response_values = max_response_values
        self.thread = None

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="tfvidgen-dev-server", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.thread is not None:  # `shutdown` waits for `serve_forever`: forever on a server never started.
            self.httpd.shutdown()
            self.thread.join(timeout=10)
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
