"""A development server speaking TF Serving's REST API, for laptops, notebooks and tests.

It is **not** TF Serving: it runs the SavedModel's signatures with TensorFlow's
Python API in one process (`tfvidgen.export.check_servable` is the proof that
TF Serving's C++ loader takes an export). It answers the same URLs with the
same JSON: `GET /v1/models/NAME[/versions/N]`, `.../metadata`, and
`POST .../NAME[/versions/N]:predict` in row or columnar format, so code written
against it works against `tensorflow_model_server --rest_api_port`.
"""

import http.server
import json
import os
import re
import threading

import numpy as np
import tensorflow as tf
from google.protobuf import json_format

from tfvidgen.export import saved_model as saved_model_lib
from tfvidgen.export.servable import signature_defs

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


def _inputs_from(body, specs):
    if "instances" in body:
        rows = body["instances"]
        if not rows:
            raise ValueError("'instances' is empty.")
        if isinstance(rows[0], dict):
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
    return {name: tf.constant(np.asarray(values[name]), dtype=specs[name].dtype) for name in specs}


def _response(outputs, row):
    outputs = {name: value.numpy() for name, value in outputs.items()}
    if not row:
        if len(outputs) == 1:
            return {"outputs": next(iter(outputs.values())).tolist()}
        return {"outputs": {name: value.tolist() for name, value in outputs.items()}}
    count = len(next(iter(outputs.values())))
    if len(outputs) == 1:
        return {"predictions": next(iter(outputs.values())).tolist()}
    return {"predictions": [{name: value[index].tolist() for name, value in outputs.items()} for index in range(count)]}


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "tfvidgen-dev-server"

    def log_message(self, *args):  # Quiet by default.
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self):
        match = _ROUTE.match(self.path)
        if not match or match.group("name") not in self.server.models:
            raise LookupError(f"Malformed request or unknown model: {self.path}")
        model = self.server.models[match.group("name")]
        return model, model.version(match.group("version")), match.group("rest")

    def do_GET(self):
        try:
            model, version, rest = self._route()
            if rest == "/metadata":
                return self._send(200, model.metadata(version))
            status = {
                "version": str(version),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
            return self._send(200, {"model_version_status": [status]})
        except LookupError as error:
            return self._send(404, {"error": str(error)})

    def do_POST(self):
        try:
            model, version, rest = self._route()
            if rest != ":predict":
                raise LookupError(f"Only :predict is served at {self.path}")
        except LookupError as error:
            return self._send(404, {"error": str(error)})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            signatures = model.signatures(version)
            name = body.get("signature_name") or "serving_default"
            if name not in signatures:
                raise ValueError(f'Serving signature name: "{name}" not found in signature def')
            function = signatures[name]
            specs = function.structured_input_signature[1]
            outputs = function(**_inputs_from(body, specs))
            return self._send(200, _response(outputs, row="instances" in body))
        except (ValueError, TypeError, KeyError, tf.errors.OpError) as error:
            message = error.message if isinstance(error, tf.errors.OpError) else str(error)
            return self._send(400, {"error": message})


class DevServer:
    """Serves `{name: base_path}` exports over REST on `host:port` in a background thread.

    Args:
        models: `{model name: base directory of integer versions}`.
        host: interface to bind; keep the default loopback address.
        port: TCP port; 0 picks a free one (see `url`).

    Example:

    >>> with DevServer({"vae": "runs/vae/export/vae"}) as server:
    ...     clips = ServingClient(server.url, "vae").sample(4, seed=0)
    """

    def __init__(self, models, host="127.0.0.1", port=0):
        if not models:
            raise ValueError("`models` must name at least one model: {name: base_path}.")
        self.httpd = http.server.ThreadingHTTPServer((host, port), _Handler)
        self.httpd.models = {name: _Model(name, path) for name, path in models.items()}
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
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
