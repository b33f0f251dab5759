"""Using tfvidgen prints what it means to print: no TensorFlow C++ start-up or optimizer lines, no warnings."""

import os
import re
import subprocess
import sys

import pytest

import tfvidgen

pytestmark = pytest.mark.slow

# The tfvidgen under test, wherever it is installed from.
SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tfvidgen.__file__)))
# absl's C++ log lines: "E0000 00:00:1796441929.584749    3616 cuda_platform.cc:52] failed call to cuInit ...".
CPP_LOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d", re.MULTILINE)


def _run(arguments, tmp_path):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("TFVIDGEN")}
    # As a user's shell would have it: TensorFlow's default log level, oneDNN on (tests/conftest.py).
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    environment["TF_ENABLE_ONEDNN_OPTS"] = "1"
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [SOURCE_ROOT, os.environ.get("PYTHONPATH")]))
    return subprocess.run(arguments, capture_output=True, text=True, timeout=600, env=environment, cwd=str(tmp_path))


def test_training_a_gan_from_python_prints_nothing_on_stderr(tmp_path):
    # Before: "failed call to cuInit" at device discovery (machines without a GPU) and, at the first
    # discriminator step, "meta_optimizer.cc:967] remapper failed: ... LeakyReluGrad ... BiasAdd".
    script = (
        "from tfvidgen import data\n"
        "from tfvidgen.models import VideoDCGAN\n"
        "gan = VideoDCGAN.from_preset('tiny')\n"
        "gan.compile()\n"
        "clips = data.moving_mnist(num_clips=8, num_frames=4, frame_size=16).batch(4)\n"
        "history = gan.fit(clips, epochs=1, verbose=0)\n"
        "print(sorted(history.history))\n"
    )
    result = _run([sys.executable, "-c", script], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "d_loss" in result.stdout
    assert CPP_LOG_LINE.findall(result.stderr) == [], result.stderr
    assert "remapper" not in result.stderr and "Warning" not in result.stderr, result.stderr


def test_a_failing_tensorflow_import_still_shows_what_tensorflow_printed(tmp_path):
    # The held-back lines are replayed when the import raises, so a broken install is not silent.
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(
        "import os\nos.write(2, b'E0000 00:00:1.0 1 fake.cc:1] the C++ side says why\\n')\n"
        "raise ImportError('broken tensorflow')\n"
    )
    script = "import tfvidgen, sys\nsys.path.insert(0, '.')\nimport tensorflow\n"
    result = _run([sys.executable, "-c", script], tmp_path)
    assert result.returncode == 1
    assert "fake.cc:1] the C++ side says why" in result.stderr and "ImportError: broken tensorflow" in result.stderr


def test_features_command_prints_no_warning(tmp_path):
    # Keras warned that `shuffle=True` is ignored for the generated tf.data stream.
    result = _run(
        [
            sys.executable,
            "-m",
            "tfvidgen.cli.main",
            "features",
            "--out",
            "features",
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--validation-clips",
            "8",
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr and CPP_LOG_LINE.findall(result.stderr) == [], result.stderr
    assert (tmp_path / "features" / "classifier.keras").is_file()
