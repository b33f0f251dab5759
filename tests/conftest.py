"""Shared fixtures: small real video files written with OpenCV, a seeded Keras."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# As the CLI does: oneDNN is off by default on CPUs without AVX-512, and 12-17x
# slower 3D convolutions would make the suite crawl there.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import tensorflow as tf  # noqa: E402

# Two logical CPU devices for the MirroredStrategy tests; this must happen before
# TensorFlow initialises its devices, i.e. before any test runs an op.
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2
)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backends: in-process tests of every family by role; CI runs them under KERAS_BACKEND=jax as well",
    )


def write_test_video(path, num_frames, size=(48, 64), fourcc="mp4v", fps=10, seed=0):
    """Writes a video of a bright square moving right; returns the RGB frames written."""
    height, width = size
    frames = []
    if path.endswith(".gif"):
        for index in range(num_frames):
            frames.append(_square_frame(index, height, width))
        animation = cv2.Animation()
        animation.frames = [cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) for frame in frames]
        animation.durations = [100] * num_frames
        assert cv2.imwriteanimation(path, animation)
        return np.stack(frames)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened()
    for index in range(num_frames):
        frame = _square_frame(index, height, width)
        frames.append(frame)
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return np.stack(frames)


def _square_frame(index, height, width):
    frame = np.zeros((height, width, 3), np.uint8)
    left = (index * 3) % (width - 12)
    frame[height // 2 - 6 : height // 2 + 6, left : left + 12] = (255, 128, 0)
    return frame


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory):
    """mp4, avi, mov and gif files, plus a corrupt, a truncated and a short one."""
    directory = tmp_path_factory.mktemp("videos")
    write_test_video(str(directory / "long.mp4"), 40)
    write_test_video(str(directory / "clip.avi"), 24, fourcc="MJPG")
    write_test_video(str(directory / "clip.mov"), 20)
    write_test_video(str(directory / "anim.gif"), 16)
    write_test_video(str(directory / "short.mp4"), 3)
    (directory / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(4096))
    write_test_video(str(directory / "full.avi"), 60, fourcc="MJPG")
    data = (directory / "full.avi").read_bytes()
    (directory / "truncated.avi").write_bytes(data[: len(data) // 2])
    os.remove(directory / "full.avi")
    return directory
