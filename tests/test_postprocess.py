"""tfvidgen.postprocess: flow interpolation, resampling, upscaling, editing, atomic writing."""

import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
import tensorflow as tf

from conftest import write_test_video
from tfvidgen import postprocess
from tfvidgen.postprocess import scaling
from tfvidgen.postprocess import synthetic


def texture(height, width, seed=0):
    """A random RGB texture in [0, 1] with structure at several scales, as in photographs."""
    rng = np.random.default_rng(seed)
    layers = [cv2.GaussianBlur(rng.random((height, width, 3)).astype(np.float32), (0, 0), s) * s for s in (1, 3, 8)]
    image = sum(layers)
    return (image - image.min()) / (image.max() - image.min())


def translating(shift, height=96, width=128, frames=3):
    """Frames of a texture moving `shift` pixels right per frame."""
    canvas = texture(height + 8, width + shift * frames + 8)
    return np.stack([canvas[4 : 4 + height, 4 + shift * index : 4 + shift * index + width] for index in range(frames)])


@pytest.fixture(scope="module")
def footage():
    return synthetic.render_footage(num_frames=9, height=96, width=160, pan=(2.0, 0.5), num_objects=2, seed=1)


# === Interpolation ===


@pytest.mark.parametrize("shift", [2, 6, 10])
def test_flow_recovers_the_middle_of_a_translating_pattern(shift):
    clip = translating(shift)
    middle = postprocess.FlowInterpolator().interpolate(clip[0], clip[2])[0]
    flow_db = postprocess.psnr(clip[1:2], middle[None])[0]
    blend_db = postprocess.psnr(clip[1:2], (0.5 * (clip[0] + clip[2]))[None])[0]
    # Measured 43.2, 35.3 and 28.0 dB (2, 6, 10 px a frame) on 96x128; blending 18-25 dB.
    assert flow_db >= 25.0, flow_db
    assert flow_db >= blend_db + 8.0, (flow_db, blend_db)


def test_flow_beats_blending_on_footage_with_occlusions(footage):
    even, odd = footage[0::2], footage[1::2]
    results = {}
    for method in postprocess.INTERPOLATION_METHODS:
        rebuilt = postprocess.interpolate(even, 2, method=method)[1::2]
        results[method] = postprocess.psnr(odd, rebuilt).mean()
    assert results["flow"] >= results["blend"] + 2.0, results  # The target on footage with motion.
    assert results["blend"] > results["repeat"], results


def test_a_scene_cut_falls_back_to_linear_blending():
    frame_a, frame_b = texture(64, 64, seed=1), texture(64, 64, seed=2)  # Unrelated: no consistent flow.
    middle = postprocess.FlowInterpolator().interpolate(frame_a, frame_b, times=[0.25])[0]
    np.testing.assert_allclose(middle, 0.75 * frame_a + 0.25 * frame_b, atol=1e-6)


def test_uint8_frames_come_back_as_uint8():
    clip = (translating(3) * 255).astype(np.uint8)
    middle = postprocess.FlowInterpolator().interpolate(clip[0], clip[2])[0]
    assert middle.dtype == np.uint8 and middle.shape == clip[1].shape
    assert np.abs(middle.astype(int) - clip[1]).mean() < 3


@pytest.mark.parametrize("factor", [1, 2, 4, 8])
def test_interpolate_inserts_frames_and_keeps_the_originals(factor):
    clip = translating(2, height=32, width=32, frames=4)
    smooth = postprocess.interpolate(clip, factor)
    assert smooth.shape == ((4 - 1) * factor + 1, 32, 32, 3) and smooth.dtype == np.float32
    np.testing.assert_array_equal(smooth[::factor], clip)


def test_blend_and_repeat_are_exact():
    clip = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(postprocess.interpolate(clip, 4, "blend")[1], 0.75 * clip[0] + 0.25 * clip[1])
    np.testing.assert_array_equal(postprocess.interpolate(clip, 4, "repeat")[3], clip[0])


@pytest.mark.parametrize("source, target, expected", [(24, 60, 21), (30, 25, 7), (10, 10, 9), (8, 4, 5)])
def test_retime_keeps_the_duration_at_any_ratio(source, target, expected):
    clip = np.random.default_rng(0).random((9, 8, 8, 1)).astype(np.float32)
    retimed = postprocess.retime(clip, source, target, method="blend")
    assert len(retimed) == expected == int((9 - 1) * target / source) + 1
    np.testing.assert_array_equal(retimed[0], clip[0])


def test_resampling_streams_and_rejects_frames_of_changing_size():
    def frames():
        yield np.zeros((8, 8, 3), np.uint8)
        yield np.zeros((8, 8, 3), np.uint8)
        yield np.zeros((8, 9, 3), np.uint8)

    stream = postprocess.iter_resampled(frames(), 0.5, method="blend")
    assert len([next(stream), next(stream)]) == 2  # Frames come out before the generator is exhausted.
    with pytest.raises(ValueError, match=r"Frame 2 has shape \(8, 9, 3\), frame 1 \(8, 8, 3\)"):
        list(stream)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda clip: postprocess.interpolate(clip, 0), r"`factor` must be an integer >= 1. Received: factor=0"),
        (lambda clip: postprocess.interpolate(clip, 2.5), r"factor=2.5"),
        (lambda clip: postprocess.interpolate(clip, 2, method="magic"), r"`method` must be one of"),
        (lambda clip: postprocess.interpolate(clip[:0], 2), r"`clip` has 0 frames"),
        (lambda clip: postprocess.interpolate(clip * 255, 2), r"values in \[0, 1\].*divide by 255"),
        (lambda clip: postprocess.retime(clip, 24, -1), r"`target_fps` must be a finite number > 0"),
        (lambda clip: postprocess.interpolate(clip[0], 2), r"shape \(frames, height, width, channels\)"),
    ],
)
def test_bad_interpolation_input_is_named(call, message):
    clip = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    with pytest.raises(ValueError, match=message):
        call(clip)


# === Scaling ===


def test_lanczos_beats_bicubic_and_nearest_on_downscaled_footage(footage):
    truth = footage[:2]
    small = np.stack([cv2.resize(frame, (40, 24), interpolation=cv2.INTER_AREA) for frame in truth])
    scores = {
        method: postprocess.psnr(truth, postprocess.upscale(small, 4, method)).mean()
        for method in ("lanczos", "bicubic", "nearest")
    }
    assert scores["lanczos"] > scores["nearest"] + 0.5 and scores["bicubic"] > scores["nearest"], scores


def test_upscale_shapes_and_sharpening_only_touches_edges():
    image = np.full((1, 32, 32, 1), 0.2, np.float32)
    image[:, :, 16:] = 0.8  # One vertical edge, flat elsewhere.
    plain = postprocess.upscale(image, 2)
    sharp = postprocess.upscale(image, 2, sharpen=1.0)
    assert plain.shape == sharp.shape == (1, 64, 64, 1) and postprocess.upscale(image, 1.5).shape == (1, 48, 48, 1)
    np.testing.assert_allclose(sharp[:, :, :20], plain[:, :, :20], atol=1e-6)  # Flat: unchanged.
    edge = slice(28, 36)
    assert np.abs(np.diff(sharp[0, 0, edge, 0])).max() > np.abs(np.diff(plain[0, 0, edge, 0])).max()


def test_a_scale_beyond_memory_is_refused_with_the_figure():
    clip = np.zeros((16, 64, 64, 3), np.float32)
    with pytest.raises(
        MemoryError, match=r"Upscaling by 8 needs 48.0 MiB for 16 frames of 512x512x3; the limit is 1.0 MiB"
    ):
        postprocess.upscale(clip, 8, max_bytes=2**20)
    with pytest.raises(MemoryError, match=r"needs \d+\.\d+ GiB"):
        postprocess.upscale(clip, 2000)  # 1.5 TiB: beyond any machine here.


def test_resize_crops_or_pads_to_an_aspect_ratio():
    clip = np.ones((2, 36, 64, 3), np.float32)
    square = postprocess.resize(clip, aspect="1:1")
    assert square.shape == (2, 36, 36, 3) and square.min() == 1.0  # Cropped: no padding.
    padded = postprocess.resize(clip, (36, 36), mode="pad")
    assert padded.shape == (2, 36, 36, 3) and padded[:, 0].max() == 0.0 and padded[:, 18].min() > 0.99
    with pytest.raises(ValueError, match=r"`mode` must be one of"):
        postprocess.resize(clip, (8, 8), mode="squash")
    assert scaling.parse_aspect("16:9") == pytest.approx(16 / 9)


# === Editing ===


def test_trim_concat_speed_loop_fade():
    clip = np.linspace(0, 1, 8, dtype=np.float32)[:, None, None, None] * np.ones((8, 4, 6, 1), np.float32)
    np.testing.assert_array_equal(postprocess.trim(clip, 0.25, 0.75, fps=8), clip[2:6])
    assert postprocess.parse_span("0.5:3.0") == (0.5, 3.0) and postprocess.parse_span("2:") == (2.0, None)
    joined = postprocess.concat(clip, np.repeat(clip[:2], 3, axis=-1))
    assert joined.shape == (10, 4, 6, 3)  # Grayscale joins RGB as RGB.
    np.testing.assert_array_equal(postprocess.speed(clip, 2, method="blend"), clip[::2])
    assert len(postprocess.speed(clip, 0.5, method="blend")) == 15
    bounce = postprocess.loop(clip[:4], times=2, ping_pong=True)
    np.testing.assert_array_equal(bounce[:, 0, 0, 0], clip[[0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1], 0, 0, 0])
    faded = postprocess.fade(clip + 0.0, fade_in=0.25, fade_out=0.25, fps=8, color=0.0)
    assert faded[0].max() == 0.0 and faded[-1].max() < clip[-1].max() and np.array_equal(faded[3], clip[3])


def test_edit_errors_name_the_values():
    clip = np.zeros((8, 4, 6, 1), np.float32)
    with pytest.raises(ValueError, match=r"clips\[0\] is 6x4, clips\[1\] is 5x4"):
        postprocess.concat(clip, np.zeros((2, 4, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"The span 2s to 3s holds no frame of a 1s clip \(8 frames at 8 fps\)"):
        postprocess.trim(clip, 2.0, 3.0, fps=8)
    with pytest.raises(ValueError, match=r"`end` must be after `start`"):
        postprocess.trim(clip, 0.5, 0.25, fps=8)
    with pytest.raises(ValueError, match=r"`times` must be an integer >= 1"):
        postprocess.loop(clip, 0)


def test_grid_and_side_by_side_hold_short_clips_and_draw_labels():
    a = np.zeros((4, 32, 48, 1), np.float32)
    b = np.full((2, 32, 48, 3), 0.5, np.float32)
    row = postprocess.side_by_side(a, b, padding=2)
    assert row.shape == (4, 32, 98, 3)
    np.testing.assert_allclose(row[3, :, 50:], 0.5, atol=1 / 255)  # b held its last frame.
    labelled = postprocess.side_by_side(a, b, labels=["truth", "prediction"])
    assert np.abs(labelled - row).max() > 0.5  # The white text is there.
    assert postprocess.grid([a, a, a], columns=2).shape == (4, 66, 98, 1)


# === Reading and writing ===


def test_mp4_and_gif_round_trip_with_their_frame_rate(tmp_path, footage):
    # Lossy both: MPEG-4 part 2 measured 30.6 dB, the GIF's 256-colour palette 22.5 dB.
    for name, fps, min_db in (("a.mp4", 24, 28), ("a.gif", 12.5, 20)):
        path = postprocess.write_clip(tmp_path / name, footage, fps=fps)
        clip, read_fps = postprocess.read_clip(path)
        assert clip.shape == footage.shape and read_fps == pytest.approx(fps, rel=0.05)
        assert postprocess.psnr(footage, clip).mean() > min_db
    assert sorted(os.listdir(tmp_path)) == ["a.gif", "a.mp4"]  # No temporary file left.


def test_a_gif_above_50_fps_keeps_every_nth_frame(tmp_path):
    clip = np.zeros((12, 8, 8, 1), np.float32)
    with pytest.warns(UserWarning, match="every 2th frame at 30 fps"):
        path = postprocess.write_clip(tmp_path / "fast.gif", clip, fps=60)
    assert postprocess.probe(path).num_frames == 6


def test_a_failed_write_leaves_nothing_under_the_final_name(tmp_path):
    path = tmp_path / "out.mp4"
    with pytest.raises(ValueError, match="every frame of a video must have one size"):
        with postprocess.VideoWriter(path, fps=8) as writer:
            writer.write(np.zeros((16, 16, 3), np.uint8))
            writer.write(np.zeros((16, 18, 3), np.uint8))
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="No frame was written"):
        postprocess.VideoWriter(tmp_path / "empty.gif", fps=8).close()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_a_killed_write_leaves_nothing_under_the_final_name(tmp_path, sig):
    path = tmp_path / "out.mp4"
    script = (
        "import sys, time, numpy as np\n"
        "from tfvidgen.postprocess import VideoWriter\n"
        f"with VideoWriter({str(path)!r}, fps=8) as writer:\n"
        "    for index in range(1000):\n"
        "        writer.write(np.full((32, 32, 3), index % 255, np.uint8))\n"
        "        if index == 5: print('writing', flush=True)\n"
        "        time.sleep(0.01)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "writing"
    time.sleep(0.1)
    process.send_signal(sig)
    process.wait(timeout=30)
    assert process.returncode != 0
    assert not path.exists()
    leftovers = os.listdir(tmp_path)
    # SIGKILL cannot clean up: at most the hidden temporary file, never the final name.
    assert all(name.startswith(".out.mp4.tmp-") for name in leftovers)
    if sig == signal.SIGINT:
        assert leftovers == []


def test_unreadable_inputs_are_named(tmp_path, video_dir):
    with pytest.raises(ValueError, match=r"corrupt.mp4' is not a video OpenCV can decode"):
        postprocess.probe(video_dir / "corrupt.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.mp4' is not a video"):
        postprocess.read_clip(tmp_path / "empty.mp4")
    with pytest.raises(FileNotFoundError, match=r"No input at .*missing.mp4"):
        postprocess.probe(tmp_path / "missing.mp4")
    with pytest.raises(FileNotFoundError, match=r"holds no sample GIF"):
        postprocess.probe(tmp_path)


def test_quality_metrics_match_tensorflow():
    rng = np.random.default_rng(0)
    truth = rng.random((2, 24, 32, 3)).astype(np.float32)
    estimate = np.clip(truth + 0.1 * rng.standard_normal(truth.shape), 0, 1).astype(np.float32)
    np.testing.assert_allclose(postprocess.psnr(truth, estimate), tf.image.psnr(truth, estimate, 1.0), rtol=1e-5)
    np.testing.assert_allclose(postprocess.ssim(truth, estimate), tf.image.ssim(truth, estimate, 1.0), atol=1e-5)


# === Streaming a file ===


def test_process_video_streams_interpolation_upscaling_and_trim(tmp_path, footage):
    source = postprocess.write_clip(tmp_path / "in.avi", footage, fps=10)  # 9 frames, 0.9 s.
    result = postprocess.process_video(source, tmp_path / "out.mp4", interpolate=2, scale=2, trim=(0.2, 0.8))
    assert result["input_frames"] == 6 and result["output_frames"] == 11  # Frames 2..7, doubled.
    assert result["output_size"] == [192, 320] and result["output_fps"] == 20
    clip, fps = postprocess.read_clip(tmp_path / "out.mp4")
    assert clip.shape == (11, 192, 320, 3) and fps == 20
    retimed = postprocess.process_video(source, tmp_path / "out.gif", target_fps=25)
    assert retimed["output_frames"] == 21 and retimed["output_fps"] == 25


def test_process_video_reads_a_run_directory_and_gifs(tmp_path):
    samples = tmp_path / "run" / "samples"
    samples.mkdir(parents=True)
    for epoch in (1, 12):
        write_test_video(str(samples / f"samples_epoch_{epoch:03d}.gif"), 4 + epoch)
    result = postprocess.process_video(tmp_path / "run", tmp_path / "smooth.mp4", interpolate=4)
    assert result["input"].endswith("samples_epoch_012.gif") and result["output_frames"] == (16 - 1) * 4 + 1
    with pytest.raises(FileNotFoundError, match=r"has no 'rollout' samples; it has \['samples'\]"):
        postprocess.process_video(tmp_path / "run", tmp_path / "x.mp4", sample="rollout")


# === The command line ===


def test_postprocess_command_runs_without_tensorflow(tmp_path, footage):
    source = postprocess.write_clip(tmp_path / "in.mp4", footage, fps=8)
    # TensorFlow made unimportable: the command must not need it.
    script = (
        "import sys; sys.modules['tensorflow'] = None\n"
        "from tfvidgen.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    arguments = ["postprocess", source, "--interpolate", "2", "--scale", "2", "--trim", "0.25:1.0"]
    completed = subprocess.run(
        [sys.executable, "-c", script, *arguments, "--fps", "24", "--out", str(tmp_path / "out.mp4")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "wrote" in completed.stdout and "11 frames of 320x192 at 24 fps" in completed.stdout
    clip, fps = postprocess.read_clip(tmp_path / "out.mp4")
    assert clip.shape == (11, 192, 320, 3) and fps == 24  # Frames 2..7 of the source (0.25 s to 1 s), doubled.
    failed = subprocess.run(
        [sys.executable, "-c", script, "postprocess", source, "--interpolate", "0", "--out", str(tmp_path / "x.mp4")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 1
    assert failed.stderr.strip() == "tfvidgen: error: --interpolate must be an integer >= 1. Received: --interpolate=0"
    assert not (tmp_path / "x.mp4").exists()


def test_a_learned_interpolator_plugs_in_at_dyadic_times():
    class Averaging:  # Stands in for a FrameInterpolator: the middle is the mean.
        frame_shape = (8, 8, 1)

        def __init__(self):
            self.calls = 0

        def interpolate(self, frame_a, frame_b):
            self.calls += 1
            return (np.asarray(frame_a) + np.asarray(frame_b)) / 2

    model = Averaging()
    learned = postprocess.ModelInterpolator(model)
    clip = np.random.default_rng(0).random((3, 8, 8, 1)).astype(np.float32)
    smooth = postprocess.interpolate(clip, 4, interpolator=learned)
    np.testing.assert_allclose(smooth, postprocess.interpolate(clip, 4, method="blend"), atol=1e-6)
    assert model.calls == 2 * 3  # Per pair: the middle, then the middles of the two halves.
    rgb = np.repeat(clip, 3, axis=-1)  # RGB frames go through the grey model and come back RGB.
    assert postprocess.interpolate(rgb, 2, interpolator=learned).shape == (5, 8, 8, 3)
    with pytest.raises(ValueError, match="dyadic times"):
        postprocess.retime(clip, 8, 12, interpolator=learned)
    with pytest.raises(ValueError, match="takes 8x8 frames; these are 16x8"):
        postprocess.interpolate(np.zeros((2, 8, 16, 1), np.float32), 2, interpolator=learned)
