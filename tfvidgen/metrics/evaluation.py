"""Scoring predictions over a dataset: averages, per-frame curves, baselines."""

import numpy as np
import tensorflow as tf

from tfvidgen.metrics.frame_metrics import PER_FRAME_METRICS


def copy_last_frame(context, horizon):
    """Baseline: repeat the last context frame `horizon` times."""
    return tf.repeat(context[:, -1:], horizon, axis=1)


def all_black(context, horizon):
    """Baseline: predict black (zero) frames."""
    return tf.zeros_like(copy_last_frame(context, horizon))


BASELINES = {"copy_last_frame": copy_last_frame, "all_black": all_black}


class _Scores:
    """Running per-frame sums of every metric."""

    def __init__(self):
        self.sums = {}
        self.count = 0

    def add(self, target, prediction):
        for name, function in PER_FRAME_METRICS.items():
            values = function(target, prediction).numpy().astype(np.float64)  # (batch, horizon)
            self.sums[name] = self.sums.get(name, 0.0) + values.sum(axis=0)
        self.count += int(target.shape[0])

    def result(self):
        if not self.count:
            raise ValueError(
                "The `dataset` given to `evaluate_predictions` must yield (context, target) batches. Received: no batch"
            )
        curves = {name: (total / self.count).tolist() for name, total in self.sums.items()}
        result = {name: float(np.mean(curve)) for name, curve in curves.items()}
        result["per_frame"] = curves
        return result


def evaluate_predictions(predict_fn, dataset, baselines=True, max_batches=None):
    """Scores `predict_fn` on `(context, target)` batches, like the papers do.

    Args:
        predict_fn: `(context, horizon) -> predictions` of shape
            `(batch, horizon, H, W, C)`, e.g. `ConvLSTMPredictor.predict_future`.
        dataset: batched `(context, target)` pairs.
        baselines: also score `copy_last_frame` and `all_black`.
        max_batches: stop after this many batches.

    Returns:
        A dict: `"model"` (and each baseline) maps to `{"mse", "mae", "psnr",
        "ssim", "per_frame": {metric: [frame 1 .. horizon]}}`, plus
        `"num_clips"` and `"horizon"`. MSE/MAE are per-frame sums over pixels
        (see `tfvidgen.metrics.frame_metrics`).
    """
    scores = {"model": _Scores()}
    if baselines:
        scores.update({name: _Scores() for name in BASELINES})
    horizon = None
    for index, (context, target) in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        horizon = int(target.shape[1])
        scores["model"].add(target, predict_fn(context, horizon))
        if baselines:
            for name, baseline in BASELINES.items():
                scores[name].add(target, baseline(context, horizon))
    results = {name: score.result() for name, score in scores.items()}
    results["num_clips"] = scores["model"].count
    results["horizon"] = horizon
    return results


def format_table(results):
    """A plain-text table of the averages, model first, then the baselines."""
    names = [name for name in ("model", *BASELINES) if name in results]
    lines = [f"{'':18s}{'MSE':>10s}{'MAE':>10s}{'PSNR':>9s}{'SSIM':>8s}"]
    for name in names:
        row = results[name]
        lines.append(f"{name:18s}{row['mse']:10.2f}{row['mae']:10.2f}{row['psnr']:9.2f}{row['ssim']:8.4f}")
    return "\n".join(lines)
