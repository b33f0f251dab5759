"""Issue 27, items 5, 7, 11 and 12 (CLI and presets): bad values fail first, in one line, naming the flag or file."""

import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile

import cv2
import numpy as np
import pytest

from conftest import write_test_video
from tfvidgen import frames as frames_lib
from tfvidgen.cli import commands
from tfvidgen.cli.main import main
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPPredictor
from tfvidgen.models.video_model import SAVED_MODELS


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A tiny ConvLSTM (16x16x1, 2 context frames) as .keras and a 40-frame 48x64 video."""
    directory = tmp_path_factory.mktemp("cli")
    ConvLSTMPredictor.from_preset("tiny").save(directory / "tiny.keras")
    video = directory / "video.mp4"
    rgb = write_test_video(str(video), 40)
    return directory, video, rgb


def _run(capsys, *arguments):
    code = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines()


# === Item 5: `predict` checks its flags before anything, and reads only the frames it shows ===


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--horizon", -1], "--horizon must be an integer in [1, 10,000]. Received: --horizon -1"),
        (["--horizon", 0], "--horizon must be an integer in [1, 10,000]. Received: --horizon 0"),
        (["--horizon", 100000], "--horizon must be an integer in [1, 10,000]. Received: --horizon 100000"),
        (
            ["--horizon", 2147483647],
            "--horizon must be an integer in [1, 10,000]. Received: --horizon 2147483647",
        ),
        (["--start", -5], "--start must be an integer >= 0. Received: --start -5"),
        (["--context-frames", -1], "--context-frames must be an integer in [1, 10,000]. Received: --context-frames -1"),
        (["--context-frames", 0], "--context-frames must be an integer in [1, 10,000]. Received: --context-frames 0"),
        (["--fps", 0], "--fps must be a number in [0.01, 240]. Received: --fps 0"),
        (["--fps", -8], "--fps must be a number in [0.01, 240]. Received: --fps -8"),
    ],
)
def test_predict_flags_out_of_range_fail_before_the_model_or_video_is_opened(tmp_path, capsys, flags, message):
    # Neither file exists: the flag's error comes first, so nothing was loaded or read.
    code, lines = _run(
        capsys, "predict", "--model", tmp_path / "missing.keras", "--video", tmp_path / "missing.mp4", *flags
    )
    assert code == 1 and lines == [f"tfvidgen: error: {message}"]


@pytest.mark.parametrize("fps", ["0", "-1", "nan", "inf"])
def test_generate_refuses_a_non_positive_or_non_finite_fps(tmp_path, capsys, fps):
    code, lines = _run(capsys, "generate", "--model", tmp_path / "missing.keras", "--fps", fps)
    assert code == 1 and lines == [f"tfvidgen: error: --fps must be a number in [0.01, 240]. Received: --fps {fps}"]


def test_predict_output_over_budget_fails_before_the_video_is_read(files, tmp_path, capsys):
    directory, _, _ = files
    code, lines = _run(
        capsys,
        "predict",
        "--model",
        directory / "tiny.keras",
        "--video",
        tmp_path / "missing.mp4",
        "--horizon",
        10000,
        "--scale",
        8,
    )
    # 2 + 10,000 frames of (16 + 2 + 16) * 8 x 16 * 8 gray float32 values: 1.3 GiB.
    assert code == 1 and lines == [
        "tfvidgen: error: --horizon 10000 with 2 context frames, --interpolate 1 and --scale 8 makes 10,002 output "
        "frames of 272x128 (1.3 GiB as float32); the limit is 1 GiB: lower one of them."
    ]


class _CountingCapture:
    """`cv2.VideoCapture` that counts the frames decoded and converted (`read`) and only demuxed (`grab`)."""

    calls = {"read": 0, "grab": 0}

    def __init__(self, path):
        self._capture = _REAL_CAPTURE(path)

    def read(self):
        self.calls["read"] += 1
        return self._capture.read()

    def grab(self):
        self.calls["grab"] += 1
        return self._capture.grab()

    def __getattr__(self, name):
        return getattr(self._capture, name)


_REAL_CAPTURE = cv2.VideoCapture


@pytest.fixture
def counting_capture(monkeypatch):
    _CountingCapture.calls = {"read": 0, "grab": 0}
    monkeypatch.setattr(cv2, "VideoCapture", _CountingCapture)
    return _CountingCapture.calls


def _expected(rgb, shape):
    height, width, channels = shape
    gray = [cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in rgb]
    return np.stack([frames_lib.resize_frame_numpy(frame, (height, width), "crop") for frame in gray])[..., None]


def test_read_frames_decodes_only_the_frames_it_returns_at_the_requested_size(files, counting_capture):
    _, video, rgb = files
    frames, available = frames_lib.read_frames(video, 5, 3, (16, 16, 1))
    assert frames.shape == (3, 16, 16, 1) and frames.dtype == np.uint8 and available == 8
    assert counting_capture == {"read": 3, "grab": 5}  # Of 40 frames: 5 skipped undecoded, 3 read, then stop.
    # The frames 5, 6, 7 of the video (mp4v is lossy: a few levels), not 0, 1, 2.
    assert np.abs(frames.astype(int) - _expected(rgb[5:8], (16, 16, 1))).mean() < 3
    assert np.abs(frames.astype(int) - _expected(rgb[0:3], (16, 16, 1))).mean() > 10

    frames, available = frames_lib.read_frames(video, 38, 5, (8, 12, 3))
    assert frames.shape == (2, 8, 12, 3) and available == 40  # The video ends after 2.
    frames, available = frames_lib.read_frames(video, 50, 2, (8, 8, 1))
    assert frames.shape == (0, 8, 8, 1) and available == 40


def test_predict_reads_only_the_frames_it_shows_from_start(files, tmp_path, capsys, counting_capture, monkeypatch):
    directory, video, rgb = files
    written = {}
    monkeypatch.setattr(commands.postprocess, "write_clip", lambda path, clip, fps: written.update(clip=clip))
    code, lines = _run(
        capsys,
        "predict",
        "--model",
        directory / "tiny.keras",
        "--video",
        video,
        "--start",
        4,
        "--horizon",
        3,
        "--scale",
        1,
        "--out",
        tmp_path / "out.mp4",
    )
    assert code == 0, lines
    assert counting_capture == {"read": 5, "grab": 4}  # 2 context + 3 shown frames; before them 4 skipped.
    # Left: the video's frames 4..8 at the model's 16x16x1.
    left = written["clip"][:, :, :16] * 255
    assert written["clip"].shape == (5, 16, 16 + 2 + 16, 1)
    assert np.abs(left - _expected(rgb[4:9], (16, 16, 1))).mean() < 3


@pytest.mark.slow
def test_a_huge_horizon_fails_at_once_in_a_small_process(files, tmp_path):
    """The issue's 5.0 GB run: now an error before TensorFlow, the model or the video is loaded."""
    directory, _, _ = files
    video = str(tmp_path / "long.mp4")
    write_test_video(video, 250, size=(240, 320))
    command = [sys.executable, "-m", "tfvidgen.cli.main", "predict", "--model", str(directory / "tiny.keras")]
    command += ["--video", video, "--horizon", "2147483647"]
    # A fresh parent, so RUSAGE_CHILDREN's peak is this command's alone.
    measure = (
        "import resource, subprocess, sys; completed = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(completed.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "print(completed.stderr, end='')"
    )
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1")
    completed = subprocess.run(
        [sys.executable, "-c", measure, *command], capture_output=True, text=True, timeout=120, env=environment
    )
    first, *stderr = completed.stdout.splitlines()
    code, peak_kb = map(int, first.split())
    assert peak_kb < 200_000, peak_kb  # KB: no TensorFlow (~700 MB), no video in memory.
    assert code == 1
    assert stderr == ["tfvidgen: error: --horizon must be an integer in [1, 10,000]. Received: --horizon 2147483647"]


# === Item 11 (CLI): export names --overwrite; a damaged .keras is named ===


def test_export_over_an_existing_version_names_the_flag(files, tmp_path, capsys):
    directory, _, _ = files
    (tmp_path / "base" / "1").mkdir(parents=True)
    code, lines = _run(
        capsys, "export", "--model", directory / "tiny.keras", "--out", tmp_path / "base", "--version", 1
    )
    assert code == 1 and lines == [
        f"tfvidgen: error: Version 1 already exists at {str(tmp_path / 'base' / '1')!r}; pass --overwrite to replace "
        "it, or leave out --version for the next free version."
    ]
    code, lines = _run(
        capsys, "export", "--model", directory / "tiny.keras", "--out", tmp_path / "base", "--version", 0
    )
    assert code == 1 and lines == ["tfvidgen: error: --version must be an integer >= 1. Received: --version 0"]


def _rewrite_keras(source, target, name, data):
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for member in original.namelist():
            copy.writestr(member, data if member == name else original.read(member))


def test_a_keras_file_with_damaged_weights_or_config_is_named_in_one_line(files, tmp_path, capsys):
    directory, video, _ = files
    _rewrite_keras(directory / "tiny.keras", tmp_path / "weights.keras", "model.weights.h5", b"not hdf5" * 64)
    code, lines = _run(capsys, "predict", "--model", tmp_path / "weights.keras", "--video", video)
    assert code == 1 and lines == [
        f"tfvidgen: error: {str(tmp_path / 'weights.keras')!r} holds a corrupt or unreadable model.weights.h5 "
        "(Unable to synchronously open file (file signature not found)). Retrain, or use a checkpoint of the run "
        "(checkpoints/*.keras)."
    ]
    config = zipfile.ZipFile(directory / "tiny.keras").read("config.json")
    _rewrite_keras(directory / "tiny.keras", tmp_path / "config.keras", "config.json", config[:40])
    code, lines = _run(capsys, "predict", "--model", tmp_path / "config.keras", "--video", video)
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith(f"tfvidgen: error: {str(tmp_path / 'config.keras')!r} holds a config.json that is not ")
    assert "(line 1, column " in lines[0]


# === Items 7 and 11 (Python): pretrained presets ===


def test_an_override_that_does_not_fit_the_pretrained_weights_is_one_line_and_silent(capfd):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as error:
            SimVPPredictor.from_preset("moving_mnist", frame_shape=(64, 64, 3))
    assert str(error.value) == (
        "frame_shape=(64, 64, 3) (pretrained: [64, 64, 1]) does not fit the weights of the pretrained SimVPPredictor "
        "preset 'moving_mnist': it changes their shapes. To train that architecture from the preset's config with "
        "random weights, call SimVPPredictor.from_preset('moving_mnist', load_weights=False, frame_shape=(64, 64, 3))."
    )
    assert caught == [] and capfd.readouterr().err == ""  # No "layer keeps fresh weights" warnings.

    # The call the message suggests: the preset's config with the override, random weights.
    fresh = SimVPPredictor.from_preset("moving_mnist", load_weights=False, frame_shape=(64, 64, 3))
    pretrained = SimVPPredictor.from_preset("moving_mnist")
    assert fresh.frame_shape == (64, 64, 3)
    assert {
        k: v for k, v in SimVPPredictor.flat_config(fresh.get_config()).items() if k not in ("frame_shape", "name")
    } == {
        k: v for k, v in SimVPPredictor.flat_config(pretrained.get_config()).items() if k not in ("frame_shape", "name")
    }
    # An override that keeps every weight's shape still loads the pretrained weights.
    smaller = SimVPPredictor.from_preset("moving_mnist", frame_shape=(32, 32, 1))
    for loaded, reference in zip(smaller.get_weights(), pretrained.get_weights()):
        np.testing.assert_array_equal(loaded, reference)


def test_an_override_that_fits_only_alone_names_just_the_one_that_does_not(capfd):
    with pytest.raises(ValueError, match=r"^filters=\[8, 8\] \(pretrained: \[64, 64\]\) does not fit") as error:
        ConvLSTMPredictor.from_preset("moving_mnist", filters=[8, 8], teacher_forcing=None)
    assert "teacher_forcing=None (pretrained" not in str(error.value)
    assert "from_preset('moving_mnist', load_weights=False, filters=[8, 8], teacher_forcing=None)" in str(error.value)


@pytest.mark.parametrize("preset", [None, 3, ["tiny"]])
def test_from_preset_of_a_non_name_is_a_type_error_naming_preset(preset):
    with pytest.raises(TypeError) as error:
        ConvLSTMPredictor.from_preset(preset)
    assert str(error.value) == (
        "`preset` must be one of ['cpu_small', 'openstl_convlstm_s', 'tiny'], a pretrained name in ['moving_mnist'], "
        f"or a directory with config.json and model.weights.h5. Received: preset={preset!r} of type "
        f"{type(preset).__name__}"
    )


@pytest.fixture
def preset_copy(tmp_path):
    directory = tmp_path / "convlstm_preset"
    shutil.copytree(os.path.join(SAVED_MODELS, "convlstm_cpu_small"), directory)
    return directory


@pytest.mark.parametrize(
    "damage, cause",
    [
        (lambda data: b"", "Unable to synchronously open file (file signature not found)"),
        (lambda data: b"junk" * 1000, "Unable to synchronously open file (file signature not found)"),
        (lambda data: data[: len(data) // 2], "Unable to synchronously open file (truncated file: eof = "),
    ],
)
def test_corrupt_preset_weights_are_named_in_one_line(preset_copy, damage, cause):
    weights = preset_copy / "model.weights.h5"
    weights.write_bytes(damage(weights.read_bytes()))
    with pytest.raises(ValueError) as error:
        ConvLSTMPredictor.from_preset(str(preset_copy))
    message = str(error.value)
    assert message.startswith(f"{str(weights)!r} is corrupt or unreadable as this preset's weights ({cause}")
    assert message.endswith("restore it, or pass load_weights=False for random weights.") and "\n" not in message
    assert ConvLSTMPredictor.from_preset(str(preset_copy), load_weights=False).backbone.filters == [64, 64]


def test_a_bad_preset_config_names_the_file_line_and_column(preset_copy):
    config = preset_copy / "config.json"
    text = config.read_text()
    config.write_text(text.replace('"context_frames": 10,', '"context_frames": 10'))
    line = text[: text.index('"context_frames": 10,')].count("\n") + 2  # The next key, where the comma was missing.
    with pytest.raises(ValueError) as error:
        ConvLSTMPredictor.from_preset(str(preset_copy))
    assert str(error.value) == (f"{str(config)!r} is not valid JSON: Expecting ',' delimiter (line {line}, column 5).")
    config.write_text(json.dumps(["not", "an", "object"]))
    with pytest.raises(ValueError, match=r"must hold a JSON object with \"class_name\" and a \"config\" object"):
        ConvLSTMPredictor.from_preset(str(preset_copy))
