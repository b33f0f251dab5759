"""Clips per second from every data source at 20x64x64, against what training consumes.

    python benchmarks/data_pipeline.py [--seconds 10]

Sources: the on-the-fly Moving MNIST generator (glyph digits), tfds
`moving_mnist` under `tfds.testing.mock_data` (the conversion pipeline on mock
records), video files decoded with OpenCV (16 mp4 files of 200 frames written
first), and TFRecord shards (PNG frames). Each runs as a batched, prefetched
pipeline; the rate is measured after a warm-up batch. The consumption rate is
the ConvLSTM `cpu_small` preset's training throughput (the default model of
`tfvidgen train`), measured in the same run.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_datasets as tfds  # noqa: E402

from tfvidgen import data  # noqa: E402

FRAMES, SIZE = 20, 64


def rate(dataset, seconds, batch_size=64):
    iterator = iter(dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE))
    next(iterator)  # Warm-up (tracing, file opening).
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        try:
            count += int(next(iterator).shape[0])
        except StopIteration:
            break
    return count / (time.perf_counter() - start)


def write_videos(directory, count=16, frames=200, size=(96, 128)):
    rng = np.random.default_rng(0)
    for index in range(count):
        writer = cv2.VideoWriter(
            os.path.join(directory, f"video_{index:02d}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25, size[::-1]
        )
        position = rng.integers(0, 60, size=2)
        for frame_index in range(frames):
            frame = np.zeros(size + (3,), np.uint8)
            y, x = (position + frame_index) % (np.array(size) - 16)
            frame[y : y + 16, x : x + 16] = (0, 200, 255)
            writer.write(frame)
        writer.release()


def consumption_rate(steps=5, batch_size=16):
    import keras

    from tfvidgen.models import ConvLSTMPredictor

    model = ConvLSTMPredictor.from_preset("cpu_small")
    model.compile()
    clips = np.random.default_rng(0).random((batch_size, FRAMES, SIZE, SIZE, 1)).astype(np.float32)
    context, target = clips[:, :10], clips[:, 10:]
    model.train_on_batch(context, target)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(context, target)
    keras.backend.clear_session()
    return batch_size * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    results = {}
    results["moving_mnist (generated, glyphs)"] = rate(
        data.moving_mnist(num_frames=FRAMES, frame_size=SIZE), args.seconds
    )
    with tempfile.TemporaryDirectory() as directory:
        with tfds.testing.mock_data(num_examples=2000, policy=tfds.testing.MockPolicy.USE_CODE):
            mocked = data.tfds_clips(
                "moving_mnist", split="test", num_frames=FRAMES, frame_size=SIZE, data_dir=directory
            )
            results["tfds moving_mnist (mock records)"] = rate(mocked.repeat(), args.seconds)
        write_videos(directory)
        videos = data.VideoClips(os.path.join(directory, "*.mp4"), FRAMES, SIZE, channels=1, clip_stride=10)
        results["video files (mp4, OpenCV)"] = rate(videos.dataset().repeat(), args.seconds)
        data.write_tfrecords(
            data.moving_mnist(num_clips=1024, num_frames=FRAMES, frame_size=SIZE),
            os.path.join(directory, "mm"),
            num_shards=8,
        )
        records = data.read_tfrecords(os.path.join(directory, "mm-*"), deterministic=False)
        results["TFRecords (PNG frames)"] = rate(records.repeat(), args.seconds)
    consumed = consumption_rate()
    print(f"clips/s of {FRAMES}x{SIZE}x{SIZE}, {args.seconds:.0f} s per source, batches of 64")
    print(f"{'source':36s}{'clips/s':>10s}{'x training':>12s}")
    for name, value in results.items():
        print(f"{name:36s}{value:10.0f}{value / consumed:11.0f}x")
    print(f"{'ConvLSTM cpu_small training':36s}{consumed:10.1f}   (consumption, batch 16)")


if __name__ == "__main__":
    main()
