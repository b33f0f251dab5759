"""Scoring predictions over a dataset: averages, per-frame curves, baselines.

Any iterable of batches (a `tf.data.Dataset`, a list of NumPy arrays), on every Keras backend.
"""

import numpy as np
from keras import ops

from tfvidgen.metrics.frame_metrics import PER_FRAME_METRICS


def copy_last_frame(context, horizon):
    """Baseline: repeat the last context frame `horizon` times."""
    return np.repeat(np.asarray(context)[:, -1:], horizon, axis=1)


def all_black(context, horizon):
    """Baseline: predict black (zero) frames."""
    return np.zeros_like(copy_last_frame(context, horizon))


BASELINES = {"copy_last_frame": copy_last_frame, "all_black": all_black}


def linear_blend(frame_a, frame_b):
    """Interpolation baseline: the mean of the two neighbour frames."""
    return 0.5 * (np.asarray(frame_a, np.float32) + np.asarray(frame_b, np.float32))


def optical_flow(frame_a, frame_b):
    """Interpolation baseline: `tfvidgen.postprocess.FlowInterpolator`'s middle frame, pair by pair."""
    from tfvidgen.postprocess import FlowInterpolator  # NumPy/OpenCV.

    interpolator = FlowInterpolator()
    middles = [
        interpolator.interpolate(a, b)[0]
        for a, b in zip(np.asarray(frame_a, np.float32), np.asarray(frame_b, np.float32))
    ]
    return np.stack(middles).astype(np.float32)


INTERPOLATION_BASELINES = {"linear_blend": linear_blend, "optical_flow": optical_flow}


class _Scores:
    """Running per-frame sums of every metric."""

    def __init__(self):
        self.sums = {}
        self.count = 0

    def add(self, target, prediction):
        for name, function in PER_FRAME_METRICS.items():
            values = ops.convert_to_numpy(function(target, prediction)).astype(np.float64)  # (batch, horizon)
            self.sums[name] = self.sums.get(name, 0.0) + values.sum(axis=0)
        self.count += int(target.shape[0])

    def result(self):
        if not self.count:
            raise ValueError(
                "The `dataset` given to `evaluate_predictions` (or `evaluate_interpolation`) must yield "
                "(context, target) (or (neighbours, middle)) batches. Received: no batch"
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


def evaluate_interpolation(interpolate_fn, dataset, baselines=True, max_batches=None):
    """Scores `interpolate_fn` on `(neighbours, middle)` batches (`tfvidgen.data.interpolation_triplets`).

    Args:
        interpolate_fn: `(frame_a, frame_b) -> middle`, each `(batch, H, W, C)`,
            e.g. `FrameInterpolator.interpolate`.
        dataset: batched `(neighbours, middle)`, `(batch, 2, H, W, C)` and
            `(batch, H, W, C)`.
        baselines: also score `linear_blend` and `optical_flow`.
        max_batches: stop after this many batches.

    Returns:
        A dict: `"model"` (and `"linear_blend"`, `"optical_flow"`) maps to `{"mse", "mae",
        "psnr", "ssim"}` averaged over middle frames (MSE/MAE: sums over the
        frame's pixels, as `evaluate_predictions`), plus `"num_triplets"`.
    """
    scores = {"model": _Scores()}
    if baselines:
        scores.update({name: _Scores() for name in INTERPOLATION_BASELINES})
    for index, (neighbours, middle) in enumerate(dataset):
        if max_batches is not None and index >= max_batches:
            break
        frame_a, frame_b = neighbours[:, 0], neighbours[:, 1]
        scores["model"].add(middle, interpolate_fn(frame_a, frame_b))
        if baselines:
            for name, baseline in INTERPOLATION_BASELINES.items():
                scores[name].add(middle, baseline(frame_a, frame_b))
    results = {}
    for name, score in scores.items():
        results[name] = score.result()
        del results[name]["per_frame"]  # One frame per triplet.
    results["num_triplets"] = scores["model"].count
    return results


def format_table(results):
    """A plain-text table of the averages, model first, then the baselines."""
    names = [name for name, row in results.items() if isinstance(row, dict) and "mse" in row]
    lines = [f"{'':18s}{'MSE':>10s}{'MAE':>10s}{'PSNR':>9s}{'SSIM':>8s}"]
    for name in names:
        row = results[name]
        lines.append(f"{name:18s}{row['mse']:10.2f}{row['mae']:10.2f}{row['psnr']:9.2f}{row['ssim']:8.4f}")
    return "\n".join(lines)
