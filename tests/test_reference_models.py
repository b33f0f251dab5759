"""The trained presets shipped in saved_models/ (tfvidgen/presets/) load, export, serve and beat their baselines.

No SavedModel is stored: each test exports the float16 presets once per module (`export_for_serving`, as
`tfvidgen export --model saved_models/NAME --out DIR` does) and scores the exports, so the thresholds hold for the
weights that ship.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import write_test_video
from tfvidgen import data
from tfvidgen import export
from tfvidgen import metrics
from tfvidgen.metrics.generative import frechet_report
from tfvidgen.metrics.generative import generate_clips
from tfvidgen.serving import ExportedModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAVED = os.path.join(ROOT, "saved_models")
FAMILIES = {"convlstm": "ConvLSTMPredictor", "simvp": "SimVPPredictor", "dcgan": "VideoDCGAN", "vae": "VideoVAE"}
FAMILIES["interpolator"] = "FrameInterpolator"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """`{"<family>_cpu_small": base directory}`: each shipped preset exported once, the way the CLI does it."""
    from tfvidgen import models

    base = tmp_path_factory.mktemp("exports")
    paths = {}
    for family, class_name in FAMILIES.items():
        name = f"{family}_cpu_small"
        model = getattr(models, class_name).from_preset(os.path.join(SAVED, name))
        export.export_for_serving(model, base / name, version=1)
        paths[name] = str(base / name)
    return paths


def _held_out(shape, count):
    clips = data.moving_mnist(num_clips=count, num_frames=shape[0], frame_size=shape[1:3], split="test", seed=123)
    return np.stack(list(clips.as_numpy_iterator()))


@pytest.mark.parametrize(
    "name", ["convlstm_cpu_small", "simvp_cpu_small", "dcgan_cpu_small", "interpolator_cpu_small", "vae_cpu_small"]
)
def test_reference_model_passes_the_c_api_check(name, exports):
    results = export.check_servable(exports[name])
    assert results and all(result["max_abs_diff"] <= 1e-4 for result in results.values())
    for file in ("README.md", "metadata.json", "config.json", "model.weights.h5"):
        assert os.path.exists(os.path.join(SAVED, name, file))
    assert not os.path.exists(os.path.join(SAVED, name, "1"))  # Derived by `tfvidgen export`, not stored twice.


def test_reference_convlstm_beats_both_baselines(exports):
    model = ExportedModel(exports["convlstm_cpu_small"])
    assert model.family == "convlstm" and model.frame_shape == (64, 64, 1)
    pairs = data.prediction_pairs(
        data.moving_mnist(num_clips=32, num_frames=20, frame_size=64, split="test", seed=123), 10
    ).batch(16)
    results = metrics.evaluate_predictions(model.predict_future, pairs)
    assert results["num_clips"] == 32
    best_baseline = min(results["copy_last_frame"]["mse"], results["all_black"]["mse"])
    assert results["model"]["mse"] < 0.85 * best_baseline, metrics.format_table(results)


def test_reference_simvp_meets_issue_13s_targets_and_beats_all_black_on_every_metric(exports):
    model = ExportedModel(exports["simvp_cpu_small"])
    assert model.family == "simvp" and model.frame_shape == (64, 64, 1)
    pairs = data.prediction_pairs(
        data.moving_mnist(num_clips=32, num_frames=20, frame_size=64, split="test", seed=123), 10
    ).batch(16)
    results = metrics.evaluate_predictions(model.predict_future, pairs)
    table = metrics.format_table(results)
    # These 32 clips: MSE 93.59, MAE 173.21, SSIM 0.769 (256 clips: 91.77, 169.52, 0.777); all black 311.24,
    # 351.23, 0.690. Issue 13's targets: MSE <= 150, MAE and SSIM better than all black.
    model_scores, black = results["model"], results["all_black"]
    assert model_scores["mse"] < 105.0 and model_scores["mae"] < 195.0 and model_scores["ssim"] > 0.75, table
    assert model_scores["mae"] < black["mae"] and model_scores["ssim"] > black["ssim"], table


def test_reference_interpolator_beats_blending_and_matches_flow(exports):
    model = ExportedModel(exports["interpolator_cpu_small"])
    assert model.family == "interpolator" and model.frame_shape == (64, 64, 1)
    clips = data.moving_mnist(num_clips=64, num_frames=3, frame_size=64, split="test", seed=123)
    results = metrics.evaluate_interpolation(model.interpolate, data.interpolation_triplets(clips).batch(16))
    assert results["num_triplets"] == 64
    # Measured on 256 test triplets: 22.45 dB, optical flow 21.85, linear blending 16.23.
    assert results["model"]["psnr"] > 21.5, metrics.format_table(results)
    assert results["model"]["psnr"] > results["linear_blend"]["psnr"] + 5.0, metrics.format_table(results)
    assert results["model"]["ssim"] > results["optical_flow"]["ssim"], metrics.format_table(results)


def test_reference_generators_beat_the_mean_clip_baseline(exports):
    features = metrics.load_feature_extractor()
    real = _held_out((16, 64, 64), 128)
    for name, family in (("dcgan_cpu_small", "dcgan"), ("vae_cpu_small", "vae")):
        model = ExportedModel(exports[name])
        report = frechet_report(real, generate_clips(model, len(real), 32, seed=7), features)
        assert report["frechet_distance"] < report["frechet_distance_mean_clip_noise"], (name, report)
        if family == "dcgan":  # These 128 clips: 216.8 against 500.8, diversity 12.3, flicker 1.03x real.
            assert report["frechet_distance"] < 0.5 * report["frechet_distance_mean_clip_noise"], report
            assert report["diversity"] > 11.8, report  # 12.5 on 512 clips; issue 13 asks at least 12.
            # 1.18x on 512 clips (the reference before the flicker penalty: 5.0x); issue 13 asks at most 1.5x.
            assert report["flicker"] < 1.5 * report["flicker_real"], report
        if family == "vae":  # These 128 clips: 195.5 against 484.2 (issue 13: at most 0.75x), diversity 11.9.
            assert report["frechet_distance"] < 0.75 * report["frechet_distance_mean_clip_noise"], report
            assert report["diversity"] > 10.0, report
    vae = ExportedModel(exports["vae_cpu_small"])
    reconstructions = np.asarray(vae.reconstruct(real[:16]))
    # Measured on these 16 clips: 19.55 dB, SSIM 0.839 (the previous reference: 19.43 dB / 0.834; the first, 17.75 dB
    # / 0.762 on 512).
    assert np.mean(metrics.per_frame_psnr(real[:16], reconstructions)) > 19.3
    assert np.mean(metrics.per_frame_ssim(real[:16], reconstructions)) > 0.83


@pytest.mark.slow
def test_cli_uses_the_reference_models_without_training(tmp_path):
    video = str(tmp_path / "walk.avi")
    write_test_video(video, 16, size=(96, 128), fourcc="MJPG")
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    for arguments in (
        ["generate", "--model", os.path.join(SAVED, "vae_cpu_small"), "--num", 4, "--out", tmp_path / "vae.gif"],
        ["generate", "--model", os.path.join(SAVED, "dcgan_cpu_small"), "--num", 4, "--out", tmp_path / "gan.png"],
        ["generate", "--model", os.path.join(SAVED, "vae_cpu_small"), "--num", 2, "--interpolate", 2]
        + ["--interpolator", os.path.join(SAVED, "interpolator_cpu_small"), "--out", tmp_path / "smooth.mp4"],
        ["predict", "--model", os.path.join(SAVED, "simvp_cpu_small"), "--video", video, "--horizon", 5],
        # A preset directory loads uncompiled: evaluate compiles it for the ELBO (CI's wheel check ran into it).
        ["evaluate", "--model", os.path.join(SAVED, "vae_cpu_small"), "--num-clips", 8, "--batch-size", 8],
    ):
        completed = subprocess.run(
            [sys.executable, "-m", "tfvidgen.cli.main", *map(str, arguments)],
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
    assert (tmp_path / "vae.gif").stat().st_size > 0 and (tmp_path / "gan.png").stat().st_size > 0
    assert (tmp_path / "walk_prediction.mp4").stat().st_size > 0
    from tfvidgen import postprocess

    smooth, fps = postprocess.read_clip(tmp_path / "smooth.mp4")
    assert smooth.shape[0] == (16 - 1) * 2 + 1 and fps == 16  # 16 frames of the VAE, doubled by the learned model.


@pytest.mark.parametrize(
    "cls, name",
    [
        ("ConvLSTMPredictor", "convlstm"),
        ("SimVPPredictor", "simvp"),
        ("VideoDCGAN", "dcgan"),
        ("VideoVAE", "vae"),
        ("FrameInterpolator", "interpolator"),
    ],
)
def test_references_load_as_keras_presets_ready_to_fine_tune(cls, name, exports):
    import keras

    from tfvidgen import models

    family = getattr(models, cls)
    by_path = family.from_preset(os.path.join(SAVED, f"{name}_cpu_small"))
    by_name = family.from_preset("moving_mnist")
    exported = ExportedModel(exports[f"{name}_cpu_small"])
    rng = np.random.default_rng(1)
    if name in ("convlstm", "simvp"):
        context = rng.random((2, 10, 64, 64, 1)).astype("float32")
        outputs = [model.predict_future(context, 3) for model in (by_path, by_name, exported)]
        batch = rng.random((2, 12, 64, 64, 1)).astype("float32")
    elif name == "vae":
        clips = rng.random((2, 16, 64, 64, 1)).astype("float32")
        outputs = [model.reconstruct(clips) for model in (by_path, by_name, exported)]
        # Samples too: the fitted sampling prior travels in the preset and serves from the export.
        assert by_path.latent_prior.is_fitted()
        samples = [np.asarray(model.sample(2, seed=4)) for model in (by_path, by_name, exported)]
        for other in samples[1:]:
            np.testing.assert_allclose(samples[0], other, atol=1e-5)
        batch = clips
    elif name == "dcgan":
        outputs = [model.generate(2, seed=4) for model in (by_path, by_name, exported)]
        batch = rng.random((2, 16, 64, 64, 1)).astype("float32")
    else:
        frames = rng.random((2, 64, 64, 1)).astype("float32")
        outputs = [model.interpolate(frames, frames[::-1]) for model in (by_path, by_name, exported)]
        batch = (rng.random((2, 2, 64, 64, 1)).astype("float32"), frames)
    for output in outputs[1:]:  # The trained weights, not fresh ones.
        np.testing.assert_allclose(np.asarray(outputs[0]), np.asarray(output), atol=1e-5)
    keras.utils.set_random_seed(0)
    by_path.compile()
    history = by_path.fit(*((batch,) if not isinstance(batch, tuple) else batch), epochs=1, batch_size=2, verbose=0)
    assert all(np.isfinite(values[-1]) for values in history.history.values())  # Fine-tunes from the preset.
    with pytest.raises(ValueError, match="holds a .* preset, not a"):
        family.from_preset(os.path.join(SAVED, "interpolator_cpu_small" if name != "interpolator" else "vae_cpu_small"))
