import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

import harness
from tfvidgen import data
from tfvidgen import export
from tfvidgen import metrics
from tfvidgen.callbacks import previews as previews_lib
from tfvidgen.models import FAMILIES
from tfvidgen.models import FrameInterpolator
from tfvidgen.serving.exported_model import ExportedModel


def _frames(count, seed=0, shape=(16, 16, 1)):
    return np.random.default_rng(seed).random((count,) + shape).astype("float32")


def _triplets(num_clips=32, num_frames=4, batch_size=8):
    clips = data.moving_mnist(num_clips=num_clips, num_frames=num_frames, frame_size=16, channels=1, seed=7)
    return data.batch_dataset(data.interpolation_triplets(clips).cache(), batch_size)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model after 3 epochs (its history) and the batched triplets it saw."""
    keras.utils.set_random_seed(1)
    model = FrameInterpolator.from_preset("tiny")
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    dataset = _triplets()
    history = harness.fit_and_check_loss_falls(model, dataset, epochs=3)
    return model, dataset, history


def test_presets_build_and_register():
    assert FAMILIES["interpolator"] is FrameInterpolator
    tiny = FrameInterpolator.from_preset("tiny")
    assert tiny.frame_shape == (16, 16, 1) and tiny.filters == [8, 16]
    # Encoder 2+8 -> 8 -> 8, 8 -> 16 (stride 2) -> 16; decoder 16+8 -> 8 -> 8; head 8 -> 1 + 1 blend weight.
    conv = lambda inputs, outputs: 9 * inputs * outputs + outputs  # noqa: E731
    encoder = conv(2, 8) + conv(8, 8) + conv(8, 16) + conv(16, 16)
    assert tiny.count_params() == encoder + conv(24, 8) + conv(8, 8) + conv(8, 2)
    assert FrameInterpolator.from_preset("cpu_small").frame_shape == (64, 64, 1)
    assert FrameInterpolator.from_preset("cpu_rgb").frame_shape[2] == 3
    for name, preset in FrameInterpolator.presets.items():
        assert {"num_frames", "gap", "batch_size", "learning_rate", "steps_per_epoch", "epochs"} <= set(
            preset["training"]
        ), name
    with pytest.raises(ValueError, match="Unknown FrameInterpolator preset `preset='huge'`"):
        FrameInterpolator.from_preset("huge")


def test_config_round_trip():
    model = FrameInterpolator.from_preset("tiny", learned_blend=False, kernel_size=5)
    restored = harness.assert_config_round_trip(model)
    assert restored.learned_blend is False and restored.kernel_size == 5


@pytest.mark.parametrize("learned_blend", [True, False])
def test_untrained_model_is_linear_blending(learned_blend):
    model = FrameInterpolator.from_preset("tiny", learned_blend=learned_blend)
    frame_a, frame_b = _frames(3, seed=0), _frames(3, seed=1)
    middle = model.interpolate(frame_a, frame_b).numpy()
    np.testing.assert_allclose(middle, 0.5 * (frame_a + frame_b), atol=1e-6)


def test_blend_weights_select_a_neighbour():
    model = FrameInterpolator.from_preset("tiny")
    kernel, bias = model.head.get_weights()
    model.head.set_weights([kernel, np.array([0.0, 30.0], "float32")])  # Residual 0, weight sigmoid(30) ~ 1.
    frame_a, frame_b = _frames(2, seed=0), _frames(2, seed=1)
    np.testing.assert_allclose(model.interpolate(frame_a, frame_b).numpy(), frame_a, atol=1e-5)
    model.head.set_weights([kernel, np.array([-2.0, 0.0], "float32")])  # Residual -2: clipped to black.
    assert float(tf.reduce_max(model.interpolate(frame_a, frame_b))) == 0.0


def test_loss_falls_below_blending_and_keras_round_trip(trained, tmp_path):
    model, dataset, history = trained
    assert history["loss"][-1] < 0.95 * history["loss"][0]
    assert history["psnr"][-1] > history["psnr"][0]
    neighbours, middle = harness.first_batch(dataset)
    blend_error = np.abs(neighbours.mean(axis=1) - middle).mean()
    assert np.abs(model.predict(neighbours, verbose=0) - middle).mean() < blend_error
    restored = harness.assert_keras_round_trip(model, lambda m: m.predict(neighbours, verbose=0), tmp_path)
    assert int(restored.optimizer.iterations.numpy()) >= 3 * 8  # 64 triplets in batches of 8, 3 epochs.


def test_predict_on_dataset(trained):
    model, dataset, _ = trained
    harness.assert_predict_on_dataset(model, dataset.map(lambda x, y: x), (64, 16, 16, 1))


@pytest.mark.parametrize("factor", [1, 2, 4])
def test_interpolate_clip_keeps_the_original_frames(trained, factor):
    model, _, _ = trained
    clip = _frames(5)
    result = model.interpolate_clip(clip, factor=factor, batch_size=3).numpy()
    assert result.shape == ((5 - 1) * factor + 1, 16, 16, 1)
    np.testing.assert_array_equal(result[::factor], clip)
    if factor == 2:
        np.testing.assert_allclose(result[1::2], model.interpolate(clip[:-1], clip[1:]).numpy(), atol=1e-6)
    assert model.interpolate_clip(clip[:1], factor=factor).shape == (1, 16, 16, 1)


def test_evaluate_interpolation_scores_model_linear_blend_and_optical_flow(trained):
    model, dataset, _ = trained
    results = metrics.evaluate_interpolation(model.interpolate, dataset)
    assert results["num_triplets"] == 64
    assert sorted(results) == ["linear_blend", "model", "num_triplets", "optical_flow"]
    middles = np.concatenate([y for _, y in dataset.as_numpy_iterator()])
    blends = np.concatenate([x.mean(axis=1) for x, _ in dataset.as_numpy_iterator()])
    # MAE is per frame the sum over its pixels (the papers' convention).
    assert results["linear_blend"]["mae"] == pytest.approx(np.abs(blends - middles).sum(axis=(1, 2, 3)).mean(), 1e-4)
    assert results["model"]["mae"] < results["linear_blend"]["mae"]
    assert results["model"]["psnr"] > results["linear_blend"]["psnr"]
    assert "linear_blend" in metrics.format_table(results).splitlines()[2]
    # 16x16 Moving MNIST moves 2-5 px a frame: flow beats blending there too.
    assert results["optical_flow"]["psnr"] > results["linear_blend"]["psnr"]


def test_previews(trained):
    model, dataset, _ = trained
    previews = previews_lib.for_model(model, harness.first_batch(dataset))
    assert sorted(previews) == ["linear_blend", "prediction", "truth"]
    assert all(tuple(clips.shape) == (8, 3, 16, 16, 1) for clips in previews.values())
    np.testing.assert_array_equal(previews["truth"][:, 0], previews["prediction"][:, 0])


def test_errors_name_argument_expected_and_received():
    with pytest.raises(ValueError, match=r"divisible by 2 \*\* \(len\(filters\) - 1\) = 4 .*frame_shape=\(18, 16, 1\)"):
        FrameInterpolator(frame_shape=(18, 16, 1), filters=(4, 4, 4))
    with pytest.raises(ValueError, match=r"frame_shape\[2\].*Received: frame_shape\[2\]=2"):
        FrameInterpolator(frame_shape=(16, 16, 2))
    model = FrameInterpolator.from_preset("tiny")
    with pytest.raises(ValueError, match=r"`factor` must be a power of 2.*Received: factor=3"):
        model.interpolate_clip(_frames(3), factor=3)
    with pytest.raises(ValueError, match=r"`frame_a` must have shape \(batch, 16, 16, 1\). Received shape \(2, 2, 16"):
        model.interpolate(_frames(2, shape=(2, 16, 16, 1)), _frames(2))
    with pytest.raises(ValueError, match=r"`clip` must have shape \(frames >= 1, 16, 16, 1\). Received shape \(16, 16"):
        model.interpolate_clip(_frames(16, shape=(16, 1)))
    uint8_valued = np.zeros((1, 16, 16, 1), "float32")
    uint8_valued[0, 3, 3] = 255.0
    with pytest.raises(ValueError, match=r"`frame_b` must hold float values in \[0, 1\].*\[0, 255\]"):
        model.interpolate(_frames(1), uint8_valued)
    with pytest.raises(ValueError, match="same batch size. Received: 2 and 3"):
        model.interpolate(_frames(2), _frames(3))


def test_interpolation_triplets():
    clip = np.arange(6 * 4 * 4, dtype="float32").reshape(6, 4, 4, 1) / 100.0
    clips = tf.data.Dataset.from_tensor_slices(np.stack([clip, clip + 1.0]))
    triplets = list(data.interpolation_triplets(clips).as_numpy_iterator())
    assert len(triplets) == 2 * 4  # Frames t = 0..3 of each 6-frame clip.
    neighbours, middle = triplets[1]
    assert neighbours.shape == (2, 4, 4, 1) and middle.shape == (4, 4, 1)
    np.testing.assert_array_equal(neighbours, clip[[1, 3]])
    np.testing.assert_array_equal(middle, clip[2])
    np.testing.assert_array_equal(triplets[4][1], clip[1] + 1.0)  # The second clip's first middle.
    gap_2 = list(data.interpolation_triplets(clips.map(lambda c: {"frames": c}), gap=2).as_numpy_iterator())
    assert len(gap_2) == 2 * 2
    np.testing.assert_array_equal(gap_2[1][0], clip[[1, 5]])
    np.testing.assert_array_equal(gap_2[1][1], clip[3])
    assert not list(data.interpolation_triplets(clips, gap=3))  # 6 frames < 2 * 3 + 1.
    with pytest.raises(ValueError, match=r"`gap` must be a positive integer \(>= 1\). Received: gap=0"):
        data.interpolation_triplets(clips, gap=0)


def test_export_serves_through_the_c_api(trained, tmp_path):
    model, dataset, _ = trained
    path = export.export_for_serving(model, tmp_path / "interp", uint8=True)
    results = export.check_servable(path, model=model)
    # No rank-5 video inputs: no uint8 variants.
    assert set(results) == {"serving_default", "interpolate", "interpolate_clip"}
    assert results["interpolate"]["shapes"] == results["serving_default"]["shapes"] == {"middle": [2, 16, 16, 1]}
    assert results["interpolate_clip"]["shapes"] == {"frames": [(3 - 1) * 4 + 1, 16, 16, 1]}
    assert all(result["max_abs_diff"] <= 1e-4 for result in results.values())
    exported = ExportedModel(tmp_path / "interp")
    assert exported.family == "interpolator" and exported.frame_shape == (16, 16, 1)
    neighbours, _ = harness.first_batch(dataset)
    np.testing.assert_allclose(
        exported.interpolate(neighbours[:, 0], neighbours[:, 1]).numpy(),
        model.interpolate(neighbours[:, 0], neighbours[:, 1]).numpy(),
        atol=1e-5,
    )
    clip = _frames(4)
    for factor in (1, 2, 8):
        np.testing.assert_allclose(
            exported.interpolate_clip(clip, factor).numpy(), model.interpolate_clip(clip, factor).numpy(), atol=1e-5
        )
    assert exported.interpolate_clip(clip[:1], 4).shape == (1, 16, 16, 1)
    _, report = export.run_through_c_api(path, {"interpolate_clip": {"clip": clip, "factor": np.array(3, np.int32)}})
    assert "`factor` must be a power of 2" in report["runs"][0]["error"]
    _, report = export.run_through_c_api(
        path, {"interpolate": {"frame_a": _frames(2, shape=(8, 8, 1)), "frame_b": _frames(2)}}
    )
    assert re.search(r"`frame_a` must have shape \(batch, 16, 16, 1\)", report["runs"][0]["error"])
    _, report = export.run_through_c_api(path, {"interpolate": {"frame_a": _frames(2), "frame_b": _frames(3)}})
    assert "same batch size" in report["runs"][0]["error"]


@pytest.mark.slow
def test_cli_trains_and_exports(tmp_path):
    out = tmp_path / "run"
    arguments = ["train", "interpolator", "--preset", "tiny", "--epochs", "1", "--steps-per-epoch", "2"]
    arguments += ["--validation-clips", "4", "--out", str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "tfvidgen.cli.main", *arguments],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    restored = keras.models.load_model(out / "model.keras")
    assert isinstance(restored, FrameInterpolator)
    assert int(restored.optimizer.iterations.numpy()) == 2
    assert (out / "export" / "interpolator" / "1" / "saved_model.pb").is_file()
    assert (out / "checkpoints" / "best.keras").is_file()
    header, row = (out / "metrics.csv").read_text().strip().splitlines()
    assert {"loss", "psnr", "val_loss", "val_psnr"} <= set(header.split(","))
    assert all(np.isfinite(float(value)) for value in row.split(","))
    assert any(name.startswith("prediction_epoch_001") for name in os.listdir(out / "samples"))
    evaluated = subprocess.run(
        [sys.executable, "-m", "tfvidgen.cli.main", "evaluate", "--model", str(out / "export" / "interpolator")]
        + ["--num-clips", "6", "--batch-size", "3", "--out", str(tmp_path / "evaluation")],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    results = json.loads((tmp_path / "evaluation" / "evaluation.json").read_text())
    assert results["num_triplets"] == 6 and set(results) >= {"model", "linear_blend", "optical_flow"}
    # Two steps leave the zero-initialised head near linear blending.
    assert abs(results["model"]["psnr"] - results["linear_blend"]["psnr"]) < 1.0
    from tfvidgen import postprocess

    source = postprocess.write_clip(tmp_path / "small.gif", np.random.default_rng(0).random((4, 16, 16, 1)), fps=8)
    smoothed = subprocess.run(
        [sys.executable, "-m", "tfvidgen.cli.main", "postprocess", source, "--interpolate", "2"]
        + ["--interpolator", str(out), "--out", str(tmp_path / "smooth.mp4")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert smoothed.returncode == 0, smoothed.stderr[-3000:]
    assert smoothed.stderr == ""  # TensorFlow's start-up logs held back here too.
    clip, fps = postprocess.read_clip(tmp_path / "smooth.mp4")
    assert clip.shape[:3] == (7, 16, 16) and fps == 16
