import json
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfvidgen import metrics
from tfvidgen.cli.main import main as cli_main
from tfvidgen.metrics import feature_extractor
from tfvidgen.metrics.generative import frechet_report
from tfvidgen.metrics.generative import mean_clip_noise_baseline


def test_distance_between_gaussians_with_known_closed_forms():
    # Diagonal covariances: d^2 = |mu_a - mu_b|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
    mean_a, mean_b = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    variances_a, variances_b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 5.0 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0.0
    assert metrics.frechet_distance(mean_a, np.diag(variances_a), mean_b, np.diag(variances_b)) == pytest.approx(
        expected
    )
    # Same covariance, rotated: only the means count.
    rotation = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    covariance = rotation @ np.diag([2.0, 0.5]) @ rotation.T
    assert metrics.frechet_distance([0, 0], covariance, [3, 4], covariance) == pytest.approx(25.0)
    # Commuting covariances (same eigenvectors): sum over eigenvalues of (sqrt(a) - sqrt(b))^2.
    other = rotation @ np.diag([8.0, 2.0]) @ rotation.T
    assert metrics.frechet_distance([0, 0], covariance, [0, 0], other) == pytest.approx(
        (math.sqrt(2) - math.sqrt(8)) ** 2 + (math.sqrt(0.5) - math.sqrt(2)) ** 2
    )
    assert metrics.frechet_distance([1, 2], covariance, [1, 2], covariance) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.frechet_distance([0, 0], np.eye(2), [0, 0, 0], np.eye(3))


def test_streaming_statistics_match_numpy_and_estimate_the_distance():
    rng = np.random.default_rng(0)
    samples_a = rng.normal(0.0, 1.0, size=(20000, 4))
    samples_b = rng.normal(0.5, 2.0, size=(20000, 4))
    statistics = metrics.GaussianStatistics()
    for batch in np.array_split(samples_a, 7):
        statistics.update(batch)
    np.testing.assert_allclose(statistics.mean, samples_a.mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(statistics.covariance, np.cov(samples_a, rowvar=False), atol=1e-10)
    estimate = statistics.distance_to(metrics.GaussianStatistics().update(samples_b))
    assert estimate == pytest.approx(4 * 0.25 + 4 * (1 - 2) ** 2, rel=0.03)


def test_diversity_detects_collapse():
    rng = np.random.default_rng(1)
    spread = rng.normal(size=(50, 8))
    collapsed = np.repeat(spread[:1], 50, axis=0) + 0.01 * rng.normal(size=(50, 8))
    assert metrics.mean_pairwise_distance(spread) > 50 * metrics.mean_pairwise_distance(collapsed)
    assert metrics.mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)


def test_resampling_and_keras_feature_extractor(tmp_path):
    clips = np.random.default_rng(2).random((3, 8, 32, 32, 3)).astype(np.float32)
    resampled = feature_extractor.resample_clips(clips, (4, 16, 16, 1)).numpy()
    assert resampled.shape == (3, 4, 16, 16, 1)
    keras.utils.set_random_seed(0)
    classifier = feature_extractor.build_feature_classifier((4, 16, 16, 1), width=4, feature_dim=6)
    classifier.save(tmp_path / "classifier.keras")
    features = metrics.load_feature_extractor(str(tmp_path / "classifier.keras"), batch_size=2)
    vectors = features(clips)
    assert vectors.shape == (3, 6) and features.clip_shape == (4, 16, 16, 1)
    embedding = keras.Model(classifier.input, classifier.get_layer("features").output)
    np.testing.assert_allclose(vectors, embedding(resampled).numpy(), atol=1e-5)


def test_features_command_writes_a_loadable_classifier_and_metrics(tmp_path, capsys):
    arguments = ["features", "--out", str(tmp_path), "--steps", "2", "--batch-size", "2", "--validation-clips", "4"]
    assert cli_main(arguments) == 0
    with open(tmp_path / "metrics.json") as file:
        results = json.load(file)
    assert capsys.readouterr().out.rstrip().endswith(json.dumps(results, indent=2))
    assert results["train_steps"] == 2 and results["held_out_clips"] == 4
    for key in ("digit_set_exact_match", "digit_label_accuracy", "motion_set_exact_match", "motion_label_accuracy"):
        assert 0.0 <= results[key] <= 1.0
    features = metrics.load_feature_extractor(str(tmp_path / "classifier.keras"), batch_size=2)
    vectors = features(np.zeros((3, 20, 64, 64, 1), np.float32))
    assert vectors.shape == (3, 128) and np.isfinite(vectors).all()


def test_i3d_savedmodel_plumbing(tmp_path):
    # A stand-in with I3D's interface: (batch, frames, 224, 224, 3) in [-1, 1] -> 400 logits.
    class FakeI3D(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, None, 224, 224, 3), tf.float32)])
        def __call__(self, video):
            pooled = tf.reduce_mean(video, axis=[1, 2, 3])  # (batch, 3)
            return {
                "default": tf.concat(
                    [pooled, tf.reduce_min(video, axis=[1, 2, 3, 4])[:, None], tf.zeros((tf.shape(video)[0], 396))],
                    axis=1,
                )
            }

    module = FakeI3D()
    tf.saved_model.save(module, str(tmp_path / "i3d"), signatures={"default": module.__call__})
    features = metrics.load_feature_extractor(str(tmp_path / "i3d"))
    assert features.name == "i3d" and features.clip_shape == (16, 224, 224, 3)
    gray = np.full((2, 10, 8, 8, 1), 0.75, np.float32)
    vectors = features(gray)
    assert vectors.shape == (2, 400)
    np.testing.assert_allclose(vectors[:, :3], 0.5, atol=1e-5)  # 0.75 in [0, 1] is 0.5 in [-1, 1], on 3 channels.


def test_default_extractor_missing_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("TFVIDGEN_FEATURES", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="tfvidgen features --out DIR"):
        metrics.load_feature_extractor()


def test_frechet_report_and_mean_clip_baseline():
    rng = np.random.default_rng(3)
    real = rng.random((40, 2, 4, 4, 1)).astype(np.float32)
    baseline = mean_clip_noise_baseline(real, 30, seed=1)
    assert baseline.shape == (30, 2, 4, 4, 1) and 0 <= baseline.min() and baseline.max() <= 1
    identity = metrics.ClipFeatures(
        lambda clips: tf.reshape(clips, (tf.shape(clips)[0], -1)), (2, 4, 4, 1), name="pixels"
    )
    report = frechet_report(real, real[::-1].copy(), identity)
    assert report["frechet_distance"] == pytest.approx(0.0, abs=1e-6)
    assert report["frechet_distance_mean_clip_noise"] > 0.1
    assert report["diversity"] == pytest.approx(report["diversity_real"])
    assert report["flicker"] == pytest.approx(report["flicker_real"])  # The same clips, reordered.


def test_pixel_bernoulli_baseline():
    clips = np.zeros((4, 1, 1, 2, 1))
    clips[:, 0, 0, 0] = 1.0  # Pixel 0 always on, pixel 1 always off.
    clips[:2, 0, 0, 1] = 1.0  # ...except pixel 1 is on in half the clips.
    baseline = metrics.PixelBernoulliBaseline().fit(clips)
    np.testing.assert_allclose(baseline.probabilities.ravel(), [1 - 1e-4, 0.5])
    expected_bits = (-math.log(1 - 1e-4) + math.log(2)) / (2 * math.log(2))
    assert baseline.bits_per_dim(clips) == pytest.approx(expected_bits)


def test_brightness_flicker_measures_frame_to_frame_brightness_changes():
    from tfvidgen.metrics.generative import brightness_flicker

    steady = np.zeros((2, 4, 8, 8, 1), np.float32)
    steady[:, :, 2:4, 2:4] = 1.0  # A square of constant size: no flicker.
    assert brightness_flicker(steady) == 0.0
    flickering = steady.copy()
    flickering[:, 1::2] *= 0.5  # Every other frame at half brightness: a 4/64 * 0.5 jump each frame.
    assert brightness_flicker(flickering) == pytest.approx(4 / 64 * 0.5)
    with pytest.raises(ValueError, match="frames >= 2"):
        brightness_flicker(steady[:, :1])
