"""Proof that an export serves, without TF Serving's binary and without Python TF.

`check_servable(path)` reads each signature's graph tensor names from
`saved_model.pb` and its warm-up request, then starts `capi_runner.py` in a
separate, isolated Python process (`python -I`) that loads the SavedModel with
TensorFlow's C API (`TF_LoadSessionFromSavedModel`, tag `serve`: the C++
loader TF Serving uses) and runs every signature. Its outputs are compared with
the same signatures run in this process, by the model itself when given.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tfvidgen.export import saved_model as saved_model_lib

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "capi_runner.py")


class ServabilityError(RuntimeError):
    """The export does not load or run through the C API, or disagrees with the model."""


def signature_defs(path):
    """`{name: SignatureDef}` of the `serve` MetaGraph in `path/saved_model.pb`."""
    proto = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(os.path.join(os.fspath(path), "saved_model.pb"), "rb") as file:
        proto.ParseFromString(file.read())
    for meta_graph in proto.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return dict(meta_graph.signature_def)
    raise ServabilityError(f"{path!r} has no MetaGraph tagged 'serve'.")


def run_through_c_api(path, requests, repeat=1, timeout=600):
    """Runs `{signature: {input key: array}}` through the C API in a separate process.

    Returns:
        `(outputs, report)`: `{signature: {output key: array}}` and the
        runner's report (errors, latencies, modules it imported).
    """
    path = os.path.abspath(os.fspath(path))
    definitions = signature_defs(path)
    with tempfile.TemporaryDirectory(prefix="tfvidgen-capi-") as workdir:
        runs = []
        for signature, inputs in requests.items():
            if signature not in definitions:
                raise ServabilityError(f"{path!r} has no signature {signature!r}; it has {sorted(definitions)}.")
            definition = definitions[signature]
            run = {"signature": signature, "inputs": [], "outputs": [], "repeat": repeat}
            for key, value in inputs.items():
                file = os.path.join(workdir, f"{signature}.in.{key}.npy")
                np.save(file, np.asarray(value))
                run["inputs"].append({"name": definition.inputs[key].name, "file": file})
            for key, tensor in definition.outputs.items():
                run["outputs"].append(
                    {"key": key, "name": tensor.name, "file": os.path.join(workdir, f"{signature}.out.{key}.npy")}
                )
            runs.append(run)
        request = {
            "tensorflow_dir": os.path.dirname(tf.__file__),
            "export_dir": path,
            "tags": ["serve"],
            "runs": runs,
            "report": os.path.join(workdir, "report.json"),
        }
        request_file = os.path.join(workdir, "request.json")
        with open(request_file, "w") as file:
            json.dump(request, file)
        environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
        completed = subprocess.run(
            [sys.executable, "-I", RUNNER, request_file],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=environment,
        )
        if completed.returncode != 0 or not os.path.exists(request["report"]):
            raise ServabilityError(
                f"The C API runner failed (exit {completed.returncode}) on {path!r}:\n{completed.stderr[-3000:]}"
            )
        with open(request["report"]) as file:
            report = json.load(file)
        outputs = {
            run["signature"]: {key: np.load(item["file"]) for key, item in run["outputs"].items()}
            for run in report["runs"]
            if "error" not in run
        }
    return outputs, report


def check_servable(path, model=None, atol=1e-4, timeout=600):
    """Loads and runs every signature of an export through TensorFlow's C API.

    Args:
        path: a version directory (or a base directory: its latest version).
        model: the model that was exported; its endpoints give the reference
            outputs. Without it, the export loaded in this process does.
        atol: tolerance of float outputs (uint8 outputs may differ by 1).
        timeout: seconds for the runner process.

    Returns:
        `{signature: {"max_abs_diff": float, "shapes": {output: shape},
        "output_diffs": {output: (dtype name, max abs difference)}}}`.

    Raises:
        ServabilityError: the SavedModel does not load through the C API, a
            signature fails, the runner imported TensorFlow's Python API or
            tfvidgen, or outputs differ from the reference.
    """
    path = saved_model_lib.latest_version(path)
    warmup = os.path.join(path, saved_model_lib.WARMUP_FILE)
    if not tf.io.gfile.exists(warmup):
        raise ServabilityError(f"{path!r} has no warm-up requests ({saved_model_lib.WARMUP_FILE}) to check with.")
    requests = saved_model_lib.read_warmup_requests(warmup)
    outputs, report = run_through_c_api(path, requests, timeout=timeout)
    if "load_error" in report:
        raise ServabilityError(f"The C API could not load {path!r}: {report['load_error']}")
    if report["imported"]:
        raise ServabilityError(f"The C API runner imported {report['imported']}; it must not.")
    failed = {run["signature"]: run["error"] for run in report["runs"] if "error" in run}
    if failed:
        raise ServabilityError(f"Signatures failed through the C API: {failed}")
    references = _references(path, model, requests)
    results = {}
    for signature, values in outputs.items():
        expected = references[signature]
        if sorted(values) != sorted(expected):
            raise ServabilityError(f"{signature}: outputs {sorted(values)} differ from {sorted(expected)}.")
        difference, output_diffs = 0.0, {}
        for key, value in values.items():
            reference = np.asarray(expected[key])
            if value.shape != reference.shape:
                raise ServabilityError(f"{signature}/{key}: shape {value.shape}, expected {reference.shape}.")
            key_difference = float(np.abs(value.astype(np.float64) - reference).max(initial=0.0))
            limit = 1.0 if value.dtype == np.uint8 else atol  # uint8 frames may round the other way.
            if key_difference > limit:
                raise ServabilityError(
                    f"{signature}/{key}: differs from the reference by {key_difference:g} > {limit:g}."
                )
            difference = max(difference, key_difference)
            output_diffs[key] = (value.dtype.name, key_difference)
        results[signature] = {
            "max_abs_diff": difference,
            "shapes": {key: list(v.shape) for key, v in values.items()},
            "output_diffs": output_diffs,
        }
    return results


def _references(path, model, requests):
    if model is not None:
        endpoints = saved_model_lib.model_endpoints(model, uint8=any(name.endswith("_uint8") for name in requests))
        return {
            name: endpoints[name].function(*[tf.constant(inputs[spec.name]) for spec in endpoints[name].signature])
            for name, inputs in requests.items()
        }
    loaded = tf.saved_model.load(path)
    return {
        name: loaded.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        for name, inputs in requests.items()
    }
