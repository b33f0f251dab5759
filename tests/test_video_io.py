import cv2
import numpy as np
import pytest

from tfvidgen import video_io


def _clip(frames=5, size=12, channels=1):
    rng = np.random.default_rng(0)
    return rng.random((frames, size, size, channels)).astype(np.float32)


def test_to_uint8_rounds_and_checks_shape():
    clip = np.array([0.0, 0.5, 1.0, 2.0], np.float32).reshape(1, 1, 4, 1)
    np.testing.assert_array_equal(video_io.to_uint8(clip).ravel(), [0, 128, 255, 255])
    with pytest.raises(ValueError, match=r"\(frames, height, width, channels\).*\(4, 4\)"):
        video_io.to_uint8(np.zeros((4, 4)))


@pytest.mark.parametrize("name", ["out.gif", "out.mp4", "out.avi"])
def test_written_videos_decode_back(tmp_path, name):
    clip = np.zeros((6, 16, 16, 3), np.float32)
    for index in range(6):
        clip[index, 4:12, index : index + 6] = (1.0, 0.5, 0.0)
    path = video_io.write_video(str(tmp_path / "sub" / name), clip, fps=5, scale=2)
    decoded = video_io.read_video(path)
    assert decoded.shape == (6, 32, 32, 3)
    # Lossy codecs: compare coarsely, colours stay in RGB order.
    assert np.abs(decoded - np.repeat(np.repeat(clip, 2, 1), 2, 2)).mean() < 0.06
    assert decoded[..., 0].mean() > decoded[..., 2].mean()


def test_gif_is_looping_and_gray_input_works(tmp_path):
    path = video_io.write_gif(str(tmp_path / "gray.gif"), _clip(4), fps=10)
    ok, animation = cv2.imreadanimation(path)
    assert ok and len(animation.frames) == 4 and animation.loop_count == 0
    assert list(animation.durations) == [100] * 4


def test_tile_and_side_by_side():
    clips = np.stack([_clip(3, 8) for _ in range(5)])
    grid = video_io.tile_clips(clips, columns=3, padding=1)
    assert grid.shape == (3, 2 * 9 - 1, 3 * 9 - 1, 1)
    np.testing.assert_array_equal(grid[:, :8, :8], video_io.to_uint8(clips[0]))
    joined = video_io.side_by_side(_clip(3, 8, 1), _clip(3, 8, 3), padding=2)
    assert joined.shape == (3, 8, 18, 3)


def test_prediction_grid_layout(tmp_path):
    context, target, prediction = _clip(2, 8)[None], _clip(3, 8)[None], _clip(3, 8)[None]
    image = video_io.prediction_grid(context, target, prediction)
    # 2 rows (truth, prediction), 5 frame columns plus a label column.
    assert image.shape[0] == 2 * 10 + 2 and image.shape[2] == 3
    path = video_io.write_png(str(tmp_path / "grid.png"), image)
    assert cv2.imread(path).shape == image.shape


def test_read_video_errors(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="bad.mp4"):
        video_io.read_video(str(tmp_path / "bad.mp4"))
    with pytest.raises(ValueError, match="Unsupported video extension '.webp'"):
        video_io.write_video(str(tmp_path / "x.webp"), _clip())


def test_gif_bytes_decode_to_the_same_frames():
    clip = np.zeros((3, 8, 8, 1), np.float32)
    clip[1] = 1.0
    data = video_io.gif_bytes(clip, fps=5, scale=2)
    assert data[:6] in (b"GIF89a", b"GIF87a")
    ok, animation = cv2.imdecodeanimation(np.frombuffer(data, np.uint8))
    assert ok and len(animation.frames) == 3 and animation.frames[0].shape[:2] == (16, 16)
    assert animation.frames[1].mean() > 250 and animation.frames[0].mean() < 5


# === One home (tfvidgen.postprocess) and one RGB-to-grey (tfvidgen.frames.rgb_to_grey) ===


def _fixed_rgb(shape=(3, 24, 20, 3), seed=7):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_video_io_names_are_the_postprocess_functions():
    from tfvidgen import postprocess
    from tfvidgen.postprocess import writer

    for name in sorted(set(video_io.__all__) - {"side_by_side", "DEFAULT_FPS", "VIDEO_CODECS"}):
        assert getattr(video_io, name) is getattr(postprocess, name), name
    assert video_io.DEFAULT_FPS == writer.DEFAULT_FPS == 8 and video_io.VIDEO_CODECS is writer.VIDEO_CODECS


def test_side_by_side_is_bit_equal_to_the_former_uint8_join():
    def former(*clips, padding=2):  # video_io.side_by_side before it went through postprocess.side_by_side.
        clips = [video_io.to_uint8(clip) for clip in clips]
        channels = max(clip.shape[-1] for clip in clips)
        clips = [np.repeat(clip, 3, axis=-1) if clip.shape[-1] < channels else clip for clip in clips]
        separator = np.full(clips[0].shape[:2] + (padding, channels), 255, np.uint8)
        parts = []
        for clip in clips:
            parts.extend([clip, separator])
        return np.concatenate(parts[:-1], axis=2)

    gray, rgb = _clip(3, 8, 1), _clip(3, 8, 3)
    rgb[0, 0, 0] = (1.7, -0.2, 0.5)  # Out of range: clipped, as before.
    joined = video_io.side_by_side(gray, rgb, padding=3)
    assert joined.dtype == np.uint8
    np.testing.assert_array_equal(joined, former(gray, rgb, padding=3))


def test_rgb_to_grey_is_bit_equal_to_opencv_where_each_site_used_it():
    from tfvidgen.frames import LUMA_WEIGHTS
    from tfvidgen.frames import rgb_to_grey

    rgb = _fixed_rgb()
    bgr = np.ascontiguousarray(rgb[..., ::-1])
    bgra = np.concatenate([bgr, np.full(bgr.shape[:-1] + (1,), 9, np.uint8)], axis=-1)
    grey = rgb_to_grey(rgb)
    assert grey.shape == (3, 24, 20, 1) and grey.dtype == np.uint8 and LUMA_WEIGHTS == (0.299, 0.587, 0.114)
    for index in range(3):  # Decoders (BGR, BGRA), flow (RGB uint8), sharpening (RGB float32).
        np.testing.assert_array_equal(grey[index, ..., 0], cv2.cvtColor(rgb[index], cv2.COLOR_RGB2GRAY))
        np.testing.assert_array_equal(
            rgb_to_grey(bgr[index], "bgr")[..., 0], cv2.cvtColor(bgr[index], cv2.COLOR_BGR2GRAY)
        )
        np.testing.assert_array_equal(
            rgb_to_grey(bgra[index], "bgr")[..., 0], cv2.cvtColor(bgra[index], cv2.COLOR_BGRA2GRAY)
        )
        as_float = rgb[index].astype(np.float32) / 255.0
        np.testing.assert_array_equal(rgb_to_grey(as_float)[..., 0], cv2.cvtColor(as_float, cv2.COLOR_RGB2GRAY))
    # The learned interpolator's NumPy product rounded differently: within one float32 ulp of it.
    as_float = rgb.astype(np.float32) / 255.0
    product = as_float @ np.array(LUMA_WEIGHTS, np.float32)
    assert np.abs(rgb_to_grey(as_float)[..., 0] - product).max() <= 6e-8
    # A grey pixel (v, v, v) stays v exactly.
    levels = np.repeat(np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1), 3, axis=-1)
    np.testing.assert_array_equal(rgb_to_grey(levels), levels[..., :1])
    with pytest.raises(ValueError, match=r"`frames` must have shape \(..., height, width, 3 or 4\). Received shape"):
        rgb_to_grey(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError, match="`channel_order` must be 'rgb' or 'bgr'. Received: channel_order='gbr'"):
        rgb_to_grey(rgb, "gbr")


def test_grey_readers_use_the_one_conversion(tmp_path):
    from tfvidgen import frames
    from tfvidgen import postprocess

    rgb = _fixed_rgb((4, 16, 16, 3))
    rgb[..., :8, :] = (200, 40, 10)  # Red on top: the red channel alone is far from its luma (77).
    path = str(tmp_path / "colour.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 8.0, (16, 16))
    for frame in rgb:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    decoded = []
    capture = cv2.VideoCapture(path)
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded.append(frame)
    capture.release()
    expected = np.stack([cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) for frame in decoded])[..., None]
    # read_video's channels=1 and the training readers' fit_frame, as before (OpenCV's BGR2GRAY).
    np.testing.assert_array_equal(video_io.read_video(path, channels=1), expected.astype(np.float32) / 255.0)
    np.testing.assert_array_equal(frames.fit_frame(decoded[0], (16, 16, 1)), expected[0])
    # read_clip(grayscale=True) of a colour video: its luma (it kept the red channel before).
    clip, _ = postprocess.read_clip(path, grayscale=True)
    np.testing.assert_array_equal(clip, expected.astype(np.float32) / 255.0)


def test_no_other_rgb_to_grey_in_the_numpy_code():
    import pathlib
    import re

    import tfvidgen

    root = pathlib.Path(tfvidgen.__file__).parent
    sites = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"COLOR_\w*2GRAY|0\.299", path.read_text())
    )
    assert sites == ["frames.py"], sites
