import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfvidgen import metrics
from tfvidgen import plotting


def _pair():
    y_true = np.zeros((2, 3, 4, 4, 1), np.float32)
    y_pred = np.zeros_like(y_true)
    y_pred[0, 0, 0, 0, 0] = 0.5  # sample 0, frame 0: one pixel off by 0.5
    y_pred[1, 2] = 0.1  # sample 1, frame 2: every pixel off by 0.1
    return y_true, y_pred


def test_per_frame_sums_match_hand_computation():
    y_true, y_pred = _pair()
    mse = metrics.per_frame_mse(y_true, y_pred).numpy()
    mae = metrics.per_frame_mae(y_true, y_pred).numpy()
    np.testing.assert_allclose(mse, [[0.25, 0, 0], [0, 0, 16 * 0.01]], atol=1e-7)
    np.testing.assert_allclose(mae, [[0.5, 0, 0], [0, 0, 16 * 0.1]], atol=1e-6)


def test_psnr_and_ssim_are_tf_image_per_frame():
    rng = np.random.default_rng(0)
    y_true = rng.random((2, 3, 16, 16, 1)).astype(np.float32)
    y_pred = np.clip(y_true + rng.normal(0, 0.1, y_true.shape), 0, 1).astype(np.float32)
    psnr = metrics.per_frame_psnr(y_true, y_pred).numpy()
    frame_mse = ((y_true - y_pred) ** 2).mean(axis=(2, 3, 4))
    np.testing.assert_allclose(psnr, 10 * np.log10(1.0 / frame_mse), rtol=1e-4)
    ssim = metrics.per_frame_ssim(y_true, y_pred).numpy()
    assert ssim.shape == (2, 3)
    np.testing.assert_allclose(ssim[1, 2], tf.image.ssim(y_true[1, 2], y_pred[1, 2], 1.0).numpy(), rtol=1e-5)
    assert metrics.per_frame_ssim(y_true, y_true).numpy() == pytest.approx(np.ones((2, 3)), abs=1e-5)


def test_ssim_of_flat_frames_has_the_closed_form():
    # Flat frames a, b: no variance, so SSIM = (2ab + C1) / (a^2 + b^2 + C1), C1 = (0.01 * 1)^2.
    a, b, c1 = 0.5, 0.4, 1e-4
    y_true = np.full((1, 2, 16, 16, 1), a, np.float32)
    y_pred = np.full((1, 2, 16, 16, 1), b, np.float32)
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    np.testing.assert_allclose(metrics.per_frame_ssim(y_true, y_pred).numpy(), [[expected, expected]], rtol=1e-4)
    metric = metrics.SSIM()
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-4)


def test_keras_metrics_average_over_batch_and_frames():
    y_true, y_pred = _pair()
    metric = metrics.FrameMSE()
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx((0.25 + 0.16) / 6)
    metric = metrics.FrameMAE()
    metric.update_state(y_true, y_pred)
    assert float(metric.result()) == pytest.approx((0.5 + 1.6) / 6)
    restored = metrics.PSNR.from_config(metrics.PSNR(name="p").get_config())
    assert restored.name == "p"
    model = keras.Sequential([keras.Input((3, 4, 4, 1)), keras.layers.Identity()])
    model.compile(loss="mse", metrics=[metrics.FrameMSE(), metrics.SSIM()])
    scores = model.evaluate(y_pred, y_true, return_dict=True, verbose=0)
    assert scores["frame_mse"] == pytest.approx((0.25 + 0.16) / 6, rel=1e-5)
    assert scores["ssim"] == pytest.approx(np.mean(metrics.per_frame_ssim(y_true, y_pred).numpy()), rel=1e-5)


def test_baselines_and_evaluation_curves(tmp_path):
    context = np.zeros((2, 2, 4, 4, 1), np.float32)
    context[:, -1] = 0.5
    target = np.full((2, 3, 4, 4, 1), 0.5, np.float32)
    target[:, 2] = 1.0
    dataset = tf.data.Dataset.from_tensor_slices((context, target)).batch(1)
    results = metrics.evaluate_predictions(lambda c, h: metrics.copy_last_frame(c, h), dataset)
    assert results["num_clips"] == 2 and results["horizon"] == 3
    # The model here *is* copy-last-frame: exact on frames 1-2, off by 0.5 on frame 3.
    np.testing.assert_allclose(results["model"]["per_frame"]["mse"], [0, 0, 16 * 0.25])
    assert results["copy_last_frame"]["mse"] == pytest.approx(4.0 / 3)
    np.testing.assert_allclose(results["all_black"]["per_frame"]["mae"], [8, 8, 16])
    assert math.isinf(results["model"]["per_frame"]["psnr"][0])
    table = metrics.format_table(results)
    assert "copy_last_frame" in table and "all_black" in table
    path = plotting.plot_per_frame(str(tmp_path / "curves.png"), results)
    import cv2

    image = cv2.imread(path)
    assert image.shape == (600, 840, 3) and image.min() == 0  # Drawn, not blank.


def test_empty_dataset_is_an_error():
    empty = tf.data.Dataset.from_tensor_slices((np.zeros((0, 2, 4, 4, 1)), np.zeros((0, 2, 4, 4, 1)))).batch(1)
    with pytest.raises(ValueError, match="Received: no batch"):
        metrics.evaluate_predictions(metrics.copy_last_frame, empty)
