"""Versioned, atomic SavedModel exports in TF Serving's layout.

`export_for_serving(model, base_dir)` writes `base_dir/<version>/` with
`saved_model.pb`, `variables/` and `assets.extra/` (warm-up requests and a
`tfvidgen.json` description: class, family, role, config, signatures). The
signatures are the model's own (`tfvidgen.export.signatures`): `predict` and
`rollout` for a frame predictor (ConvLSTM, SimVP), `sample` and `decode` for a
generative model (DCGAN, VAE, plus the VAE's `encode` and `reconstruct`),
`interpolate` and `interpolate_clip` for the frame interpolator.

The version is built in a hidden temporary directory beside it and renamed
into place when complete: TF Serving polls `base_dir` for integer-named
directories, so it never loads a half-written one, and a crash leaves no
version directory behind.
"""

import json
import os
import uuid

import keras
import numpy as np
import tensorflow as tf

from tfvidgen.export import endpoints as endpoints_lib
from tfvidgen.export import signatures

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
DESCRIPTION_FILE = os.path.join("assets.extra", "tfvidgen.json")


def model_endpoints(model, uint8=False):
    """The model's endpoints, plus `<name>_uint8` variants when `uint8` is set."""
    endpoints = dict(signatures.for_model(model))
    if uint8:
        for name, endpoint in list(endpoints.items()):
            has_video = any(spec.dtype == tf.float32 and spec.shape.rank == 5 for spec in endpoint.signature)
            wanted = has_video if endpoint.uint8 is None else endpoint.uint8
            if name != "serving_default" and wanted:
                endpoints[f"{name}_uint8"] = endpoints_lib.uint8_variant(endpoint)
    return endpoints


def build_archive(model, endpoints):
    """A `keras.export.ExportArchive` with one signature per endpoint of `model`.

    The archive saves the variables the endpoints use, once. `archive.track(model)` is not called: it also saved
    the model's whole object graph, every weight a second time (and the optimizer's slots), which doubled the
    SavedModel on disk and in TF Serving's memory (Keras 3.15, TensorFlow 2.21). The export therefore has no
    `.variables` list; its signatures are its interface.
    """
    if not model.built:
        raise ValueError(f"{type(model).__name__} is not built: build it (or call it once) before exporting.")
    archive = keras.export.ExportArchive()
    for name, endpoint in endpoints.items():
        archive.add_endpoint(name, endpoint.function, input_signature=endpoint.signature)
    return archive


def versions(base_dir):
    """The integer version directories under `base_dir`, sorted."""
    if not tf.io.gfile.isdir(base_dir):
        return []
    return sorted(int(name.rstrip("/")) for name in tf.io.gfile.listdir(base_dir) if name.rstrip("/").isdigit())


def write_warmup_requests(path, model_name, endpoints):
    """Writes one `PredictionLog` per endpoint to `path` (TF Serving's warm-up format).

    Needs `tensorflow-serving-api` (the `serving` extra).
    """
    from tensorflow_serving.apis import model_pb2
    from tensorflow_serving.apis import predict_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    with tf.io.TFRecordWriter(path) as writer:
        for name, endpoint in endpoints.items():
            request = predict_pb2.PredictRequest(model_spec=model_pb2.ModelSpec(name=model_name, signature_name=name))
            for key, value in endpoint.example.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def read_warmup_requests(path):
    """`{signature_name: {input_key: np.ndarray}}` from a warm-up file."""
    from tensorflow_serving.apis import prediction_log_pb2

    requests = {}
    for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
        log = prediction_log_pb2.PredictionLog.FromString(record)
        request = log.predict_log.request
        requests[request.model_spec.signature_name] = {
            key: tf.make_ndarray(proto) for key, proto in request.inputs.items()
        }
    return requests


def _serving_api_available():
    try:
        import tensorflow_serving.apis  # noqa: F401
    except ImportError:
        return False
    return True


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # Someone else's live process.
        return True
    return True


def remove_stale_temporaries(base_dir):
    """Deletes `.tmp-*` directories that killed exports left in `base_dir`; returns their names.

    A temporary whose writer (the pid in its name) still runs is left alone;
    one without a pid (older tfvidgen) or whose writer is gone is removed.
    """
    removed = []
    for name in tf.io.gfile.listdir(base_dir):
        name = name.rstrip("/")
        if not name.startswith(".tmp-"):
            continue
        parts = name.split("-")
        pid = int(parts[2]) if len(parts) >= 4 and parts[2].isdigit() else None
        if pid is not None and pid != os.getpid() and _alive(pid):
            continue
        if pid == os.getpid():
            continue  # This process's own export in progress (another thread).
        tf.io.gfile.rmtree(os.path.join(base_dir, name))
        removed.append(name)
    return removed


def export_for_serving(model, base_dir, version=None, overwrite=False, uint8=False, warmup=True, model_name=None):
    """Exports `model` to `base_dir/<version>/` for TF Serving, atomically.

    Args:
        model: a tfvidgen model (any family of `tfvidgen.models.FAMILIES`: its
            role and family declare the signatures, `serving_signatures()`).
        base_dir: the model's base path as TF Serving sees it.
        version: integer version; defaults to one more than the highest present.
        overwrite: replace an existing version (otherwise `FileExistsError`).
        uint8: also export `<signature>_uint8` variants taking and returning
            uint8 frames (0-255), converted in the graph.
        warmup: write `assets.extra/tf_serving_warmup_requests` so TF Serving's
            `--enable_model_warmup` runs every signature once at load (needs
            `tensorflow-serving-api`; skipped with a warning without it).
        model_name: the model name in warm-up requests (defaults to the base
            directory's name, as TF Serving names models).

    Returns:
        The path of the version directory written.

    Raises:
        FileExistsError: when the version exists and `overwrite` is False.
    """
    base_dir = os.fspath(base_dir)
    if version is None:
        existing = versions(base_dir)
        version = existing[-1] + 1 if existing else 1
    elif isinstance(version, bool) or not isinstance(version, (int, np.integer)) or version < 1:
        raise ValueError(f"`version` must be a positive integer. Received: version={version!r}")
    final = os.path.join(base_dir, str(int(version)))
    if tf.io.gfile.exists(final) and not overwrite:
        raise FileExistsError(
            f"Version {version} already exists at {final!r}; pass overwrite=True to replace it, or "
            "version=None for the next free version."
        )
    model_name = model_name or os.path.basename(os.path.normpath(base_dir))
    endpoints = model_endpoints(model, uint8=uint8)

    tf.io.gfile.makedirs(base_dir)
    remove_stale_temporaries(base_dir)
    # Not an integer, so TF Serving ignores it while it is being written; the pid tells a later
    # export whether its writer is still alive.
    temporary = os.path.join(base_dir, f".tmp-{version}-{os.getpid()}-{uuid.uuid4().hex}")
    try:
        build_archive(model, endpoints).write_out(temporary, verbose=False)
        tf.io.gfile.makedirs(os.path.join(temporary, "assets.extra"))
        if warmup and _serving_api_available():
            write_warmup_requests(os.path.join(temporary, WARMUP_FILE), model_name, endpoints)
        elif warmup:
            tf.get_logger().warning("tensorflow-serving-api is not installed: no warm-up requests written.")
        description = {
            "class_name": type(model).__name__,
            "family": model.family,
            "role": model.role,
            # Flat (networks' arguments beside the task's): readable as it is, and `from_config` takes it.
            "config": type(model).flat_config(model.get_config()),
            "signatures": {
                name: {
                    spec.name: {
                        "dtype": spec.dtype.name,
                        "shape": None if spec.shape.rank is None else spec.shape.as_list(),
                    }
                    for spec in endpoint.signature
                }
                for name, endpoint in endpoints.items()
            },
            # Inputs a caller may leave out, as the model declares them (ExportedModel fills them in).
            "defaults": {
                name: signature.defaults
                for name, signature in model.serving_signatures().items()
                if signature.defaults and name in endpoints
            },
        }
        with tf.io.gfile.GFile(os.path.join(temporary, DESCRIPTION_FILE), "w") as file:
            json.dump(description, file, indent=2, default=str)
        _move_into_place(temporary, final, overwrite)
    except BaseException:
        if tf.io.gfile.exists(temporary):
            tf.io.gfile.rmtree(temporary)
        raise
    return final


def _move_into_place(temporary, final, overwrite):
    if tf.io.gfile.exists(final) and overwrite:
        retired = f"{os.path.dirname(final)}/.old-{os.path.basename(final)}-{uuid.uuid4().hex}"
        tf.io.gfile.rename(final, retired)
        tf.io.gfile.rename(temporary, final)
        tf.io.gfile.rmtree(retired)
    else:
        # A local rename is atomic; on object stores (gs://) it is a copy, which
        # TF Serving may see partially: export locally and upload the directory there.
        tf.io.gfile.rename(temporary, final)


def read_description(path):
    """The `tfvidgen.json` written beside an export (class name, family, role, config, signatures).

    Exports of tfvidgen before the roles have no `family` and `role`: `ExportedModel` reads them from the class
    name through `tfvidgen.families`.
    """
    with tf.io.gfile.GFile(os.path.join(os.fspath(path), DESCRIPTION_FILE)) as file:
        return json.load(file)


def latest_version(base_dir):
    """`base_dir` itself when it is a version directory, else its highest version."""
    base_dir = os.fspath(base_dir)
    if tf.io.gfile.exists(os.path.join(base_dir, "saved_model.pb")):
        return base_dir
    found = versions(base_dir)
    if not found:
        raise FileNotFoundError(f"No SavedModel version directory (1, 2, ...) under {base_dir!r}.")
    return os.path.join(base_dir, str(found[-1]))
