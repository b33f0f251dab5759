"""Rolling out 10 frames from 10 at batch 1: in-graph rollout against the keras.io loop.

    python benchmarks/convlstm_rollout.py [--repeats 20] [--model runs/quality-convlstm-cpu_small]

- `predict_future`: `ConvLSTMPredictor`'s one-graph autoregressive loop
  (`tf.while_loop` carrying the ConvLSTM states);
- the exported `rollout` signature run through TensorFlow's C API (the TF
  Serving loader), timed inside the runner process;
- the keras.io way: `model.predict` on the growing sequence once per new frame
  (the whole sequence re-run each time).
Prints the median latency of each over `--repeats` calls, after a warm-up.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfvidgen import export  # noqa: E402
from tfvidgen.models import ConvLSTMPredictor  # noqa: E402


def median_ms(function, repeats):
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def keras_io_loop(model, context, horizon):
    """The keras.io example's inference: predict on the growing sequence, keep the last frame."""
    frames = context
    for _ in range(horizon):
        next_frame = model.predict(frames, verbose=0)[:, -1:]
        frames = np.concatenate([frames, next_frame], axis=1)
    return frames[:, context.shape[1] :]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--model", help="a run directory or .keras file (default: an untrained cpu_small)")
    parser.add_argument("--context", type=int, default=10)
    parser.add_argument("--horizon", type=int, default=10)
    args = parser.parse_args()
    if args.model:
        path = os.path.join(args.model, "model.keras") if os.path.isdir(args.model) else args.model
        model = keras.models.load_model(path)
    else:
        model = ConvLSTMPredictor.from_preset("cpu_small")
    context = np.random.default_rng(0).random((1, args.context) + model.frame_shape).astype(np.float32)

    in_graph = median_ms(lambda: model.predict_future(context, args.horizon).numpy(), args.repeats)
    loop = median_ms(lambda: keras_io_loop(model, context, args.horizon), max(3, args.repeats // 4))
    np.testing.assert_allclose(
        model.predict_future(context, args.horizon).numpy(), keras_io_loop(model, context, args.horizon), atol=1e-4
    )
    with tempfile.TemporaryDirectory() as directory:
        path = export.export_for_serving(model, directory, warmup=False)
        request = {"rollout": {"context": context, "num_future_frames": np.array(args.horizon, np.int32)}}
        _, report = export.run_through_c_api(path, request, repeat=args.repeats + 1)
        served = statistics.median(report["runs"][0]["latencies_ms"][1:])
    shape, repeats = model.frame_shape, args.repeats
    print(f"{shape} frames, batch 1, {args.context} context -> {args.horizon} future, median of {repeats}")
    print(f"{'in-graph predict_future':34s}{in_graph:9.1f} ms")
    print(f"{'exported rollout (C API)':34s}{served:9.1f} ms")
    print(f"{'keras.io predict loop':34s}{loop:9.1f} ms")
    print(f"speed-up: in-graph {loop / in_graph:.1f}x, served {loop / served:.1f}x (outputs agree to 1e-4)")


if __name__ == "__main__":
    main()
