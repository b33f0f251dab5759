"""Training throughput of ConvLSTMPredictor next to the keras.io conv_lstm model.

Both train on the same input: 19 input frames of 64x64x1 predicting the next
frame (teacher forced), batch 4, timed in one run. Prints clips/s and the
achieved FLOP rate from the analytic count in `flops.py`.

    python benchmarks/convlstm_throughput.py [--steps 5] [--batch-size 4] [--preset cpu_small]
"""

import argparse
import os
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.

import keras  # noqa: E402
import numpy as np  # noqa: E402

from flops import model_forward_flops_per_frame  # noqa: E402
from tfvidgen.models import ConvLSTMPredictor  # noqa: E402


def keras_io_conv_lstm(frame_shape=(64, 64, 1)):
    """The keras.io conv_lstm example's network (3 ConvLSTM2D(64) + BatchNorm + a Conv3D head)."""
    inputs = keras.Input((None,) + frame_shape)
    x = keras.layers.ConvLSTM2D(64, (5, 5), padding="same", return_sequences=True, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ConvLSTM2D(64, (3, 3), padding="same", return_sequences=True, activation="relu")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ConvLSTM2D(64, (1, 1), padding="same", return_sequences=True, activation="relu")(x)
    outputs = keras.layers.Conv3D(1, (3, 3, 3), activation="sigmoid", padding="same")(x)
    model = keras.Model(inputs, outputs, name="keras_io_conv_lstm")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def time_training(model, x, y, steps):
    model.train_on_batch(x, y)  # Trace and warm up.
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--preset", default="cpu_small")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    clips = rng.random((args.batch_size, args.frames, 64, 64, 1)).astype("float32")
    ours = ConvLSTMPredictor.from_preset(args.preset)
    ours.compile(loss="mse", metrics=[])
    # Same work for both: 19 input frames predicting their next frames. The
    # predictor takes (context, target) and trains on concat(context, target)[:-1].
    context = ours.context_frames
    models = [
        ("tfvidgen " + args.preset, ours, clips[:, :context], clips[:, context:]),
        ("keras.io conv_lstm", keras_io_conv_lstm(), clips[:, :-1], clips[:, 1:]),
    ]
    print(f"batch {args.batch_size}, {args.frames - 1} input frames of 64x64x1, {args.steps} timed steps")
    print(f"{'model':28s}{'params':>10s}{'GFLOP/clip':>12s}{'s/step':>9s}{'clips/s':>9s}{'GFLOP/s':>9s}")
    rates = {}
    for name, model, x, y in models:
        seconds = time_training(model, x, y, args.steps)
        train_flops = 3 * model_forward_flops_per_frame(model) * (args.frames - 1)
        clips_per_second = args.batch_size / seconds
        rates[name] = train_flops * clips_per_second / 1e9
        print(
            f"{name:28s}{model.count_params():>10,d}{train_flops / 1e9:>12.2f}{seconds:>9.3f}"
            f"{clips_per_second:>9.2f}{rates[name]:>9.1f}"
        )
    ours_rate, reference_rate = rates[models[0][0]], rates[models[1][0]]
    print(f"FLOP-rate ratio (tfvidgen / keras.io): {ours_rate / reference_rate:.2f}")


if __name__ == "__main__":
    main()
