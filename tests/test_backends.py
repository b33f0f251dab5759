"""Every family across backends in fresh processes: JAX without TensorFlow installed, weights trained on JAX served
by TensorFlow, data parallelism on JAX, the CLI on JAX, the GPU script's dry run.

The role harness itself (tests/test_harness_*.py) runs in-process under KERAS_BACKEND: CI runs it on TensorFlow
and again on JAX (`.ci/run`)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from harness import roles
from tfvidgen import export

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
WITHOUT_TENSORFLOW = os.path.join(TESTS, "without_tensorflow")
CROSS_BACKEND = os.path.join(TESTS, "harness", "cross_backend.py")
FAMILIES = roles.families()  # tfvidgen.models.FAMILIES, every role.


@pytest.fixture(scope="module", autouse=True)
def jax_compilation_cache(tmp_path_factory):
    """One persistent JAX compilation cache for the JAX processes of this module.

    Each process would otherwise compile the same tiny models' steps again (the harness, the save for the
    cross-backend test, the CLI runs): with the cache the save's process ran in 19 s instead of 84 s.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path_factory.mktemp("jax_compilation_cache")))
        patch.setenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
        yield


def run_python(arguments, backend, block_tensorflow=False, extra_env=None, timeout=600):
    """Runs `python arguments` in a fresh process under `backend`; TensorFlow unimportable when asked."""
    env = dict(os.environ, KERAS_BACKEND=backend, **(extra_env or {}))
    env["PYTHONPATH"] = os.pathsep.join(([WITHOUT_TENSORFLOW] if block_tensorflow else []) + [REPO])
    result = subprocess.run(
        [sys.executable] + arguments, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def trained_on_jax(tmp_path_factory):
    """Every family trained one epoch on JAX with TensorFlow unimportable, saved with its outputs."""
    directory = tmp_path_factory.mktemp("jax_models")
    run_python([CROSS_BACKEND, "save", str(directory)], "jax", block_tensorflow=True)
    with open(directory / "results.json") as file:
        return directory, json.load(file)


def test_jax_trains_every_family_without_importing_tensorflow(trained_on_jax):
    _, results = trained_on_jax
    assert results["backend"] == "jax" and results["families"] == list(FAMILIES)
    assert results["tensorflow_imported"] is False
    assert results["strategy"] == ["one device (cpu:0)", 1]


def test_models_trained_on_jax_load_export_and_serve_under_tensorflow(trained_on_jax):
    directory, _ = trained_on_jax
    expected = np.load(directory / "outputs.npz")
    for family in FAMILIES:
        model = keras.saving.load_model(directory / f"{family}.keras")
        np.testing.assert_allclose(roles.backend_free_output(model), expected[family], atol=1e-4, err_msg=family)
        path = export.export_for_serving(model, str(directory / "export" / family), version=1)
        checked = export.check_servable(path, model=model)  # Served through the C API, as TF Serving does.
        assert checked and all(result["max_abs_diff"] <= 1e-4 for result in checked.values()), family


def test_a_data_parallel_step_on_two_devices_equals_the_single_device_step(tmp_path):
    out = tmp_path / "data_parallel.json"
    run_python(
        [CROSS_BACKEND, "data_parallel", str(out)],
        "jax",
        block_tensorflow=True,
        extra_env={"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"},
    )
    with open(out) as file:
        results = json.load(file)
    assert results["devices"] == 2
    for family in FAMILIES:
        assert results[family] < 1e-5, (family, results[family])


def test_jax_training_from_the_command_line_without_tensorflow(tmp_path, video_dir):
    """`tfvidgen train --backend jax`: built-in Moving MNIST and video files, every run file but the export."""
    runs = (
        ("vae", "moving_mnist", "2", "latent_dim=8"),
        ("convlstm", str(video_dir / "long.mp4"), "0", "frame_shape=[16,16,1]"),
    )
    for family, data, validation_clips, override in runs:
        out = tmp_path / family
        arguments = ["-m", "tfvidgen.cli.main", "train", family, "--backend", "jax", "--preset", "tiny"]
        arguments += ["--out", str(out), "--data", data, "--validation-clips", validation_clips, "--set", override]
        result = run_python(arguments, "jax", block_tensorflow=True)
        assert "no SavedModel: export needs TensorFlow" in result.stdout
        assert "no TensorBoard logs" in result.stdout
        for name in ("config.json", "metrics.csv", "model.keras", "summary.json", "checkpoints/last_good.keras"):
            assert (out / name).exists(), name
        assert any(name.endswith(".gif") for name in os.listdir(out / "samples"))
        with open(out / "config.json") as file:
            config = json.load(file)
        assert config["backend"] == "jax" and "tensorflow" not in config["versions"]
        assert not (out / "export").exists()


def test_gpu_script_dry_run(tmp_path):
    """tools/train_on_gpu.sh --smoke: SimVP, the DCGAN and the VAE on JAX in bfloat16 without TensorFlow."""
    env = dict(os.environ, PYTHONPATH=WITHOUT_TENSORFLOW, PYTHON=sys.executable)
    result = subprocess.run(
        ["bash", os.path.join(REPO, "tools", "train_on_gpu.sh"), "--smoke", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for family in ("simvp", "dcgan", "vae"):  # The script's: the CPU architectures with a gpu_cpu_small preset.
        with open(tmp_path / family / "summary.json") as file:
            assert json.load(file)["optimizer_steps"] == 2
        with open(tmp_path / family / "config.json") as file:
            config = json.load(file)
        assert config["backend"] == "jax" and config["training"]["mixed_precision"] == "bfloat16"
        assert (tmp_path / family / "model.keras").exists()
    log = (tmp_path / "gpu_run.txt").read_text()
    assert [line.split(":")[0] for line in log.splitlines() if line.endswith(" s wall")] == ["simvp", "dcgan", "vae"]
    assert log.count("command: ") == 3 and "--preset tiny" in log
