"""The keras.io conv_lstm network trained for the same CPU minutes as a tfvidgen predictor, scored the same way.

    python benchmarks/keras_io_side_by_side.py --minutes 15 [--json docs/results/keras_io_conv_lstm.json]

The network (`convlstm_throughput.keras_io_conv_lstm`: 3 ConvLSTM2D(64) at
full 64x64 resolution, batch norm, a 3x3x3 Conv3D head) trains with the
example's recipe (19 input frames predicting their next frames, binary
cross-entropy, Adam at its default rate, batch 5) on the clips `tfvidgen
train` uses (generated Moving MNIST, `train` split, seed 0), stopped by
`--minutes` of wall-clock training. It is then scored exactly as `tfvidgen
evaluate --num-clips 256` scores a predictor: 10 context frames, a 10-frame
free-running rollout, on the same 256 `test` clips, with the same metrics
and baselines.

The rollout is the example's (predict on the growing sequence, keep the last
frame), computed one frame at a time: the ConvLSTM states carry over, and the
head, whose 3-frame kernel sees one frame past the one it predicts in
training, sees the features of the last two frames and the zero padding, as
the example's re-run does (checked against that re-run on two clips before
scoring). Training ignores the example's early stopping and learning-rate
plateaus (their patience is epochs of 900 clips, far beyond a CPU budget).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from convlstm_throughput import keras_io_conv_lstm  # noqa: E402
from tfvidgen import callbacks  # noqa: E402
from tfvidgen import data as data_lib  # noqa: E402
from tfvidgen import metrics  # noqa: E402

FRAME_SHAPE = (64, 64, 1)


def rerun_rollout(model, context, horizon):
    """The keras.io example's inference: the whole growing sequence re-run for every new frame."""
    frames = context
    for _ in range(horizon):
        frames = np.concatenate([frames, model.predict(frames, verbose=0)[:, -1:]], axis=1)
    return frames[:, context.shape[1] :]


def stepwise_rollout(model):
    """`(context, horizon) -> future`, equal to `rerun_rollout` in one pass over the frames."""
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.ConvLSTM2D)]
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    head = model.layers[-1]

    @tf.function(reduce_retracing=True)
    def step(frame, states, previous_features):
        x, new_states = frame, []
        for index, conv in enumerate(convs):
            x, state = conv.cell(x, states[index], training=False)
            new_states.append(state)
            if index < len(norms):
                x = norms[index].call(x, training=False)  # Per frame: its input spec wants 5-D.
        window = tf.stack([previous_features, x, tf.zeros_like(x)], axis=1)
        return head(window)[:, 1], new_states, x

    def rollout(context, horizon):
        context = tf.convert_to_tensor(context, tf.float32)
        batch = context.shape[0]
        states = [[tf.zeros((batch,) + FRAME_SHAPE[:2] + (conv.filters,))] * 2 for conv in convs]
        features = tf.zeros((batch,) + FRAME_SHAPE[:2] + (convs[-1].filters,))
        future = []
        for t in range(context.shape[1] + horizon - 1):
            frame = context[:, t] if t < context.shape[1] else future[-1]
            prediction, states, features = step(frame, states, features)
            if t >= context.shape[1] - 1:
                future.append(prediction)
        return tf.stack(future, axis=1)

    return rollout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--batch-size", type=int, default=5, help="the example's batch")
    parser.add_argument("--num-clips", type=int, default=256, help="held-out clips scored")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    keras.utils.set_random_seed(0)
    model = keras_io_conv_lstm(FRAME_SHAPE)
    clips = data_lib.load_clips("moving_mnist", 20, FRAME_SHAPE[:2], FRAME_SHAPE[2], split="train", seed=0)
    train = clips.map(lambda clip: (clip[:-1], clip[1:])).batch(args.batch_size, drop_remainder=True).prefetch(2)
    time_limit = callbacks.TimeLimit(args.minutes)
    start = time.monotonic()
    model.fit(train, epochs=100_000, steps_per_epoch=20, callbacks=[time_limit], verbose=0)
    minutes = (time.monotonic() - start) / 60
    steps = int(model.optimizer.iterations.numpy())
    print(f"keras.io conv_lstm: {steps} steps ({steps * args.batch_size} clips) in {minutes:.1f} min")

    rollout = stepwise_rollout(model)
    check = np.random.default_rng(0).random((2, 10) + FRAME_SHAPE).astype("float32")
    np.testing.assert_allclose(rollout(check, 3).numpy(), rerun_rollout(model, check, 3), atol=1e-4)

    test = data_lib.load_clips(
        "moving_mnist", 20, FRAME_SHAPE[:2], FRAME_SHAPE[2], split="test", num_clips=args.num_clips, seed=0
    )
    results = metrics.evaluate_predictions(rollout, data_lib.prediction_pairs(test, 10, 10).batch(16))
    results["training"] = {"minutes": round(minutes, 1), "steps": steps, "batch_size": args.batch_size}
    print(metrics.format_table(results))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
