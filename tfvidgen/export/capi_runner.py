"""Runs SavedModel signatures through TensorFlow's C API, as TF Serving loads them.

    python -I capi_runner.py REQUEST.json

A standalone script: it imports the standard library and NumPy only, never
`tensorflow` (its Python API) nor `tfvidgen`, and loads `libtensorflow_cc.so.2`
from the tensorflow wheel with ctypes. `TF_LoadSessionFromSavedModel` is the
C++ `LoadSavedModel` that TF Serving uses, so a signature that runs here loads
and runs in TF Serving. The request names the export directory, the graph
tensor names of each signature's inputs and outputs (from its SignatureDef) and
`.npy` files of input values; the report gives output files, errors and
latencies, and lists any tensorflow/keras/tfvidgen module that got imported.
"""

import ctypes
import hashlib  # noqa: F401  Must be imported before libtensorflow is loaded RTLD_GLOBAL.
import json
import os
import statistics
import sys
import time

import numpy as np

TF_TYPES = {1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 6: np.int8, 9: np.int64, 10: np.bool_}
NUMPY_TYPES = {np.dtype(value): key for key, value in TF_TYPES.items()}


class TF_Output(ctypes.Structure):
    _fields_ = [("oper", ctypes.c_void_p), ("index", ctypes.c_int)]


def _load_library(tensorflow_dir):
    ctypes.CDLL(os.path.join(tensorflow_dir, "libtensorflow_framework.so.2"), mode=ctypes.RTLD_GLOBAL)
    library = ctypes.CDLL(os.path.join(tensorflow_dir, "libtensorflow_cc.so.2"), mode=ctypes.RTLD_GLOBAL)
    void_p, c_int, c_char_p = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    declarations = {
        "TF_NewStatus": (void_p, []),
        "TF_DeleteStatus": (None, [void_p]),
        "TF_GetCode": (c_int, [void_p]),
        "TF_Message": (c_char_p, [void_p]),
        "TF_NewGraph": (void_p, []),
        "TF_DeleteGraph": (None, [void_p]),
        "TF_NewSessionOptions": (void_p, []),
        "TF_DeleteSessionOptions": (None, [void_p]),
        "TF_LoadSessionFromSavedModel": (
            void_p,
            [void_p, void_p, c_char_p, ctypes.POINTER(c_char_p), c_int, void_p, void_p, void_p],
        ),
        "TF_CloseSession": (None, [void_p, void_p]),
        "TF_DeleteSession": (None, [void_p, void_p]),
        "TF_GraphOperationByName": (void_p, [void_p, c_char_p]),
        "TF_AllocateTensor": (void_p, [c_int, ctypes.POINTER(ctypes.c_int64), c_int, ctypes.c_size_t]),
        "TF_DeleteTensor": (None, [void_p]),
        "TF_TensorData": (void_p, [void_p]),
        "TF_TensorByteSize": (ctypes.c_size_t, [void_p]),
        "TF_TensorType": (c_int, [void_p]),
        "TF_NumDims": (c_int, [void_p]),
        "TF_Dim": (ctypes.c_int64, [void_p, c_int]),
        "TF_SessionRun": (
            None,
            [
                void_p,
                void_p,
                ctypes.POINTER(TF_Output),
                ctypes.POINTER(void_p),
                c_int,
                ctypes.POINTER(TF_Output),
                ctypes.POINTER(void_p),
                c_int,
                ctypes.POINTER(void_p),
                c_int,
                void_p,
                void_p,
            ],
        ),
    }
    for name, (restype, argtypes) in declarations.items():
        function = getattr(library, name)
        function.restype, function.argtypes = restype, argtypes
    return library


class CapiError(RuntimeError):
    pass


class Session:
    """A SavedModel loaded with `TF_LoadSessionFromSavedModel`."""

    def __init__(self, library, export_dir, tags=("serve",)):
        self.lib = library
        self.status = library.TF_NewStatus()
        self.graph = library.TF_NewGraph()
        self.options = library.TF_NewSessionOptions()
        tag_array = (ctypes.c_char_p * len(tags))(*[tag.encode() for tag in tags])
        self.session = library.TF_LoadSessionFromSavedModel(
            self.options, None, export_dir.encode(), tag_array, len(tags), self.graph, None, self.status
        )
        self._check("TF_LoadSessionFromSavedModel")

    def _check(self, what):
        if self.lib.TF_GetCode(self.status) != 0:
            raise CapiError(f"{what}: {self.lib.TF_Message(self.status).decode(errors='replace')}")

    def _output(self, tensor_name):
        operation_name, _, index = tensor_name.partition(":")
        operation = self.lib.TF_GraphOperationByName(self.graph, operation_name.encode())
        if not operation:
            raise CapiError(f"No operation {operation_name!r} in the graph.")
        return TF_Output(operation, int(index or 0))

    def _tensor(self, array):
        array = np.ascontiguousarray(array)
        if array.dtype not in NUMPY_TYPES:
            raise CapiError(f"Unsupported input dtype {array.dtype}.")
        dims = (ctypes.c_int64 * array.ndim)(*array.shape)
        tensor = self.lib.TF_AllocateTensor(NUMPY_TYPES[array.dtype], dims, array.ndim, array.nbytes)
        if array.nbytes:
            ctypes.memmove(self.lib.TF_TensorData(tensor), array.ctypes.data, array.nbytes)
        return tensor

    def _array(self, tensor):
        dtype = TF_TYPES[self.lib.TF_TensorType(tensor)]
        shape = [self.lib.TF_Dim(tensor, index) for index in range(self.lib.TF_NumDims(tensor))]
        size = self.lib.TF_TensorByteSize(tensor)
        data = ctypes.string_at(self.lib.TF_TensorData(tensor), size) if size else b""
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def run(self, inputs, output_names):
        """`inputs`: {graph tensor name: array}; returns arrays in `output_names` order."""
        input_ports = (TF_Output * len(inputs))(*[self._output(name) for name in inputs])
        input_tensors = [self._tensor(value) for value in inputs.values()]
        input_values = (ctypes.c_void_p * len(inputs))(*input_tensors)
        output_ports = (TF_Output * len(output_names))(*[self._output(name) for name in output_names])
        output_values = (ctypes.c_void_p * len(output_names))()
        try:
            self.lib.TF_SessionRun(
                self.session,
                None,
                input_ports,
                input_values,
                len(inputs),
                output_ports,
                output_values,
                len(output_names),
                None,
                0,
                None,
                self.status,
            )
            self._check("TF_SessionRun")
            return [self._array(tensor) for tensor in output_values]
        finally:
            for tensor in input_tensors:
                self.lib.TF_DeleteTensor(tensor)
            for tensor in output_values:
                if tensor:
                    self.lib.TF_DeleteTensor(tensor)

    def close(self):
        self.lib.TF_CloseSession(self.session, self.status)
        self.lib.TF_DeleteSession(self.session, self.status)
        self.lib.TF_DeleteSessionOptions(self.options)
        self.lib.TF_DeleteGraph(self.graph)
        self.lib.TF_DeleteStatus(self.status)


def main(request_path):
    with open(request_path) as file:
        request = json.load(file)
    report = {"runs": []}
    try:
        session = Session(
            _load_library(request["tensorflow_dir"]), request["export_dir"], request.get("tags", ["serve"])
        )
    except (CapiError, OSError) as error:
        report["load_error"] = str(error)
        session = None
    for run in request["runs"] if session else []:
        result = {"signature": run["signature"], "outputs": {}, "latencies_ms": []}
        inputs = {item["name"]: np.load(item["file"]) for item in run["inputs"]}
        names = [item["name"] for item in run["outputs"]]
        try:
            for _ in range(run.get("repeat", 1)):
                start = time.perf_counter()
                values = session.run(inputs, names)
                result["latencies_ms"].append((time.perf_counter() - start) * 1000.0)
            for item, value in zip(run["outputs"], values):
                np.save(item["file"], value)
                result["outputs"][item["key"]] = {
                    "file": item["file"],
                    "shape": list(value.shape),
                    "dtype": str(value.dtype),
                }
            result["median_ms"] = statistics.median(result["latencies_ms"])
        except CapiError as error:
            result["error"] = str(error)
        report["runs"].append(result)
    if session:
        session.close()
    report["imported"] = sorted(
        name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras", "tfvidgen")
    )
    with open(request["report"], "w") as file:
        json.dump(report, file, indent=2)


if __name__ == "__main__":
    main(sys.argv[1])
