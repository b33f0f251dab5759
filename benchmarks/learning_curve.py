"""Quality against training minutes: every snapshot of a `tfvidgen train --snapshot-minutes M` run, evaluated.

    python benchmarks/learning_curve.py --run runs/quality-simvp-cpu_small \
        [--json docs/results/simvp_learning_curve.json] [--figure docs/figures/simvp_learning_curve.png]

Scores `RUN/snapshots/minute_*.keras` (and the final `model.keras`, at the
run's training minutes) on held-out clips of the `test` split, as the
documented commands do:
- predictors (ConvLSTM, SimVP): `tfvidgen evaluate`'s 10 -> 10 rollout on 256
  clips (MSE, MAE, PSNR, SSIM);
- DCGAN and VAE: `benchmarks/generative_quality.py`'s Fréchet distance,
  diversity and flicker of 512 samples against 512 clips, and for the VAE
  bits/dim and reconstruction PSNR/SSIM; a VAE snapshot's sampling prior is
  fitted to 2,048 training clips first, as `tfvidgen train` fits the final
  model's (its N(0, I) samples' Fréchet distance: `frechet_standard_prior`).
Prints a table (one row per snapshot) and writes a JSON and a PNG chart of
each score against minutes (`--also` draws earlier runs' JSONs beside it). The minutes are wall-clock training time
(validation and previews included) on the machine that trained the run.
"""

import argparse
import glob
import json
import os
import re

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from generative_quality import StandardPrior  # noqa: E402
from generative_quality import clips_of  # noqa: E402
from generative_quality import fit_prior_if_unfitted  # noqa: E402
from generative_quality import vae_scores  # noqa: E402
from tfvidgen import data as data_lib  # noqa: E402
from tfvidgen import metrics  # noqa: E402
from tfvidgen import plotting  # noqa: E402
from tfvidgen import video_io  # noqa: E402
from tfvidgen.families import PREDICTOR_FAMILIES  # noqa: E402
from tfvidgen.metrics import load_feature_extractor  # noqa: E402
from tfvidgen.metrics.generative import frechet_report  # noqa: E402
from tfvidgen.metrics.generative import generate_clips  # noqa: E402

SCORES = {
    "predictor": ("mse", "mae", "psnr", "ssim"),
    "dcgan": ("frechet_distance", "diversity", "flicker_ratio"),
    "vae": (
        "frechet_distance",
        "frechet_standard_prior",
        "bits_per_dim",
        "reconstruction_psnr",
        "reconstruction_ssim",
    ),
}


def snapshots(run):
    """`[(minutes, path)]`: the snapshots in order, then the final model at the run's training minutes."""
    points = []
    for path in glob.glob(os.path.join(run, "snapshots", "minute_*.keras")):
        stem = re.fullmatch(r"minute_(\d+)(?:_(\d+))?\.keras", os.path.basename(path))
        points.append((float(f"{stem.group(1)}.{stem.group(2) or 0}"), path))
    final = os.path.join(run, "model.keras")
    if os.path.exists(final):
        summary = json.load(open(os.path.join(run, "summary.json")))
        minutes = round(summary["train_seconds"] / 60, 1)
        if not points or minutes > max(points)[0] + 0.05:  # Else the last snapshot is the final model.
            points.append((minutes, final))
    return sorted(points)


def predictor_scorer(frame_shape, context_frames, num_clips):
    clips = data_lib.load_clips(
        "moving_mnist", context_frames + 10, frame_shape[:2], frame_shape[2], split="test", num_clips=num_clips, seed=0
    )
    pairs = data_lib.prediction_pairs(clips, context_frames, 10).batch(16)

    def score(model):
        results = metrics.evaluate_predictions(model.predict_future, pairs, baselines=False)["model"]
        return {name: float(results[name]) for name in SCORES["predictor"]}

    return score


def generative_scorer(family, clip_shape, num_clips):
    real = clips_of("test", clip_shape, num_clips)
    features = load_feature_extractor()

    def score(model):
        if family == "vae":
            fit_prior_if_unfitted(model)
        report = frechet_report(real, generate_clips(model, len(real), 32, seed=1000), features)
        report["flicker_ratio"] = report["flicker"] / report["flicker_real"]
        if family == "vae":
            report.update(vae_scores(model, real)[0])
            standard = generate_clips(StandardPrior(model), len(real), 32, seed=1000)
            report["frechet_standard_prior"] = frechet_report(real, standard, features)["frechet_distance"]
        return {name: float(report[name]) for name in SCORES[family]}

    return score


def write_figure(path, runs, kind):
    """A PNG of each score against minutes, one line per run (each a table this script wrote)."""
    # The snapshots, every M minutes in every run (the final models end at slightly different minutes).
    periodic = [[row for row in run["points"] if "snapshots" in row["path"]] for run in runs]
    length = min(len(points) for points in periodic)
    minutes = [row["minutes"] for row in periodic[0][:length]]
    panels = [
        plotting.line_chart(
            {run["label"]: [row[name] for row in points[:length]] for run, points in zip(runs, periodic)},
            title=name,
            x_label="minutes",
            x_values=minutes,
        )
        for name in SCORES[kind]
    ]
    if len(panels) % 2:
        panels.append(np.full_like(panels[0], 255))
    grid = np.concatenate(
        [np.concatenate(panels[index : index + 2], axis=1) for index in range(0, len(panels), 2)], axis=0
    )
    video_io.write_png(path, grid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a `tfvidgen train --snapshot-minutes M` run directory")
    parser.add_argument("--num-clips", type=int, help="held-out clips (default: 256 predictors, 512 GAN/VAE)")
    parser.add_argument("--json", help="write the table here")
    parser.add_argument("--figure", help="write a PNG of each score against minutes here")
    parser.add_argument("--label", help="this run's name in the figure (default: the run directory's name)")
    parser.add_argument(
        "--also", action="append", default=[], help="a JSON written earlier by this script, drawn in the same figure"
    )
    args = parser.parse_args()

    config = json.load(open(os.path.join(args.run, "config.json")))
    family = config["family"]
    points = snapshots(args.run)
    if not points:
        raise SystemExit(f"{args.run} has no snapshots/minute_*.keras and no model.keras")
    kind = "predictor" if family in PREDICTOR_FAMILIES else family
    first = keras.models.load_model(points[0][1])
    if kind == "predictor":
        score = predictor_scorer(first.frame_shape, first.context_frames, args.num_clips or 256)
    else:
        score = generative_scorer(family, first.clip_shape, args.num_clips or 512)
    rows = []
    print(f"{'minutes':>8s}{'steps':>8s}" + "".join(f"{name:>22s}" for name in SCORES[kind]))
    for minutes, path in points:
        model = keras.models.load_model(path)
        optimizer = getattr(model, "g_optimizer", None) or model.optimizer
        row = {"minutes": minutes, "steps": int(np.asarray(optimizer.iterations)), "path": path, **score(model)}
        rows.append(row)
        print(f"{minutes:>8g}{row['steps']:>8d}" + "".join(f"{row[name]:>22.4f}" for name in SCORES[kind]))
    label = args.label or os.path.basename(os.path.normpath(args.run))
    results = {"run": args.run, "label": label, "family": family, "preset": config["preset"], "points": rows}
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
        print(f"wrote {args.json}")
    if args.figure:
        write_figure(args.figure, [results] + [json.load(open(path)) for path in args.also], kind)
        print(f"wrote {args.figure}")


if __name__ == "__main__":
    main()
