"""Evaluating generative models (GAN, VAE, ...) on held-out clips, with baselines."""

import numpy as np

from tfvidgen.metrics.frame_metrics import per_frame_psnr
from tfvidgen.metrics.frame_metrics import per_frame_ssim
from tfvidgen.metrics.frechet import GaussianStatistics
from tfvidgen.metrics.frechet import mean_pairwise_distance
from tfvidgen.metrics.feature_extractor import load_feature_extractor


def _stack(dataset, limit):
    clips = np.stack([np.asarray(clip) for clip in dataset.take(limit)])
    if len(clips) < 2:
        raise ValueError(f"The held-out data must give at least 2 clips. Received: {len(clips)} clip(s)")
    return clips


def mean_clip_noise_baseline(clips, count, seed=0):
    """'Mean clip + noise': the per-pixel mean of `clips` plus Gaussian noise of their per-pixel std."""
    rng = np.random.default_rng(seed)
    mean, std = clips.mean(axis=0), clips.std(axis=0)
    return np.clip(mean + std * rng.standard_normal((count,) + clips.shape[1:]), 0.0, 1.0).astype(np.float32)


def generate_clips(model, count, batch_size, seed, sample_inputs=None):
    """`count` clips from a generative model or its export (`sample(n, seed, **sample_inputs)`), in seeded batches."""
    batches = [
        np.asarray(model.sample(min(batch_size, count - start), seed=seed + index, **(sample_inputs or {})))
        for index, start in enumerate(range(0, count, batch_size))
    ]
    return np.concatenate(batches)


def brightness_flicker(clips):
    """Mean absolute frame-to-frame change of a clip's mean brightness, averaged over clips.

    Real Moving MNIST changes little (digits move, their pixel count stays);
    a generator that flickers changes its overall brightness from frame to
    frame. Compare samples with real clips: `flicker / flicker_real`.

    Args:
        clips: `(clips, frames, height, width, channels)` in [0, 1].

    Returns:
        A float, in brightness units per frame (0-1 scale).
    """
    clips = np.asarray(clips, np.float32)
    if clips.ndim != 5 or clips.shape[1] < 2:
        raise ValueError(f"`clips` must be (clips, frames >= 2, height, width, channels). Received {clips.shape}")
    brightness = clips.mean(axis=(2, 3, 4))
    return float(np.abs(np.diff(brightness, axis=1)).mean())


def frechet_report(real, generated, features, seed=0):
    """Fréchet distances of generated clips and of the mean-clip baseline to `real`, plus diversity."""
    real_features = features(real)
    generated_features = features(generated)
    baseline_features = features(mean_clip_noise_baseline(real, len(generated), seed))
    real_statistics = GaussianStatistics().update(real_features)
    return {
        "feature_space": features.name,
        "frechet_distance": GaussianStatistics().update(generated_features).distance_to(real_statistics),
        "frechet_distance_mean_clip_noise": GaussianStatistics().update(baseline_features).distance_to(real_statistics),
        "diversity": mean_pairwise_distance(generated_features),
        "diversity_real": mean_pairwise_distance(real_features),
        "flicker": brightness_flicker(generated),
        "flicker_real": brightness_flicker(real),
    }


def reconstruction_scores(model, clips, batch_size=16):
    """Mean per-frame PSNR and SSIM of `model.reconstruct(clips)` against `clips` (a VAE or its export)."""
    reconstructions = np.concatenate(
        [np.asarray(model.reconstruct(clips[start : start + batch_size])) for start in range(0, len(clips), batch_size)]
    )
    return {
        "reconstruction_psnr": float(np.mean(per_frame_psnr(clips, reconstructions))),
        "reconstruction_ssim": float(np.mean(per_frame_ssim(clips, reconstructions))),
    }


def evaluate_generator(model, family, clips, num_clips, batch_size=16, features=None, seed=0, sample_inputs=None):
    """Scores a generative model on held-out clips.

    Args:
        model: a generative model (`VideoDCGAN`, `VideoVAE`, ...) or its `ExportedModel`.
        family: the family's name, recorded in the results.
        clips: a dataset of held-out float32 clips.
        num_clips: clips used (and generated).
        batch_size: generation batch size.
        features: feature extractor spec (see `load_feature_extractor`).
        seed: generation seed.
        sample_inputs: further `sample` arguments (a sampler's `steps`), or None.

    Returns:
        A dict with the Fréchet distance of samples and of the
        "mean clip + noise" baseline, diversity (mean pairwise feature
        distance of samples and of real clips), and the family's own scores
        (`model.evaluation_extras`: for a VAE, reconstruction PSNR/SSIM, and
        the negative ELBO when the Keras model is given).
    """
    real = _stack(clips, num_clips)
    generated = generate_clips(model, len(real), batch_size, seed, sample_inputs)
    results = {"family": family, "num_clips": len(real)}
    results.update(frechet_report(real, generated, load_feature_extractor(features), seed))
    results.update(model.evaluation_extras(real, batch_size))
    return results


def format_report(results):
    lines = [
        f"Frechet distance ({results['feature_space']}): {results['frechet_distance']:.3f}   "
        f"mean clip + noise baseline: {results['frechet_distance_mean_clip_noise']:.3f}",
        f"diversity (mean pairwise feature distance): samples {results['diversity']:.3f}, "
        f"real {results['diversity_real']:.3f}",
    ]
    if "flicker" in results:
        lines.append(
            f"flicker (mean |change of a clip's mean brightness| per frame): samples {results['flicker']:.5f}, "
            f"real {results['flicker_real']:.5f} ({results['flicker'] / max(results['flicker_real'], 1e-12):.2f}x)"
        )
    if "reconstruction_psnr" in results:
        lines.append(
            f"reconstruction PSNR {results['reconstruction_psnr']:.2f} dB, SSIM {results['reconstruction_ssim']:.4f}"
        )
    if "bits_per_dim" in results:
        lines.append(
            f"negative ELBO: {results['nelbo_nats_per_clip']:.1f} nats/clip, {results['bits_per_dim']:.4f} bits/dim"
        )
    return "\n".join(lines)
