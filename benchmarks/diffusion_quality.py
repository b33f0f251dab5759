"""Train and score the video diffusion family on Moving MNIST: the A/Bs and the reference of docs/benchmarks.md.

    python benchmarks/diffusion_quality.py train --preset cpu_small [--set objective='"flow"'] --cpu-minutes 90 \
        --out runs/diffusion-cpu_small [--snapshot-cpu-minutes 15] [--batch-size 8] [--learning-rate 5e-4]
    python benchmarks/diffusion_quality.py score --model runs/diffusion-cpu_small/model.keras \
        [--num-clips 512] [--steps 25] [--guidance 2.0] [--json FILE] [--figures DIR]
    python benchmarks/diffusion_quality.py predict --model runs/diffusion-cpu_small/model.keras \
        [--num-clips 256] [--num-samples 8] [--steps 25] [--compare moving_mnist] [--json FILE]
    [KERAS_BACKEND=jax] python benchmarks/diffusion_quality.py speed --model FILE.keras [--steps 25 50]

`train` runs `fit` on `tfvidgen.data.moving_mnist(num_frames=16, return_metadata=True)` as `(frames, labels)`
for a budget of process CPU time (90 CPU minutes = 45 minutes on 2 cores, measured so on a machine shared with
other jobs), saving `model.keras`, snapshots every `--snapshot-cpu-minutes` (for the learning curve) and
`history.json`. `score` reports, against held-out test clips: the Fréchet distance of unconditional samples
(tfvidgen's Moving MNIST feature space), the "mean clip + noise" baseline, diversity, flicker, the
autoencoder's reconstruction PSNR/SSIM, and for class-conditional samples (labels 0-9 in turn, `--guidance`) the
share the feature classifier finds the asked digit in (its digit logit > 0, and among its top two). `predict`
scores futures of 10 test frames from 10 context frames: one sample, the best of `--num-samples` per clip (lowest
MSE, lowest MAE, highest SSIM, each chosen apart), all black, and a SimVP preset on the same clips.
"""

import argparse
import json
import os
import resource
import time

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfvidgen import data  # noqa: E402
from tfvidgen.callbacks import TimeLimit  # noqa: E402
from tfvidgen.metrics import feature_extractor  # noqa: E402
from tfvidgen.metrics.frame_metrics import per_frame_psnr  # noqa: E402
from tfvidgen.metrics.frame_metrics import per_frame_ssim  # noqa: E402
from tfvidgen.metrics.generative import frechet_report  # noqa: E402
from tfvidgen.models.diffusion import VideoDiffusion  # noqa: E402


def training_data(clip_shape, batch_size, seed=0):
    frames, height, _, channels = clip_shape
    dataset = data.moving_mnist(
        num_frames=frames, frame_size=height, channels=channels, split="train", seed=seed, return_metadata=True
    )
    return dataset.map(lambda element: (element["frames"], element["labels"])).batch(batch_size, drop_remainder=True)


def test_clips(clip_shape, count, seed=0):
    frames, height, _, channels = clip_shape
    dataset = data.moving_mnist(
        num_clips=count, num_frames=frames, frame_size=height, channels=channels, split="test", seed=seed
    )
    return np.stack(list(dataset.as_numpy_iterator()))


def cpu_seconds():
    """CPU time of this process, all threads, user + system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CPUBudget(keras.callbacks.Callback):
    """Stops `fit` after `cpu_minutes` of process CPU time; saves a snapshot every `snapshot_cpu_minutes`.

    On a machine shared with other jobs, wall time says little; CPU time does:
    45 minutes on 2 cores are 90 CPU minutes. Snapshots are named by CPU
    minutes, `snapshot_<minutes>cpumin.keras`, for the learning curve.
    """

    def __init__(self, directory, cpu_minutes, snapshot_cpu_minutes=0.0):
        super().__init__()
        self.directory, self.budget, self.every = directory, 60.0 * cpu_minutes, 60.0 * snapshot_cpu_minutes
        self.records = []

    def on_train_begin(self, logs=None):
        self.start_cpu, self.start_wall = cpu_seconds(), time.monotonic()
        self.next_snapshot = self.every

    def on_train_batch_end(self, batch, logs=None):
        used = cpu_seconds() - self.start_cpu
        if self.every and used >= self.next_snapshot:
            minutes = round(self.next_snapshot / 60.0)
            self.next_snapshot += self.every
            self.model.save(os.path.join(self.directory, f"snapshot_{minutes:03d}cpumin.keras"))
            self.records.append(
                {
                    "cpu_minutes": used / 60.0,
                    "wall_minutes": (time.monotonic() - self.start_wall) / 60.0,
                    "step": int(self.model.optimizer.iterations),
                }
            )
        if used >= self.budget:
            self.model.stop_training = True


def train(args):
    os.makedirs(args.out, exist_ok=True)
    keras.utils.set_random_seed(args.seed)
    overrides = {key: json.loads(value) for key, value in (item.split("=", 1) for item in args.set or [])}
    model = VideoDiffusion.from_preset(args.preset, seed=args.seed, **overrides)
    training = VideoDiffusion.presets[args.preset]["training"]
    batch_size = args.batch_size or training["batch_size"]
    model.compile(keras.optimizers.Adam(args.learning_rate or training.get("learning_rate", 3e-4)))
    snapshots = CPUBudget(args.out, args.cpu_minutes, args.snapshot_cpu_minutes)
    start, start_cpu = time.monotonic(), cpu_seconds()
    history = model.fit(
        training_data(model.clip_shape, batch_size, args.seed),
        steps_per_epoch=100,
        epochs=100_000,
        verbose=2,
        callbacks=[TimeLimit(args.minutes), snapshots],
    )
    minutes, cpu_minutes = (time.monotonic() - start) / 60.0, (cpu_seconds() - start_cpu) / 60.0
    model.save(os.path.join(args.out, "model.keras"))
    record = {
        "preset": args.preset,
        "overrides": overrides,
        "batch_size": batch_size,
        "steps": int(model.optimizer.iterations),
        "minutes": minutes,
        "cpu_minutes": cpu_minutes,
        "history": {key: [float(value) for value in values] for key, values in history.history.items()},
        "snapshots": snapshots.records,
    }
    with open(os.path.join(args.out, "history.json"), "w") as file:
        json.dump(record, file, indent=1)
    print(json.dumps({key: record[key] for key in ("steps", "minutes", "cpu_minutes", "batch_size")}))


def digit_classifier():
    return keras.saving.load_model(
        os.path.join(feature_extractor.DEFAULT_DIRECTORY, feature_extractor.CLASSIFIER_FILE), compile=False
    )


def sample_in_batches(model, count, batch_size, seed, **kwargs):
    labels = kwargs.pop("labels", None)
    batches = []
    for index, start in enumerate(range(0, count, batch_size)):
        size = min(batch_size, count - start)
        batch_labels = None if labels is None else labels[start : start + size]
        batches.append(np.asarray(model.sample(size, seed=seed + index, labels=batch_labels, **kwargs)))
    return np.concatenate(batches)


def score(args):
    model = keras.saving.load_model(args.model)
    real = test_clips(model.clip_shape, args.num_clips)
    results = {"model": args.model, "num_clips": len(real), "steps": args.steps, "guidance": args.guidance}
    start = time.monotonic()
    samples = sample_in_batches(model, len(real), args.batch_size, 1000, steps=args.steps)
    results["sampling_clips_per_second"] = len(real) / (time.monotonic() - start)
    results.update(frechet_report(real, samples, feature_extractor.load_feature_extractor(None)))
    reconstruction = np.concatenate([np.asarray(model(real[start : start + 32])) for start in range(0, len(real), 32)])
    results["reconstruction_psnr"] = float(np.mean(per_frame_psnr(real, reconstruction)))
    results["reconstruction_ssim"] = float(np.mean(per_frame_ssim(real, reconstruction)))
    if model.num_classes and args.class_clips:
        labels = np.arange(args.class_clips) % model.num_classes
        conditional = sample_in_batches(
            model, len(labels), args.batch_size, 2000, steps=args.steps, labels=labels, guidance=args.guidance
        )
        logits = np.asarray(digit_classifier().predict(conditional, verbose=0)["digits"])
        top_two = np.argsort(-logits, axis=1)[:, :2]
        results["class_present"] = float(np.mean(logits[np.arange(len(labels)), labels] > 0))
        results["class_in_top_two"] = float(np.mean(np.any(top_two == labels[:, None], axis=1)))
    if args.figures:
        from tfvidgen import video_io

        os.makedirs(args.figures, exist_ok=True)
        name = os.path.splitext(os.path.basename(args.model))[0]
        video_io.write_gif(os.path.join(args.figures, f"{args.prefix or name}_samples.gif"), _grid(samples[:16]))
        if model.num_classes and args.class_clips:
            video_io.write_gif(
                os.path.join(args.figures, f"{args.prefix or name}_class_samples.gif"), _grid(conditional[:20], 10)
            )
    print(json.dumps(results, indent=1))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1)


def predict(args):
    """One future and the best of `--num-samples` per test clip, beside `--compare` (a predictor) and all black."""
    from tfvidgen.metrics.frame_metrics import per_frame_mae
    from tfvidgen.metrics.frame_metrics import per_frame_mse

    model = keras.saving.load_model(args.model)
    frames, size = args.context + args.horizon, model.clip_shape[1]
    clips = data.moving_mnist(num_clips=args.num_clips, num_frames=frames, frame_size=size, split="test", seed=0)
    clips = np.stack(list(clips.as_numpy_iterator()))
    context, target = clips[:, : args.context], clips[:, args.context :]

    def scores(prediction):
        return {
            "mse": np.asarray(per_frame_mse(target, prediction)).mean(axis=1),
            "mae": np.asarray(per_frame_mae(target, prediction)).mean(axis=1),
            "ssim": np.asarray(per_frame_ssim(target, prediction)).mean(axis=1),
        }

    start = time.monotonic()
    futures = np.concatenate(
        [
            np.asarray(
                model.predict_future(
                    context[index : index + args.batch_size],
                    args.horizon,
                    seed=index,
                    num_samples=args.num_samples,
                    steps=args.steps,
                )
            )
            for index in range(0, len(context), args.batch_size)
        ]
    )
    seconds = time.monotonic() - start
    per_sample = [scores(futures[:, sample]) for sample in range(args.num_samples)]
    results = {
        "model": args.model,
        "num_clips": len(clips),
        "context": args.context,
        "horizon": args.horizon,
        "num_samples": args.num_samples,
        "steps": args.steps,
        "seconds": seconds,
        "one_sample": {key: float(per_sample[0][key].mean()) for key in ("mse", "mae", "ssim")},
        f"best_of_{args.num_samples}": {
            "mse": float(np.min([s["mse"] for s in per_sample], axis=0).mean()),
            "mae": float(np.min([s["mae"] for s in per_sample], axis=0).mean()),
            "ssim": float(np.max([s["ssim"] for s in per_sample], axis=0).mean()),
        },
        "all_black": {key: float(value.mean()) for key, value in scores(np.zeros_like(target)).items()},
    }
    if args.compare:
        from tfvidgen import models  # noqa: F401 (registers the classes)

        other = models.SimVPPredictor.from_preset(args.compare)
        results["compare"] = {"model": args.compare}
        prediction = np.asarray(other.predict_future(context, args.horizon))
        results["compare"].update({key: float(value.mean()) for key, value in scores(prediction).items()})
    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=1)


def speed(args):
    """Clips per second of `sample` at each `--steps` (after one warm-up call), on the backend KERAS_BACKEND names."""
    model = keras.saving.load_model(args.model)
    results = {"backend": keras.backend.backend(), "batch_size": args.batch_size, "cpu": _cpu_name()}
    start = time.monotonic()
    np.asarray(model.sample(args.batch_size, seed=0, steps=1))
    results["first_call_seconds"] = time.monotonic() - start  # Compiling included.
    for steps in args.steps:
        start = time.monotonic()
        np.asarray(model.sample(args.batch_size, seed=1, steps=steps))
        results[f"clips_per_second_{steps}_steps"] = args.batch_size / (time.monotonic() - start)
    print(json.dumps(results, indent=1))


def _cpu_name():
    with open("/proc/cpuinfo") as file:
        return next((line.split(":", 1)[1].strip() for line in file if line.startswith("model name")), "unknown")


def _grid(clips, columns=4):
    """`(n, frames, h, w, c)` -> `(frames, rows * h, columns * w, c)`, a 1-pixel gap between clips."""
    clips = np.pad(clips, ((0, 0), (0, 0), (0, 1), (0, 1), (0, 0)), constant_values=1.0)
    count, frames, height, width, channels = clips.shape
    rows = -(-count // columns)
    clips = np.concatenate([clips, np.zeros((rows * columns - count,) + clips.shape[1:], clips.dtype)])
    grid = clips.reshape(rows, columns, frames, height, width, channels).transpose(2, 0, 3, 1, 4, 5)
    return grid.reshape(frames, rows * height, columns * width, channels)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train")
    train_parser.add_argument("--preset", default="cpu_small")
    train_parser.add_argument("--set", action="append", metavar="KEY=JSON")
    train_parser.add_argument("--minutes", type=float, default=600.0, help="wall-clock limit")
    train_parser.add_argument("--cpu-minutes", type=float, default=90.0, help="CPU-time budget (90: 45 min x 2 cores)")
    train_parser.add_argument("--snapshot-cpu-minutes", type=float, default=0.0)
    train_parser.add_argument("--batch-size", type=int)
    train_parser.add_argument("--learning-rate", type=float)
    train_parser.add_argument("--seed", type=int, default=0)
    train_parser.add_argument("--out", required=True)
    score_parser = commands.add_parser("score")
    score_parser.add_argument("--model", required=True)
    score_parser.add_argument("--num-clips", type=int, default=512)
    score_parser.add_argument("--class-clips", type=int, default=100)
    score_parser.add_argument("--steps", type=int, default=25)
    score_parser.add_argument("--guidance", type=float, default=2.0)
    score_parser.add_argument("--batch-size", type=int, default=32)
    score_parser.add_argument("--json")
    score_parser.add_argument("--figures")
    score_parser.add_argument("--prefix")
    predict_parser = commands.add_parser("predict")
    predict_parser.add_argument("--model", required=True)
    predict_parser.add_argument("--num-clips", type=int, default=256)
    predict_parser.add_argument("--context", type=int, default=10)
    predict_parser.add_argument("--horizon", type=int, default=10)
    predict_parser.add_argument("--num-samples", type=int, default=8)
    predict_parser.add_argument("--steps", type=int, default=25)
    predict_parser.add_argument("--batch-size", type=int, default=8)
    predict_parser.add_argument("--compare", help="a SimVP preset scored on the same clips (e.g. moving_mnist)")
    predict_parser.add_argument("--json")
    speed_parser = commands.add_parser("speed")
    speed_parser.add_argument("--model", required=True)
    speed_parser.add_argument("--batch-size", type=int, default=8)
    speed_parser.add_argument("--steps", type=int, nargs="+", default=[25, 50])
    args = parser.parse_args()
    {"train": train, "score": score, "predict": predict, "speed": speed}[args.command](args)


if __name__ == "__main__":
    main()
