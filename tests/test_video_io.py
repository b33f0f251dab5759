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
