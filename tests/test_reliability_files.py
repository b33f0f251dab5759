"""Files out on a full disk, after a kill, at frame rates a container cannot hold (issue 27, items 2 and 10-13).

Full-disk tests mount a real 3 MB tmpfs (root) and fill it to 96 KB free; where
mounting is not allowed they limit the writing process's file size instead
(RLIMIT_FSIZE), so the same assertions run either way: a one-line error naming
the path, the previous file byte for byte, no temporary left.
"""

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from tfvidgen import atomic_files
from tfvidgen import postprocess
from tfvidgen.cli.main import main
from tfvidgen.postprocess import containers
from tfvidgen.postprocess import writer as writer_lib

ENVIRONMENT = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1")
FREE_BYTES = 96 * 1024  # Room left on the "full" disk: less than any output below.


class SmallDisk:
    """A directory on a 3 MB tmpfs, or (no permission to mount) one whose writers get a file-size limit."""

    def __init__(self, directory):
        self.directory = directory
        directory.mkdir()
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(directory)], capture_output=True
        )
        self.mounted = mounted.returncode == 0
        # What the writer's failure says: a full disk, or the simulation's file-size limit.
        self.cause, self.errno = (
            ("no space left on device", errno.ENOSPC) if self.mounted else ("file too large", errno.EFBIG)
        )

    def fill(self):
        """Leaves FREE_BYTES free (tmpfs); the file-size limit needs nothing here."""
        if self.mounted:
            stats = os.statvfs(self.directory)
            with open(self.directory / "filler", "wb") as file:
                file.write(bytes(stats.f_bavail * stats.f_frsize - FREE_BYTES))

    def run(self, command, **kwargs):
        """`subprocess.run(command)`, under the file-size limit when the disk is simulated."""

        def limit_file_size():
            resource.setrlimit(resource.RLIMIT_FSIZE, (FREE_BYTES, FREE_BYTES))

        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=300,
            env=ENVIRONMENT,
            preexec_fn=None if self.mounted else limit_file_size,
            **kwargs,
        )

    def names(self):
        return sorted(name for name in os.listdir(self.directory) if name != "filler")

    def close(self):
        if self.mounted:
            subprocess.run(["umount", str(self.directory)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.close()


def noise_clip(frames, height, width, seed=0):
    """Random frames: they compress badly, so every output below is far larger than FREE_BYTES."""
    return np.random.default_rng(seed).random((frames, height, width, 3)).astype(np.float32)


def cli(*arguments):
    return [sys.executable, "-m", "tfvidgen.cli.main", *map(str, arguments)]


# === Item 2: a full disk ===


@pytest.mark.slow
@pytest.mark.parametrize("extension", [".mp4", ".gif", ".avi", ".mkv"])
def test_postprocess_on_a_full_disk_fails_in_one_line_and_keeps_the_old_output(tmp_path, small_disk, extension):
    source = postprocess.write_clip(tmp_path / "in.mp4", noise_clip(20, 48, 64), fps=10)
    out = small_disk.directory / f"o{extension}"
    good = subprocess.run(cli("postprocess", source, "--out", out), capture_output=True, env=ENVIRONMENT)
    assert good.returncode == 0, good.stderr
    previous = out.read_bytes()
    small_disk.fill()
    completed = small_disk.run(cli("postprocess", source, "--scale", 6, "--out", out))
    assert completed.returncode == 1
    assert completed.stdout == ""  # No "wrote ...".
    assert (
        completed.stderr.strip().splitlines()[-1]
        == f"tfvidgen: error: could not write {str(out)!r}: {small_disk.cause}"
    )
    assert out.read_bytes() == previous
    assert small_disk.names() == [out.name]  # No temporary left.


WRITERS_SCRIPT = """
import json, os, sys
import numpy as np
from tfvidgen import postprocess, video_io

directory, side = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(side)
clip = rng.random((16, side, side, 3)).astype(np.float32)
image = (rng.random((4 * side, 4 * side, 3)) * 255).astype(np.uint8)
writers = {
    "a.gif": lambda path: video_io.write_gif(path, clip, scale=2),
    "b.gif": lambda path: postprocess.write_clip(path, clip),
    "c.mp4": lambda path: postprocess.write_clip(path, clip),
    "d.mp4": lambda path: video_io.write_mp4(path, clip),
    "e.png": lambda path: video_io.write_png(path, image),
}
results = {}
for name, write in writers.items():
    try:
        results[name] = write(os.path.join(directory, name))
    except OSError as error:
        results[name] = [str(error), error.errno]
print(json.dumps(results))
"""


@pytest.mark.slow
def test_every_writer_raises_naming_the_path_on_a_full_disk_and_keeps_the_old_file(small_disk):
    names = ["a.gif", "b.gif", "c.mp4", "d.mp4", "e.png"]
    directory = str(small_disk.directory)
    good = subprocess.run(  # Small files first (8x8 frames), on a disk with room.
        [sys.executable, "-c", WRITERS_SCRIPT, directory, "8"], capture_output=True, text=True, env=ENVIRONMENT
    )
    assert good.returncode == 0, good.stderr
    previous = {name: (small_disk.directory / name).read_bytes() for name in names}
    small_disk.fill()
    completed = small_disk.run([sys.executable, "-c", WRITERS_SCRIPT, directory, "128"])
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    for name in names:
        path = os.path.join(directory, name)
        assert results[name] == [f"could not write {path!r}: {small_disk.cause}", small_disk.errno], name
        assert (small_disk.directory / name).read_bytes() == previous[name], name
    assert small_disk.names() == names


CHECKPOINT_SCRIPT = """
import sys
import keras
import numpy as np
from tfvidgen.callbacks.last_good_checkpoint import LastGoodCheckpoint

path, units = sys.argv[1], int(sys.argv[2])
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(units)])
model.compile(optimizer="adam", loss="mse")
try:
    model.fit(np.zeros((4, 8)), np.zeros((4, units)), epochs=1, verbose=0, callbacks=[LastGoodCheckpoint(path)])
except OSError as error:
    print(error)
    sys.exit(3)
"""


@pytest.mark.slow
def test_a_full_disk_at_epoch_end_keeps_the_last_good_checkpoint_and_no_incomplete_file(small_disk):
    path = small_disk.directory / "checkpoints" / "last_good.keras"
    first = subprocess.run(
        [sys.executable, "-c", CHECKPOINT_SCRIPT, path, "4"], capture_output=True, text=True, env=ENVIRONMENT
    )
    assert first.returncode == 0, first.stderr
    previous = path.read_bytes()
    small_disk.fill()
    # 8 x 20,000 weights with Adam's two slots: ~2 MB, beyond the room left.
    completed = small_disk.run([sys.executable, "-c", CHECKPOINT_SCRIPT, path, "20000"])
    assert completed.returncode == 3, completed.stderr
    assert completed.stdout.strip() == f"could not write {str(path)!r}: {small_disk.cause}"
    assert path.read_bytes() == previous
    assert os.listdir(path.parent) == ["last_good.keras"]  # No .incomplete.keras, no temporary.


def test_a_truncated_container_is_told_from_a_whole_one(tmp_path):
    clip = noise_clip(6, 24, 32)
    for extension in (".mp4", ".mov", ".avi", ".mkv"):
        path = postprocess.write_clip(tmp_path / f"whole{extension}", clip, fps=8)
        assert containers.problem(path) is None, extension
        data = open(path, "rb").read()
        cut = tmp_path / f"cut{extension}"
        cut.write_bytes(data[: int(len(data) * 0.99)])  # What a full disk leaves: the end is missing.
        assert containers.problem(cut) is not None, extension
    # Matroska whose muxer never finished: the Segment's size is still the "unknown" placeholder.
    header = bytes.fromhex("1a45dfa3") + bytes([0x80 | 4]) + b"webm" + bytes.fromhex("18538067 01ffffffffffffff")
    (tmp_path / "unfinished.mkv").write_bytes(header + bytes(100))
    assert "never got its size" in containers.problem(tmp_path / "unfinished.mkv")


# === Item 10: temporaries left behind ===


@pytest.mark.slow
def test_the_next_run_removes_what_a_killed_postprocess_left(tmp_path):
    source = postprocess.write_clip(tmp_path / "in.mp4", noise_clip(40, 48, 64), fps=10)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "out.mp4"
    # Flow interpolation x8 and a 4x upscale: seconds of work, killed long before the end.
    process = subprocess.Popen(
        cli("postprocess", source, "--interpolate", 8, "--scale", 4, "--out", out), env=ENVIRONMENT
    )
    deadline = time.monotonic() + 60
    while not [name for name in os.listdir(out_dir) if ".tmp-" in name] and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # Frames going in.
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    left = os.listdir(out_dir)
    assert process.returncode == -signal.SIGKILL
    assert len(left) == 1 and left[0].startswith(f".out.mp4.tmp-{process.pid}-"), left
    completed = subprocess.run(
        cli("postprocess", source, "--out", out), capture_output=True, text=True, env=ENVIRONMENT
    )
    assert completed.returncode == 0, completed.stderr
    assert os.listdir(out_dir) == ["out.mp4"]
    clip, fps = postprocess.read_clip(out)
    assert clip.shape == (40, 48, 64, 3) and fps == 10


def test_stale_temporaries_are_those_of_gone_processes_only(tmp_path):
    path = tmp_path / "model.keras"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with open(f"/proc/{running.pid}/stat") as file:
            running_start = file.read().rsplit(")", 1)[1].split()[19]
        own = atomic_files.temporary_path(path)  # This process's, in use.
        names = {
            "gone": f".model.keras.tmp-{gone.pid}-1-abc.keras",
            # This process id with another start time: a killed writer whose id was reused (a container's PID 1).
            "reused": f".model.keras.tmp-{os.getpid()}-1-abc.keras",
            "running": f".model.keras.tmp-{running.pid}-{running_start}-abc.keras",
            "other file": f".config.json.tmp-{gone.pid}-1-abc.json",
            "old format": ".model.keras.tmp-abc123.keras",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"x")
        removed = atomic_files.remove_stale_temporaries(path)
        assert sorted(removed) == sorted([names["gone"], names["reused"]])
        assert sorted(os.listdir(tmp_path)) == sorted(
            [os.path.basename(own), names["running"], names["other file"], names["old format"]]
        )
    finally:
        running.kill()
        running.wait()


# === Items 11 and 12: options out of range, named as the user typed them ===


@pytest.fixture(scope="module")
def source_video(tmp_path_factory):
    directory = tmp_path_factory.mktemp("source")
    return str(postprocess.write_clip(directory / "in.mp4", noise_clip(5, 24, 32), fps=30))


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["--target-fps", "1e9"],
            "--target-fps must be at most 1920 for a 30 fps source (at most 64 output frames per source frame). "
            "Received: --target-fps=1000000000.0",
        ),
        (
            ["--speed", "1e-9"],
            "--speed must be at least 0.015625 (at most 64 output frames per source frame). Received: --speed=1e-09",
        ),
        (
            ["--interpolate", "3000"],
            "--interpolate must be at most 64 (at most 64 output frames per source frame). "
            "Received: --interpolate=3000",
        ),
        (["--sharpen", "5", "--scale", "2"], "--sharpen must be a number in [0, 2]. Received: --sharpen=5.0"),
        (["--sharpen", "-1"], "--sharpen must be a number in [0, 2]. Received: --sharpen=-1.0"),
        (["--fps", "0"], "--fps must be a finite number > 0. Received: --fps=0.0"),
        (
            ["--fps", "70000"],
            "--fps=70000.0 is out of range: an .mp4 file holds 0.01 to 65535 frames per second (MPEG-4 stores no "
            "more). Cannot write '{out}'.",
        ),
    ],
)
def test_postprocess_names_the_flag_and_its_range(tmp_path, capfd, source_video, arguments, message):
    out = tmp_path / "o.mp4"
    assert main(["postprocess", source_video, "--out", str(out), *arguments]) == 1
    captured = capfd.readouterr()
    assert captured.err.strip() == "tfvidgen: error: " + message.format(out=out)  # One line, no OpenCV [ERROR].
    assert os.listdir(tmp_path) == []


def test_an_output_frame_rate_the_container_cannot_hold_is_named_before_anything_is_written(
    tmp_path, capfd, source_video
):
    # 30 fps x 64 = 1920 fps: the AVI muxer would drop frames (it dropped 12 of 31 at 1001 fps).
    out = tmp_path / "o.avi"
    assert main(["postprocess", source_video, "--interpolate", "64", "--out", str(out)]) == 1
    assert capfd.readouterr().err.strip() == (
        "tfvidgen: error: --interpolate=64 on a 30 fps source makes 1920 fps, but an .avi file holds 0.01 to 1000 "
        "frames per second (FFmpeg's AVI writer drops frames above): lower --interpolate, or give --fps (slow "
        f"motion). Cannot write {str(out)!r}."
    )
    with pytest.raises(ValueError, match=r"Cannot write '.*x.mp4' at 89910 fps: an .mp4 file holds 0.01 to 65535"):
        postprocess.VideoWriter(tmp_path / "x.mp4", fps=89910)
    assert os.listdir(tmp_path) == []  # Refused before a temporary was made.


def test_an_mpeg4_frame_rate_with_too_many_decimals_is_rounded_not_refused(tmp_path):
    # OpenCV gives FFmpeg 1234.5678 fps as 154321/125, which MPEG-4 refuses (numerator > 65535).
    path = postprocess.write_clip(tmp_path / "a.mp4", noise_clip(3, 16, 16), fps=1234.5678)
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(1234.6) and capture.get(cv2.CAP_PROP_FRAME_COUNT) == 3
    capture.release()
    assert writer_lib.storable_fps("a.mp4", 29.97) == 29.97 and writer_lib.storable_fps("a.avi", 999.5678) == 999.5678


def test_the_python_api_refuses_sharpening_and_frame_rates_out_of_range(tmp_path, source_video):
    clip = noise_clip(2, 8, 8)
    for sharpen in (5, -1, float("nan")):
        with pytest.raises(ValueError, match=rf"^`sharpen` must be a number in \[0, 2\]. Received: sharpen={sharpen}$"):
            postprocess.upscale(clip, 2, sharpen=sharpen)
        with pytest.raises(ValueError, match=r"`sharpen` must be a number in \[0, 2\]"):
            postprocess.process_clip(clip, scale=2, sharpen=sharpen)
    assert postprocess.upscale(clip, 2, sharpen=2).shape == (2, 16, 16, 3)
    with pytest.raises(ValueError, match=r"^`fps` must be a finite number > 0. Received: fps=0$"):
        postprocess.process_video(source_video, tmp_path / "o.mp4", fps=0)
    with pytest.raises(ValueError, match=r"^`speed` must be at least 0.015625"):
        postprocess.process_clip(clip, speed=0.01)
    assert os.listdir(tmp_path) == []


def test_a_high_frame_rate_tfvidgen_wrote_reads_back_as_written(tmp_path):
    # `--interpolate 64` of a 30 fps source writes 1920 fps; the reader took any rate >= 1000 for a time base (8 fps).
    from tfvidgen.postprocess import reader

    clip = np.random.default_rng(0).random((6, 16, 16, 3)).astype("float32")
    postprocess.write_clip(str(tmp_path / "fast.mp4"), clip, fps=1920)
    info = reader.probe(str(tmp_path / "fast.mp4"))
    assert (info.fps, info.num_frames) == (1920.0, 6)
