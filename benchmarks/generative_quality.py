"""Quality of a trained GAN or VAE run on held-out Moving MNIST, against baselines.

    python benchmarks/generative_quality.py --run runs/quality-dcgan-cpu_small [--model FILE.keras] [--num-clips 512]
        [--figures docs/figures] [--json docs/results/dcgan_quality.json]

For both families: the Fréchet distance (offline Moving MNIST feature space) of
samples from the trained model, from the same preset untrained (same seed as
the run), and from the "mean clip + noise" baseline, to held-out test clips;
and the diversity of samples (mean pairwise feature distance) next to that of
real clips. For the VAE also: held-out negative ELBO in bits/dim, trained and
untrained, against a per-pixel independent Bernoulli fitted to training clips,
and reconstruction PSNR/SSIM; its samples are scored as the model draws them
(from its fitted `LatentPrior`; a model without one, e.g. a snapshot, gets it
fitted to 2,048 training clips first, as `tfvidgen train` does) and, as
`standard_prior`, from N(0, I). Writes sample GIF/PNG grids to `--figures`.
"""

import argparse
import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # Before TensorFlow loads; see docs/benchmarks.md.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfvidgen import data  # noqa: E402
from tfvidgen import video_io  # noqa: E402
from tfvidgen.metrics import PixelBernoulliBaseline  # noqa: E402
from tfvidgen.metrics import load_feature_extractor  # noqa: E402
from tfvidgen.metrics.generative import frechet_report  # noqa: E402
from tfvidgen.metrics.generative import generate_clips  # noqa: E402
from tfvidgen.metrics.frame_metrics import per_frame_psnr  # noqa: E402
from tfvidgen.metrics.frame_metrics import per_frame_ssim  # noqa: E402
from tfvidgen.models import FAMILIES  # noqa: E402


def clips_of(split, clip_shape, count, seed=0):
    dataset = data.moving_mnist(
        num_clips=count,
        num_frames=clip_shape[0],
        frame_size=clip_shape[1:3],
        channels=clip_shape[3],
        split=split,
        seed=seed,
    )
    return np.stack(list(dataset.as_numpy_iterator()))


PRIOR_CLIPS = 2048  # As `tfvidgen train vae --prior-clips` (its default).


def fit_prior_if_unfitted(model):
    """A VAE's sampling prior fitted to training clips, as `tfvidgen train` does after training; True if fitted here."""
    if model.latent_prior.is_fitted():
        return False
    model.fit_latent_prior(clips_of("train", model.clip_shape, PRIOR_CLIPS), max_clips=PRIOR_CLIPS)
    return True


class StandardPrior:
    """A VAE whose `sample` decodes N(0, I) latents, whatever prior it has fitted (the A/B of the fitted prior)."""

    def __init__(self, model):
        self.model = model

    def sample(self, num_samples, seed):
        return self.model.decode(self.model.sample_noise(num_samples, seed))


def vae_scores(model, real, batch_size=32):
    if not model.compiled:  # A model saved without its optimizer (e.g. tools/pack_runs.py unpack).
        model.compile()
    scores = model.evaluate(real, batch_size=batch_size, return_dict=True, verbose=0)
    reconstructions = np.concatenate(
        [np.asarray(model.reconstruct(real[i : i + batch_size])) for i in range(0, len(real), batch_size)]
    )
    return {
        "bits_per_dim": float(scores["bits_per_dim"]),
        "nelbo_nats_per_clip": float(scores["nelbo"]),
        "reconstruction_psnr": float(np.mean(per_frame_psnr(real, reconstructions))),
        "reconstruction_ssim": float(np.mean(per_frame_ssim(real, reconstructions))),
    }, reconstructions


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a finished `tfvidgen train dcgan|vae` run directory")
    parser.add_argument("--model", help="the .keras file to score (default: RUN/model.keras), e.g. a checkpoint")
    parser.add_argument("--num-clips", type=int, default=512)
    parser.add_argument("--figures", help="directory for sample GIF/PNG grids")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    config = json.load(open(os.path.join(args.run, "config.json")))
    family, seed = config["family"], config["training"]["seed"]
    trained = keras.models.load_model(args.model or os.path.join(args.run, "model.keras"))
    keras.utils.set_random_seed(seed)  # The run's initial weights, as `tfvidgen train` drew them.
    untrained = FAMILIES[family].from_preset(config["preset"], **config["overrides"])
    untrained.compile()
    clip_shape = trained.clip_shape
    real = clips_of("test", clip_shape, args.num_clips)
    features = load_feature_extractor()

    results = {
        "family": family,
        "run": args.run,
        "model": args.model,
        "held_out_clips": len(real),
        "clip_shape": list(clip_shape),
    }
    if family == "vae":
        results["prior_fitted_here"] = fit_prior_if_unfitted(trained)
    samples = generate_clips(trained, len(real), 32, seed=1000)
    results["trained"] = frechet_report(real, samples, features)
    results["untrained"] = frechet_report(real, generate_clips(untrained, len(real), 32, seed=1000), features)
    fd = results["trained"]["frechet_distance"]
    results["frechet_fall_from_untrained"] = 1.0 - fd / results["untrained"]["frechet_distance"]
    results["beats_mean_clip_noise"] = fd < results["trained"]["frechet_distance_mean_clip_noise"]
    if family == "vae":
        results["trained"].update(vae_scores(trained, real)[0])
        standard = frechet_report(real, generate_clips(StandardPrior(trained), len(real), 32, seed=1000), features)
        results["standard_prior"] = {name: standard[name] for name in ("frechet_distance", "diversity", "flicker")}
        results["untrained"].update(vae_scores(untrained, real)[0])
        baseline = PixelBernoulliBaseline().fit(clips_of("train", clip_shape, 2048))
        results["bernoulli_baseline_bits_per_dim"] = baseline.bits_per_dim(real)
        results["bits_per_dim_fall_from_untrained"] = (
            1.0 - results["trained"]["bits_per_dim"] / results["untrained"]["bits_per_dim"]
        )
    print(json.dumps(results, indent=2))
    if args.json:
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)
    if args.figures:
        stem = os.path.join(args.figures, f"{family}_cpu_small")
        video_io.write_gif(f"{stem}_samples.gif", video_io.tile_clips(samples[:16], columns=4), fps=8, scale=2)
        video_io.write_png(f"{stem}_samples.png", video_io.frame_strip_grid(list(samples[:4]), scale=1))
        if family == "vae":
            _, reconstructions = vae_scores(trained, real[:8])
            video_io.write_gif(
                f"{stem}_reconstructions.gif",
                video_io.side_by_side(
                    video_io.tile_clips(real[:8], columns=4), video_io.tile_clips(reconstructions, columns=4), padding=6
                ),
                fps=8,
                scale=2,
            )


if __name__ == "__main__":
    main()
