import logging

import cv2

import numpy as np
import pytest

from conftest import write_test_video
from tfvidgen.data import video_files
from tfvidgen.data.video_files import VideoClips


def _read(clips):
    return np.stack(list(clips.dataset().as_numpy_iterator()))


def test_clips_from_every_container(video_dir):
    for name in ("long.mp4", "clip.avi", "clip.mov", "anim.gif"):
        clips = VideoClips(str(video_dir / name), num_frames=4, frame_size=(16, 24))
        array = _read(clips)
        assert array.shape[1:] == (4, 16, 24, 3), name
        assert array.dtype == np.float32 and 0.0 <= array.min() and array.max() <= 1.0
        # The orange square (R=255, G=128, B=0) survives decoding as RGB, not BGR.
        brightest = array.reshape(-1, 3)[array.reshape(-1, 3).sum(axis=1).argmax()]
        assert brightest[0] > 0.8 and brightest[2] < 0.25, name


def test_clip_count_follows_frame_step_and_stride(video_dir):
    path = str(video_dir / "long.mp4")  # 40 frames.
    assert len(_read(VideoClips(path, num_frames=4, frame_size=16))) == 10
    # Span (4 - 1) * 2 + 1 = 7 frames, non-overlapping: floor(40 / 7) = 5 clips.
    assert len(_read(VideoClips(path, num_frames=4, frame_size=16, frame_step=2))) == 5
    # Overlapping, stride 3: starts 0, 3, ..., 36 -> 13 clips.
    assert len(_read(VideoClips(path, num_frames=4, frame_size=16, clip_stride=3))) == 13
    assert len(_read(VideoClips(path, num_frames=4, frame_size=16, max_clips_per_file=2))) == 2


def test_frame_step_subsamples_in_time(video_dir):
    path = str(video_dir / "long.mp4")
    dense = _read(VideoClips(path, num_frames=8, frame_size=(48, 64), clip_stride=100))[0]
    strided = _read(VideoClips(path, num_frames=4, frame_size=(48, 64), frame_step=2, clip_stride=100))[0]
    np.testing.assert_allclose(strided, dense[::2], atol=0.08)


def test_resize_modes_keep_or_ignore_aspect(video_dir):
    path = str(video_dir / "long.mp4")  # 48x64 frames.
    padded = _read(VideoClips(path, num_frames=2, frame_size=32, resize="pad", clip_stride=100))[0]
    # 48x64 fitted into 32x32 keeps aspect: 24x32 with 4 black rows above and below.
    assert padded[:, :4].max() == 0.0 and padded[:, -4:].max() == 0.0
    cropped = _read(VideoClips(path, num_frames=2, frame_size=32, resize="crop", clip_stride=100))[0]
    stretched = _read(VideoClips(path, num_frames=2, frame_size=32, resize="stretch", clip_stride=100))[0]
    assert cropped.shape == stretched.shape == (2, 32, 32, 3)
    assert np.abs(cropped - stretched).mean() > 0.005


def test_grayscale_output(video_dir):
    gray = _read(VideoClips(str(video_dir / "clip.avi"), num_frames=4, frame_size=16, channels=1))
    assert gray.shape[-1] == 1 and gray.max() > 0.3


def test_directory_skips_and_counts_bad_files(video_dir, caplog):
    clips = VideoClips(str(video_dir), num_frames=4, frame_size=16)
    with caplog.at_level(logging.WARNING):
        array = _read(clips)
    # long 10 + avi 6 + mov 5 + gif 4 clips; corrupt and short skipped; the
    # truncated file yields the 6 clips it decoded (25 of 60 frames) and is reported.
    assert clips.report.num_skipped == 2
    assert set(clips.report.skipped) == {str(video_dir / "corrupt.mp4"), str(video_dir / "short.mp4")}
    assert "shorter than one clip" in clips.report.skipped[str(video_dir / "short.mp4")]
    assert list(clips.report.truncated) == [str(video_dir / "truncated.avi")]
    assert clips.report.clips == len(array) == 31
    assert "corrupt.mp4" in caplog.text and "truncated.avi" in caplog.text


def test_strict_raises_naming_the_file(video_dir):
    with pytest.raises(ValueError, match="corrupt.mp4"):
        VideoClips(str(video_dir), num_frames=4, frame_size=16, strict=True)


def test_missing_paths_name_the_pattern(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"\*.mp4"):
        VideoClips(str(tmp_path / "*.mp4"), num_frames=4, frame_size=16)
    with pytest.raises(FileNotFoundError, match="nothing_here.avi"):
        VideoClips(str(tmp_path / "nothing_here.avi"), num_frames=4, frame_size=16)
    with pytest.raises(FileNotFoundError, match="No video files"):
        VideoClips(str(tmp_path), num_frames=4, frame_size=16)


def test_splits_partition_files_by_name(video_dir):
    files = video_files.resolve_video_paths(str(video_dir))
    splits = {video_files.split_of(path, (0.5, 0.25, 0.25)) for path in files}
    assert splits <= {"train", "validation", "test"}
    counts = {
        split: sum(video_files.split_of(path, (0.5, 0.25, 0.25)) == split for path in files)
        for split in ("train", "validation", "test")
    }
    assert sum(counts.values()) == len(files)
    assert video_files.split_of("a/b/clip.mp4") == video_files.split_of("elsewhere/clip.mp4")


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(num_frames=0), "`num_frames`"),
        (dict(channels=4), "`channels`"),
        (dict(resize="zoom"), "`resize` must be one of 'crop', 'pad', 'stretch'"),
        (dict(frame_step=0), "`frame_step`"),
    ],
)
def test_bad_arguments(video_dir, kwargs, pattern):
    options = dict(num_frames=4, frame_size=16)
    options.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        VideoClips(str(video_dir / "long.mp4"), **options)


def test_decoding_streams_one_clip_span_at_a_time(video_dir, monkeypatch):
    reads = []
    real_capture = video_files.cv2.VideoCapture

    class CountingCapture:
        def __init__(self, path):
            self._capture = real_capture(path)

        def read(self):
            reads.append(1)
            return self._capture.read()

        def __getattr__(self, name):
            return getattr(self._capture, name)

    monkeypatch.setattr(video_files.cv2, "VideoCapture", CountingCapture)
    clips = VideoClips(str(video_dir / "long.mp4"), num_frames=4, frame_size=16)
    generator = clips.iter_file(str(video_dir / "long.mp4"))
    first = next(generator)
    assert first.shape == (4, 16, 16, 3) and len(reads) == 4  # Not the 40 frames of the file.
    next(generator)
    assert len(reads) == 8


def write_counting_video(path, num_frames, size=(32, 32)):
    """An MJPG video whose frame i is uniformly grey level i: a decoded frame tells its index."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size[::-1])
    for index in range(num_frames):
        writer.write(np.full(size + (3,), index, np.uint8))
    writer.release()
    return str(path)


def _first_frame_indices(clips):
    return [int(round(float(clip[0].mean()) * 255)) for clip in _read(clips)]


def test_one_video_is_split_along_time_with_a_clip_of_gap(tmp_path):
    path = write_counting_video(tmp_path / "one.avi", 200)
    # 200 frames, clips of 4: 192 after two 4-frame gaps; train 0-154, validation 158-177, test 181-200.
    assert video_files.time_ranges(200, 4) == {"train": (0, 154), "validation": (158, 177), "test": (181, 200)}
    starts = {}
    for split in ("train", "validation", "test"):
        clips = VideoClips(path, num_frames=4, frame_size=16, split=split)
        assert clips.split_mode == "time"
        starts[split] = _first_frame_indices(clips)
    expected = {"train": list(range(0, 151, 4)), "validation": [158, 162, 166, 170], "test": [181, 185, 189, 193]}
    for split, indices in expected.items():  # MJPG decodes the grey levels within 1.
        assert len(starts[split]) == len(indices)
        np.testing.assert_allclose(starts[split], indices, atol=1, err_msg=split)


def test_few_files_split_along_time_many_by_file(tmp_path):
    few = [write_counting_video(tmp_path / f"few_{index}.avi", 60) for index in range(4)]
    assert video_files.split_mode(few) == "time"
    clips = VideoClips([str(tmp_path / "few_*.avi")], num_frames=4, frame_size=16, split="validation")
    assert len(_read(clips)) == 4 * 1  # Each file's validation part (frames 46-51 of 60) holds one clip.
    many = [f"clip_{index:03d}.mp4" for index in range(40)]
    assert video_files.split_mode(many) == "file"
    assert video_files.split_mode(many, "time") == "time" and video_files.split_mode(few, "file") == "file"


def test_no_usable_clip_raises_naming_every_file_and_why(tmp_path, video_dir):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(2048))
    write_test_video(str(tmp_path / "short.mp4"), 3)
    with pytest.raises(
        ValueError, match=r"No usable video clip: .*empty.mp4: OpenCV cannot open it.*short.mp4: 3 frames"
    ):
        VideoClips(str(tmp_path), num_frames=4, frame_size=16)
    short = write_counting_video(tmp_path / "short_one.avi", 20)
    with pytest.raises(ValueError, match=r"split 'validation' \(split by time\).*its validation part along time"):
        VideoClips(short, num_frames=4, frame_size=16, split="validation")
