"""The `tfvidgen` command line, end to end on tiny presets (subprocesses)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from conftest import write_test_video
from tfvidgen import export
from tfvidgen.cli.main import build_parser
from tfvidgen.cli.run_directory import prepare as _prepare_run_directory
from tfvidgen.cli.train import compile_model
from tfvidgen.cli.train import parse_overrides
from tfvidgen.models import FAMILIES

pytestmark = pytest.mark.slow

# Every family but the interpolator, whose run test_frame_interpolator.py makes (from triplets).
TRAINED = [family for family, cls in FAMILIES.items() if cls.role != "interpolation"]


def tfvidgen(*arguments, check=True, timeout=600):
    completed = subprocess.run(
        [sys.executable, "-m", "tfvidgen.cli.main", *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"tfvidgen {' '.join(map(str, arguments))} failed:\n{completed.stderr[-3000:]}")
    return completed


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    for family in TRAINED:
        cls = FAMILIES[family]
        loss = ["--loss", "mse"] if cls.accepts_loss and cls.default_loss != "mse" else []  # Not SimVP's L1 + L2.
        tfvidgen(
            "train", family, "--preset", "tiny", "--epochs", 2, "--out", base / family, "--validation-clips", 8, *loss
        )
    return base


@pytest.mark.parametrize("family", TRAINED)
def test_train_writes_a_complete_run_directory(runs, family):
    run = runs / family
    for name in ("config.json", "metrics.csv", "model.keras", "summary.json", "checkpoints/last_good.keras"):
        assert (run / name).is_file(), name
    assert (run / "export" / family / "1" / "saved_model.pb").is_file()
    if FAMILIES[family].checkpoint_monitor:  # The best validation score's checkpoint (none for the GAN).
        summary = json.loads((run / "summary.json").read_text())
        assert (run / "checkpoints" / "best.keras").is_file()
        assert summary["best_checkpoint"]["monitor"] == FAMILIES[family].checkpoint_monitor
        assert np.isfinite(summary["best_checkpoint"]["value"])
    assert any(name.endswith(".gif") for name in os.listdir(run / "samples"))
    assert any(name.endswith(".png") for name in os.listdir(run / "samples"))
    assert os.listdir(run / "logs")  # TensorBoard events.
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == family and config["preset"] == "tiny" and config["training"]["epochs"] == 2
    if FAMILIES[family].accepts_loss:
        assert config["training"]["loss"] == "mse"
        loss = keras.models.load_model(run / "model.keras").loss
        assert type(loss).__name__ == "MeanSquaredError"
    rows = (run / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 3  # Header and one row per epoch.
    summary = json.loads((run / "summary.json").read_text())
    assert summary["optimizer_steps"] == 8  # 2 epochs of the tiny preset's 4 steps.


def test_vae_run_fits_its_sampling_prior_and_the_export_serves_it(runs):
    summary = json.loads((runs / "vae" / "summary.json").read_text())
    assert summary["latent_prior"] == {"fitted": True, "clips": 2048, "split": "train"}
    model = keras.models.load_model(runs / "vae" / "model.keras")
    assert model.latent_prior.is_fitted()
    assert np.abs(model.latent_prior.mean.numpy()).max() > 0
    outputs, _ = export.run_through_c_api(
        summary["export"], {"sample": {"num_samples": np.array(3, np.int32), "seed": np.array(4, np.int32)}}
    )
    np.testing.assert_allclose(outputs["sample"]["clips"], model.sample(3, seed=4).numpy(), atol=1e-5)


def test_sample_from_run_keras_file_and_savedmodel(runs, tmp_path):
    tfvidgen("sample", "--model", runs / "dcgan", "--num", 3, "--out", tmp_path / "gan.gif")
    tfvidgen("sample", "--model", runs / "vae" / "model.keras", "--num", 2, "--out", tmp_path / "vae.mp4")
    tfvidgen(
        "sample", "--model", runs / "vae" / "export" / "vae", "--num", 2, "--seed", 3, "--out", tmp_path / "vae.png"
    )
    # `generate`, the command's name before `sample`, still works for one release, and says so.
    old = tfvidgen(
        "generate", "--model", runs / "vae" / "export" / "vae", "--num", 2, "--seed", 3, "--out", tmp_path / "old.png"
    )
    assert "tfvidgen: warning: `tfvidgen generate` is deprecated; use `tfvidgen sample`" in old.stderr.splitlines()
    assert (tmp_path / "old.png").read_bytes() == (tmp_path / "vae.png").read_bytes()
    from tfvidgen import video_io

    assert video_io.read_video(tmp_path / "gan.gif").shape[0] == 4  # A 4-frame grid video.
    assert video_io.read_video(tmp_path / "vae.mp4").shape[0] == 4
    assert (tmp_path / "vae.png").stat().st_size > 0


def test_generate_and_predict_interpolate_and_upscale_in_one_command(runs, tmp_path):
    from tfvidgen import postprocess

    arguments = ("--interpolate", 2, "--scale", 3, "--sharpen", 0.5)
    tfvidgen("generate", "--model", runs / "vae", "--num", 2, *arguments, "--out", tmp_path / "smooth.mp4")
    clip, fps = postprocess.read_clip(tmp_path / "smooth.mp4")
    # 4 frames -> 7, two 48x48 tiles 2 px apart, at twice the 8 fps of model clips.
    assert clip.shape == (7, 48, 98, 3) and fps == 16
    video = str(tmp_path / "input.avi")
    write_test_video(video, 12, size=(24, 32), fourcc="MJPG")
    tfvidgen(
        "predict",
        "--model",
        runs / "convlstm",
        "--video",
        video,
        "--horizon",
        6,
        *arguments,
        "--fps",
        10,
        "--out",
        tmp_path / "smooth.gif",
    )
    clip, fps = postprocess.read_clip(tmp_path / "smooth.gif")
    assert clip.shape == (15, 48, 3 * (16 + 2 + 16), 3) and fps == pytest.approx(10, rel=0.05)


@pytest.mark.parametrize("family", ["convlstm", "simvp"])
def test_predict_continues_a_video_from_keras_and_savedmodel(runs, tmp_path, family):
    video = str(tmp_path / "input.avi")
    write_test_video(video, 12, size=(24, 32), fourcc="MJPG")
    tfvidgen("predict", "--model", runs / family, "--video", video, "--horizon", 6, "--out", tmp_path / "a.mp4")
    tfvidgen(
        "predict",
        "--model",
        runs / family / "export" / family,
        "--video",
        video,
        "--horizon",
        6,
        "--out",
        tmp_path / "b.gif",
    )
    from tfvidgen import video_io

    keras_video, saved_video = video_io.read_video(tmp_path / "a.mp4"), video_io.read_video(tmp_path / "b.gif")
    # 2 context + 6 predicted 16x16 frames; input and prediction side by side 2 px apart, all upscaled by --scale 2.
    assert keras_video.shape == saved_video.shape == (8, 2 * 16, 2 * (16 + 2 + 16), 3)
    assert np.abs(keras_video - saved_video).mean() < 0.05  # Same model, one lossy codec apart.


def test_evaluate_writes_tables_and_plots(runs, tmp_path):
    completed = tfvidgen(
        "evaluate",
        "--model",
        runs / "convlstm",
        "--num-clips",
        8,
        "--context-frames",
        2,
        "--horizon",
        3,
        "--out",
        tmp_path / "eval",
    )
    assert "copy_last_frame" in completed.stdout and "all_black" in completed.stdout
    results = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert results["horizon"] == 3 and len(results["model"]["per_frame"]["ssim"]) == 3
    assert (tmp_path / "eval" / "per_frame.png").is_file()
    from tfvidgen import video_io

    # The first 4 clips: truth above, context + prediction below, 2 + 3 frames of 16x16 upscaled 2x.
    grid = video_io.read_video(tmp_path / "eval" / "predictions.gif")
    assert grid.shape[:3] == (5, 2 * (2 * 16 + 2), 2 * (4 * 16 + 3 * 2))
    assert (tmp_path / "eval" / "predictions.png").is_file()


def test_export_and_serving_check(runs, tmp_path):
    completed = tfvidgen("export", "--model", runs / "vae", "--out", tmp_path / "vae", "--uint8")
    assert "reconstruct_uint8" in completed.stdout and "OK" in completed.stdout
    completed = tfvidgen("serving", "check", tmp_path / "vae")
    assert "every signature loads and runs through TensorFlow's C API" in completed.stdout
    completed = tfvidgen("serving", "config", "--model", f"vae={tmp_path / 'vae'}", "--out", tmp_path / "models.config")
    assert 'name: "vae"' in (tmp_path / "models.config").read_text()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["train", "--preset", "huge", "--out", "{tmp}/x"], "Unknown convlstm preset 'huge'"),
        (["train", "dcgan", "--loss", "l1_l2", "--out", "{tmp}/x"], "--loss sets a predictor's loss"),
        (["generate", "--model", "{tmp}/missing.keras"], "No model at"),
        (["export", "--model", "{tmp}/torn.keras", "--out", "{tmp}/e"], "exists but is not a valid .keras file"),
        (
            ["predict", "--model", "{runs}/dcgan", "--video", "{tmp}/v.mp4"],
            "needs a convlstm, simvp or diffusion model; this one is dcgan",
        ),
        (["train", "--set", "filters", "--out", "{tmp}/y"], "`--set` takes key=value pairs"),
        (
            ["train", "vae", "--preset", "tiny", "--set", "latent_dim=0", "--out", "{tmp}/z"],
            "`latent_dim` must be a positive integer",
        ),
    ],
)
def test_errors_are_one_clear_line(runs, tmp_path, arguments, message):
    arguments = [argument.format(tmp=tmp_path, runs=runs) for argument in arguments]
    (tmp_path / "torn.keras").write_bytes((runs / "vae" / "model.keras").read_bytes()[:5000])  # A torn write.
    completed = tfvidgen(*arguments, check=False)
    assert completed.returncode == 1
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("tfvidgen: error: ") and message in last, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr


def test_a_finished_run_is_not_overwritten_by_accident(runs):
    completed = tfvidgen("train", "--preset", "tiny", "--out", runs / "convlstm", check=False)
    assert completed.returncode == 1 and "already holds a finished run" in completed.stderr


def test_run_directory_resumes_unless_overwritten(tmp_path):
    interrupted = tmp_path / "interrupted"
    (interrupted / "backup").mkdir(parents=True)
    (interrupted / "samples.gif").write_text("stale")
    assert _prepare_run_directory(str(interrupted), overwrite=False) is True
    assert (interrupted / "samples.gif").exists()
    assert _prepare_run_directory(str(interrupted), overwrite=True) is False
    assert interrupted.is_dir() and not os.listdir(interrupted)
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "model.keras").write_text("done")
    assert _prepare_run_directory(str(finished), overwrite=False) is False  # No summary.json: finished by a rerun.
    (finished / "summary.json").write_text("{}")  # What marks a finished run.
    with pytest.raises(FileExistsError, match="--overwrite"):
        _prepare_run_directory(str(finished), overwrite=False)
    assert _prepare_run_directory(str(finished), overwrite=True) is False and not os.listdir(finished)
    assert _prepare_run_directory(str(tmp_path / "new"), overwrite=False) is False


def test_every_subcommand_has_help():
    parser = build_parser()
    for command in (
        ["train"],
        ["sample"],
        ["generate"],
        ["predict"],
        ["evaluate"],
        ["export"],
        ["serving", "check"],
        ["serving", "config"],
        ["serving", "dev-server"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(command + ["--help"])
        assert exit_info.value.code == 0


def test_parse_overrides():
    assert parse_overrides(["filters=[4, 4]", "two_stream=true", "name=abc", "beta=0.5"]) == {
        "filters": [4, 4],
        "two_stream": True,
        "name": "abc",
        "beta": 0.5,
    }


def test_gan_generator_learning_rate_follows_the_preset_multiplier(tmp_path, monkeypatch):
    import keras

    from tfvidgen.cli.main import main
    from tfvidgen.models import VideoDCGAN

    tiny = dict(VideoDCGAN.presets["tiny"], training=dict(VideoDCGAN.presets["tiny"]["training"]))
    tiny["training"]["generator_learning_rate_multiplier"] = 2.5
    monkeypatch.setitem(VideoDCGAN.presets, "tiny", tiny)
    arguments = ["train", "dcgan", "--preset", "tiny", "--epochs", "1", "--steps-per-epoch", "1"]
    arguments += ["--learning-rate", "0.001", "--no-export", "--verbose", "0", "--out", str(tmp_path / "run")]
    assert main(arguments) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["training"]["learning_rate"] == 1e-3
    assert config["training"]["generator_learning_rate"] == pytest.approx(2.5e-3)
    gan = keras.models.load_model(tmp_path / "run" / "model.keras")
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(2.5e-3)


def test_train_on_one_video_or_four_splits_along_time_and_exports(tmp_path):
    write_test_video(str(tmp_path / "one.mp4"), 120)
    (tmp_path / "four").mkdir()
    for index in range(4):
        write_test_video(str(tmp_path / "four" / f"clip_{index}.mp4"), 60, seed=index)
    for data, validation_clips in ((tmp_path / "one.mp4", 4), (tmp_path / "four" / "*.mp4", 0)):
        run = tmp_path / f"run-{validation_clips}"
        completed = tfvidgen(
            "train",
            "--preset",
            "tiny",
            "--data",
            data,
            "--epochs",
            1,
            "--steps-per-epoch",
            3,
            "--validation-clips",
            validation_clips,
            "--out",
            run,
            "--verbose",
            0,
        )
        assert "ran out of data" not in completed.stderr and "shuffle=True" not in completed.stderr
        config = json.loads((run / "config.json").read_text())
        assert config["data_split"]["by"] == "time"
        assert (run / "export" / "convlstm" / "1" / "saved_model.pb").is_file()
        header, row = (run / "metrics.csv").read_text().strip().splitlines()
        values = dict(zip(header.split(","), row.split(",")))
        if validation_clips:
            assert np.isfinite(float(values["val_loss"]))
        else:  # Validation really off: no validation pass, no best checkpoint.
            assert values["val_loss"] == "NA" and not (run / "checkpoints" / "best.keras").exists()


def test_the_cli_hides_tensorflow_start_up_logs_unless_debugging(tmp_path):
    arguments = [sys.executable, "-m", "tfvidgen.cli.main", "serving", "config", "--model", "vae=/models/vae"]
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(arguments, capture_output=True, text=True, timeout=300, env=environment)
    assert quiet.returncode == 0 and 'base_path: "/models/vae"' in quiet.stdout
    assert quiet.stderr == ""  # Was ~7 lines: absl, oneDNN, CPU features, CUDA probing.
    debug = subprocess.run(
        arguments, capture_output=True, text=True, timeout=300, env=dict(environment, TFVIDGEN_DEBUG="1")
    )
    assert debug.returncode == 0 and ("oneDNN" in debug.stderr or "absl" in debug.stderr)


def test_a_presets_global_clipnorm_reaches_every_optimizer():
    from tfvidgen.models import VideoDCGAN
    from tfvidgen.models import VideoVAE

    assert VideoVAE.presets["cpu_small"]["training"]["global_clipnorm"] == 10_000.0
    vae = VideoVAE.from_preset("tiny")
    compile_model(vae, 1e-3, global_clipnorm=5.0)
    assert vae.optimizer.global_clipnorm == 5.0 and float(vae.optimizer.learning_rate) == np.float32(1e-3)
    gan = VideoDCGAN.from_preset("tiny")
    # The GAN's own setting, from its hook: the preset's multiple of the discriminator's rate.
    settings = VideoDCGAN.cli_training_settings(2e-4, {"generator_learning_rate_multiplier": 2.5})
    assert settings == {"generator_learning_rate": 2e-4 * 2.5}
    compile_model(gan, 2e-4, settings, global_clipnorm=3.0)
    assert gan.d_optimizer.global_clipnorm == gan.g_optimizer.global_clipnorm == 3.0
    assert float(gan.g_optimizer.learning_rate) == np.float32(5e-4)
    assert float(gan.d_optimizer.learning_rate) == np.float32(2e-4)
    compile_model(vae, 1e-3)
    assert vae.optimizer.global_clipnorm is None


def test_cosine_schedule_decays_every_rate_to_zero_by_the_planned_last_step(tmp_path):
    import keras

    from tfvidgen.cli.main import main
    from tfvidgen.cli.train import learning_rate_schedule

    cosine = learning_rate_schedule(1e-3, "cosine", total_steps=100)
    assert [float(cosine(step)) for step in (0, 50, 100, 150)] == pytest.approx([1e-3, 5e-4, 0.0, 0.0], abs=1e-9)
    assert learning_rate_schedule(1e-3) == 1e-3
    with pytest.raises(ValueError, match="`schedule` must be one of"):
        learning_rate_schedule(1e-3, "linear", 100)
    with pytest.raises(ValueError, match="needs `total_steps` >= 1"):
        learning_rate_schedule(1e-3, "cosine", 0)

    arguments = ["train", "dcgan", "--preset", "tiny", "--epochs", "2", "--steps-per-epoch", "2"]
    arguments += ["--learning-rate-schedule", "cosine", "--no-export", "--verbose", "0", "--out", str(tmp_path / "run")]
    assert main(arguments) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["training"]["learning_rate_schedule"] == "cosine"
    gan = keras.models.load_model(tmp_path / "run" / "model.keras")
    for optimizer in (gan.d_optimizer, gan.g_optimizer):  # 4 steps of 4 planned: both rates are down to 0.
        assert int(optimizer.iterations) == 4 and float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-12)
    schedule = gan.d_optimizer.get_config()["learning_rate"]
    assert schedule["class_name"] == "CosineDecay" and schedule["config"]["initial_learning_rate"] == pytest.approx(
        2e-4
    )


def test_a_presets_learning_rate_schedule_applies_unless_the_command_line_sets_one(tmp_path, monkeypatch):
    import keras

    from tfvidgen.cli.main import main
    from tfvidgen.models import VideoVAE

    tiny = dict(VideoVAE.presets["tiny"], training=dict(VideoVAE.presets["tiny"]["training"], epochs=2))
    tiny["training"]["learning_rate_schedule"] = "cosine"
    monkeypatch.setitem(VideoVAE.presets, "tiny", tiny)
    common = ["train", "vae", "--preset", "tiny", "--steps-per-epoch", "2", "--prior-clips", "0", "--no-export"]
    for flags, expected in (([], "cosine"), (["--learning-rate-schedule", "constant"], "constant")):
        out = tmp_path / expected
        assert main(common + flags + ["--verbose", "0", "--out", str(out)]) == 0
        assert json.loads((out / "config.json").read_text())["training"]["learning_rate_schedule"] == expected
        rate = float(keras.models.load_model(out / "model.keras").optimizer.learning_rate)
        assert rate == pytest.approx(0.0 if expected == "cosine" else 1e-3, abs=1e-9)  # After 4 of 4 steps.
