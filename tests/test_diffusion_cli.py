"""The diffusion family end to end through the CLI: labelled training data, `sample`'s sampler flags, `predict` and
`evaluate` passthrough, by hooks and signatures (what a model takes), never by family name."""

import contextlib
import io
import json
import os
import subprocess
import sys
from argparse import Namespace

import numpy as np
import pytest

from conftest import write_test_video
from tfvidgen import data
from tfvidgen.cli import checks
from tfvidgen.cli import training_data
from tfvidgen.cli.main import main
from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import VideoDCGAN
from tfvidgen.models import VideoDiffusion

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1")
TINY_TRAINING = {"batch_size": 2, "steps_per_epoch": 2, "epochs": 1}


def _args(source="moving_mnist", validation_clips=3):
    return Namespace(
        data=source, split_by="auto", seed=0, validation_clips=validation_clips, batch_size=2, steps_per_epoch=2
    )


def run_cli(*arguments):
    """`tfvidgen ARGUMENTS` in this process: `(exit code, stdout, stderr)`."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([str(argument) for argument in arguments])
    return code, stdout.getvalue(), stderr.getvalue()


# === Item 1: labelled training data (the `trains_on_labels` hook) ===


def test_a_model_that_trains_on_labels_gets_clips_and_their_digits_from_tf_data():
    model = VideoDiffusion.from_preset("tiny")
    train, validation = training_data.build_datasets("diffusion", model, _args(), TINY_TRAINING)
    clips_spec, labels_spec = train.element_spec
    assert (tuple(clips_spec.shape), clips_spec.dtype.name) == ((2, 4, 16, 16, 1), "float32")
    assert (tuple(labels_spec.shape), labels_spec.dtype.name) == ((2, 2), "int32")  # Two digits per clip.
    clips, labels = (np.asarray(part) for part in next(iter(validation)))
    assert clips.shape == (2, 4, 16, 16, 1) and labels.shape == (2, 2) and labels.dtype == np.int32
    assert labels.min() >= 0 and labels.max() <= 9
    # The same clips as without labels: the hook adds the labels, it changes no pixel.
    model.trains_on_labels = False
    _, unlabelled = training_data.build_datasets("diffusion", model, _args(), TINY_TRAINING)
    plain = np.asarray(next(iter(unlabelled)))
    assert plain.shape == (2, 4, 16, 16, 1)
    np.testing.assert_array_equal(plain, clips)


def test_a_model_without_the_hook_and_a_source_without_labels_give_clips_alone(video_dir):
    gan = VideoDCGAN.from_preset("tiny")
    assert gan.trains_on_labels is False  # The role's default.
    train, _ = training_data.build_datasets("dcgan", gan, _args(validation_clips=0), TINY_TRAINING)
    assert tuple(train.element_spec.shape) == (2,) + tuple(gan.clip_shape)
    model = VideoDiffusion.from_preset("tiny")
    assert not training_data.with_labels(model, _args(str(video_dir / "long.mp4")))
    train, validation = training_data.build_datasets(
        "diffusion", model, _args(str(video_dir / "long.mp4"), validation_clips=0), TINY_TRAINING
    )
    assert tuple(train.element_spec.shape) == (2, 4, 16, 16, 1) and validation is None  # Unconditional.
    with pytest.raises(ValueError) as error:
        data.load_clips(str(video_dir / "long.mp4"), 4, 16, 1, with_labels=True)
    assert str(error.value) == (
        f"`data={str(video_dir / 'long.mp4')!r}` is a videos source, whose clips have no labels; labelled sources: "
        "moving_mnist. Received: with_labels=True"
    )


def test_numpy_and_device_batches_carry_the_labels_too():
    model = VideoDiffusion.from_preset("tiny")
    train, validation = training_data.build_numpy_batches("diffusion", model, _args(), TINY_TRAINING)
    clips, labels = train[0]
    assert clips.shape == (2, 4, 16, 16, 1) and clips.dtype == np.float32
    assert labels.shape == (2, 2) and labels.dtype == np.int32 and 0 <= labels.min() <= labels.max() <= 9
    assert len(validation) == 2  # 3 clips in batches of 2, the last partial.
    last_clips, last_labels = validation[1]
    assert last_clips.shape == (1, 4, 16, 16, 1) and last_labels.shape == (1, 2)
    # Labels ride along the shuffled clips: each batch's labels are its clips' own.
    finite = data.numpy_clips("moving_mnist", 4, 16, 1, num_clips=5, with_labels=True)
    batches = data.ClipBatches(finite, batch_size=5, seed=3)
    shuffled_clips, shuffled_labels = batches[0]
    order = [int(np.flatnonzero((finite[0] == clip).all(axis=(1, 2, 3, 4)))[0]) for clip in shuffled_clips]
    assert sorted(order) == [0, 1, 2, 3, 4] and order != [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(shuffled_labels, finite[1][order])
    with pytest.raises(ValueError, match=r"`clips` and their labels must have one row per clip. Received: 5 clips"):
        data.ClipBatches((finite[0], finite[1][:4]), batch_size=2)
    # On the device: the same clips with or without the labels.
    labelled = data.DeviceMovingMNIST(2, 1, 4, 16, labels=True)[0]
    plain = data.DeviceMovingMNIST(2, 1, 4, 16)[0]
    assert len(labelled) == 2 and len(plain) == 1
    assert np.asarray(labelled[1]).shape == (2, 2) and np.asarray(labelled[1]).dtype == np.int32
    np.testing.assert_array_equal(np.asarray(labelled[0]), np.asarray(plain[0]))


JAX_SCRIPT = """
import json, sys
from argparse import Namespace
import numpy as np
from tfvidgen.cli import training_data
from tfvidgen.models import VideoDiffusion
model = VideoDiffusion.from_preset("tiny")
args = Namespace(data="moving_mnist", split_by="auto", seed=0, validation_clips=3, batch_size=2, steps_per_epoch=2)
train, validation = training_data.build_datasets("diffusion", model, args, {"batch_size": 2, "steps_per_epoch": 2})
(clips, labels), (held_out, held_out_labels) = train[0], validation[0]
print(json.dumps({
    "sources": [type(train).__name__, type(validation).__name__],
    "on_device": [type(clips).__module__.split(".")[0], type(labels).__module__.split(".")[0]],
    "shapes": [list(clips.shape), list(labels.shape), list(held_out.shape), list(held_out_labels.shape)],
    "dtypes": [str(clips.dtype), str(labels.dtype), str(held_out_labels.dtype)],
    "labels_in_range": bool(0 <= int(np.min(labels)) <= int(np.max(labels)) <= 9),
    "tensorflow": "tensorflow" in sys.modules,
}))
"""


@pytest.mark.slow
def test_on_jax_the_device_renders_the_labels_with_the_clips_without_tensorflow():
    env = dict(
        ENV, KERAS_BACKEND="jax", PYTHONPATH=os.pathsep.join([os.path.join(REPO, "tests", "without_tensorflow"), REPO])
    )
    completed = subprocess.run(
        [sys.executable, "-c", JAX_SCRIPT], capture_output=True, text=True, timeout=300, env=env, cwd=REPO
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert json.loads(completed.stdout.strip().splitlines()[-1]) == {
        "sources": ["DeviceMovingMNIST", "ClipBatches"],
        "on_device": ["jaxlib", "jaxlib"],
        "shapes": [[2, 4, 16, 16, 1], [2, 2], [2, 4, 16, 16, 1], [2, 2]],
        "dtypes": ["float32", "int32", "int32"],
        "labels_in_range": True,
        "tensorflow": False,
    }


# === Item 2: the sampler flags, checked before TensorFlow loads ===


def test_label_flag_gives_one_label_per_sample():
    assert checks.labels_flag(None, 4) is None
    assert checks.labels_flag(["3"], 4) == [3, 3, 3, 3]
    assert checks.labels_flag(["1,2", "3", "4"], 4) == [1, 2, 3, 4]
    with pytest.raises(ValueError) as error:
        checks.labels_flag(["1,2,3"], 4)
    assert str(error.value) == (
        "--label takes one class for every sample or one per sample (--num 4). Received: 3 labels (1,2,3)"
    )


BAD_FLAGS = [
    (["sample", "--steps", "0"], "--steps must be an integer in [1, 100,000]. Received: --steps 0"),
    (["generate", "--steps", "100001"], "--steps must be an integer in [1, 100,000]. Received: --steps 100001"),
    (["sample", "--guidance", "nan"], "--guidance must be a number in [0, 100]. Received: --guidance nan"),
    (["sample", "--guidance", "100.5"], "--guidance must be a number in [0, 100]. Received: --guidance 100.5"),
    (
        ["sample", "--label", "-1"],
        "--label takes class indices (ints >= 0), one for every sample or a comma list of one per sample. "
        "Received: --label -1",
    ),
    (
        ["generate", "--label", "3,x"],
        "--label takes class indices (ints >= 0), one for every sample or a comma list of one per sample. "
        "Received: --label 3,x",
    ),
    (
        ["sample", "--num", "3", "--label", "1,2"],
        "--label takes one class for every sample or one per sample (--num 3). Received: 2 labels (1,2)",
    ),
    (
        ["predict", "--video", "v.mp4", "--steps", "0"],
        "--steps must be an integer in [1, 100,000]. Received: --steps 0",
    ),
    (
        ["predict", "--video", "v.mp4", "--num-samples", "17"],
        "--num-samples must be an integer in [1, 16]. Received: --num-samples 17",
    ),
    (["evaluate", "--steps", "-2"], "--steps must be an integer in [1, 100,000]. Received: --steps -2"),
]

CHECK_SCRIPT = """
import contextlib, io, json, sys
from tfvidgen.cli.main import main
results = []
for argv in json.loads(sys.argv[1]):
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        code = main(argv + ["--model", "no/such/model"])
    results.append([code, stderr.getvalue()])
print(json.dumps({"results": results, "tensorflow": "tensorflow" in sys.modules}))
"""


@pytest.mark.slow
def test_bad_sampler_flags_fail_in_one_line_before_tensorflow_loads():
    completed = subprocess.run(
        [sys.executable, "-c", CHECK_SCRIPT, json.dumps([argv for argv, _ in BAD_FLAGS])],
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["tensorflow"] is False  # Every flag failed before TensorFlow (and the model) loaded.
    for (code, stderr), (argv, message) in zip(report["results"], BAD_FLAGS):
        assert (code, stderr) == (1, f"tfvidgen: error: {message}\n"), argv


# === A trained tiny diffusion run (one `tfvidgen train` subprocess for the module) ===


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("diffusion") / "run"
    completed = subprocess.run(
        [sys.executable, "-m", "tfvidgen.cli.main", "train", "diffusion", "--preset", "tiny", "--epochs", "1"]
        + ["--steps-per-epoch", "2", "--batch-size", "2", "--validation-clips", "2", "--no-export"]
        + ["--out", str(directory), "--verbose", "0"],
        capture_output=True,
        text=True,
        timeout=600,
        env=ENV,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return directory


@pytest.fixture(scope="module")
def other_models(tmp_path_factory):
    """Tiny `.keras` files of families whose verbs take no sampler flags (a GAN, a predictor)."""
    directory = tmp_path_factory.mktemp("others")
    VideoDCGAN.from_preset("tiny", seed=0).save(directory / "dcgan.keras")
    ConvLSTMPredictor.from_preset("tiny").save(directory / "convlstm.keras")
    return directory


@pytest.fixture
def sample_calls(monkeypatch):
    """The keyword arguments of every `VideoDiffusion.sample` / `predict_future` call, the calls still made."""
    calls = []
    for verb in ("sample", "predict_future"):
        original = getattr(VideoDiffusion, verb)

        def spy(self, *args, _original=original, _verb=verb, **kwargs):
            calls.append((_verb, {key: np.asarray(value).tolist() for key, value in kwargs.items()}))
            return _original(self, *args, **kwargs)

        spy.__wrapped__ = original  # inspect.signature (what the CLI asks) sees the verb's own arguments.

        monkeypatch.setattr(VideoDiffusion, verb, spy)
    return calls


@pytest.fixture
def loaded_once(monkeypatch):
    """The CLI's commands load each model path once per test (one sampler trace, not one per command)."""
    from tfvidgen.cli import commands
    from tfvidgen.cli import loading

    cache = {}

    def load_any(path):
        if os.fspath(path) not in cache:
            cache[os.fspath(path)] = loading.load_any(path)
        return cache[os.fspath(path)]

    monkeypatch.setattr(commands, "load_any", load_any)


@pytest.mark.slow
def test_train_diffusion_finishes_its_run_on_labelled_moving_mnist(run):
    summary = json.loads((run / "summary.json").read_text())
    assert summary["optimizer_steps"] == 2
    config = json.loads((run / "config.json").read_text())
    assert (config["family"], config["model_class"], config["data"]) == ("diffusion", "VideoDiffusion", "moving_mnist")
    assert len((run / "metrics.csv").read_text().strip().splitlines()) == 2  # Header and one epoch.
    assert {"samples_epoch_001.gif", "class_samples_epoch_001.gif"} <= set(os.listdir(run / "samples"))


@pytest.mark.slow
def test_sample_passes_the_sampler_flags_only_when_given(run, tmp_path, sample_calls, loaded_once):
    def sample(name, *flags, command="sample"):
        code, stdout, stderr = run_cli(
            command, "--model", run, "--num", 2, "--scale", 1, "--out", tmp_path / name, *flags
        )
        assert code == 0, stderr
        return (tmp_path / name).read_bytes(), stdout, stderr

    default, stdout, _ = sample("default.png")
    assert stdout == f"wrote 2 clips of (4, 16, 16, 1) to {tmp_path / 'default.png'}\n"
    explicit, _, _ = sample("explicit.png", "--steps", 8)  # The tiny preset's sampling_steps.
    fewer, _, _ = sample("fewer.png", "--steps", 2)
    guided, _, _ = sample("guided.png", "--steps", 2, "--label", "3,7", "--guidance", 2)
    repeated, _, _ = sample("repeated.png", "--steps", 2, "--label", 3, "--label", 7, "--guidance", 2)
    for_all, _, _ = sample("for_all.png", "--steps", 2, "--label", 3)
    old, _, old_stderr = sample("old.png", "--steps", 2, "--label", "3,7", "--guidance", 2, command="generate")
    assert sample_calls == [
        ("sample", {"seed": 0}),
        ("sample", {"seed": 0, "steps": 8}),
        ("sample", {"seed": 0, "steps": 2}),
        ("sample", {"seed": 0, "steps": 2, "labels": [3, 7], "guidance": 2.0}),
        ("sample", {"seed": 0, "steps": 2, "labels": [3, 7], "guidance": 2.0}),
        ("sample", {"seed": 0, "steps": 2, "labels": [3, 3]}),
        ("sample", {"seed": 0, "steps": 2, "labels": [3, 7], "guidance": 2.0}),
    ]
    assert explicit == default and fewer != default  # The steps reach the sampler.
    # The same labels, however written, the same clips; the old name takes the flags. (Two training steps leave the
    # label embedding too small to change a pixel: test_video_diffusion checks that labels change samples.)
    assert guided == repeated == old
    assert len(for_all) > 0
    assert old_stderr == "tfvidgen: warning: `tfvidgen generate` is deprecated; use `tfvidgen sample`\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    "flags, input_name",
    [(["--steps", "4"], "steps"), (["--label", "3"], "labels"), (["--guidance", "2"], "guidance")],
)
def test_a_model_without_the_input_names_the_flag_and_its_class(other_models, tmp_path, flags, input_name):
    code, stdout, stderr = run_cli(
        "sample", "--model", other_models / "dcgan.keras", "--num", 2, "--out", tmp_path / "x.png", *flags
    )
    assert (code, stdout) == (1, "")
    message = f"{flags[0]} does not apply to VideoDCGAN: its `sample` takes no `{input_name}`."
    assert stderr == f"tfvidgen: error: {message}\n"
    assert not (tmp_path / "x.png").exists()


# === Items 3 and 4: predict and evaluate ===


@pytest.mark.slow
def test_predict_shows_several_seeded_futures_side_by_side(run, other_models, tmp_path, sample_calls, loaded_once):
    from tfvidgen import video_io

    video = str(tmp_path / "input.mp4")
    write_test_video(video, 12)
    code, stdout, stderr = run_cli(
        "predict", "--model", run, "--video", video, "--horizon", 4, "--num-samples", 3, "--steps", 2, "--seed", 5,
        "--out", tmp_path / "futures.mp4",
    )  # fmt: skip
    assert code == 0, stderr
    written_to = tmp_path / "futures.mp4"
    assert stdout == f"wrote {written_to}: input (left) and 2 context + 4 predicted frames (right, 3 samples)\n"
    assert sample_calls == [("predict_future", {"num_samples": 3, "steps": 2, "seed": 5})]
    written = video_io.read_video(str(tmp_path / "futures.mp4"))
    assert written.shape[:3] == (6, 32, 2 * (4 * 16 + 3 * 2))  # 2 + 4 frames; input and 3 futures, 2 px apart, x2.
    code, _, stderr = run_cli(
        "predict", "--model", other_models / "convlstm.keras", "--video", video, "--num-samples", 2,
        "--out", tmp_path / "x.mp4",
    )  # fmt: skip
    assert (code, stderr) == (
        1,
        "tfvidgen: error: --num-samples does not apply to ConvLSTMPredictor: its `predict_future` takes no "
        "`num_samples`.\n",
    )
    # What continues videos is asked of the model, not of its role: the generative diffusion family is named.
    code, _, stderr = run_cli("predict", "--model", other_models / "dcgan.keras", "--video", video)
    message = "`tfvidgen predict` needs a convlstm, simvp or diffusion model; this one is dcgan."
    assert (code, stderr) == (1, f"tfvidgen: error: {message}\n")


@pytest.mark.slow
def test_evaluate_samples_with_the_given_steps(run, other_models, tmp_path, sample_calls):
    code, stdout, stderr = run_cli(
        "evaluate", "--model", run, "--num-clips", 4, "--batch-size", 2, "--steps", 2, "--out", tmp_path / "scores"
    )
    assert code == 0, stderr
    results = json.loads((tmp_path / "scores" / "evaluation.json").read_text())
    assert (results["family"], results["num_clips"]) == ("diffusion", 4)
    assert np.isfinite(results["frechet_distance"]) and results["frechet_distance"] >= 0
    assert sample_calls == [("sample", {"seed": 0, "steps": 2}), ("sample", {"seed": 1, "steps": 2})]
    assert "Frechet distance" in stdout
    code, _, stderr = run_cli("evaluate", "--model", other_models / "dcgan.keras", "--num-clips", 4, "--steps", 2)
    message = "--steps does not apply to VideoDCGAN: its `sample` takes no `steps`."
    assert (code, stderr) == (1, f"tfvidgen: error: {message}\n")


# === The same flags through an export (its signatures' inputs) ===


@pytest.fixture(scope="module")
def exports(run, other_models, tmp_path_factory):
    from tfvidgen import export

    directory = tmp_path_factory.mktemp("exports")
    code, stdout, stderr = run_cli("export", "--model", run, "--out", directory / "diffusion", "--no-check")
    assert code == 0, stderr
    gan = VideoDCGAN.from_preset("tiny", seed=0)
    export.export_for_serving(gan, str(directory / "dcgan"), version=1)
    return directory


@pytest.mark.slow
def test_an_export_takes_the_flags_its_signatures_declare(run, exports, other_models, tmp_path, loaded_once):
    import cv2

    def sample(model, name, *flags):
        code, _, stderr = run_cli(
            "sample", "--model", model, "--num", 2, "--scale", 1, "--out", tmp_path / name, *flags
        )
        assert code == 0, stderr
        return cv2.imread(str(tmp_path / name)).astype(int)

    flags = ("--steps", 2, "--label", "3,7", "--guidance", 2)
    served, local = sample(exports / "diffusion", "served.png", *flags), sample(run, "local.png", *flags)
    assert served.shape == local.shape == (38, 74, 3)
    assert np.abs(served - local).max() <= 1  # The graph's float32 sums round the odd pixel the other way.
    assert np.abs(sample(exports / "diffusion", "default.png") - sample(run, "default_local.png")).max() <= 1
    # A class the model lacks: the model's check, and the exported graph's, each in one line.
    for model, message in [
        (run, "`labels` must be class indices in [0, 9]. Received: labels=[12, 12]"),
        (exports / "diffusion", "`labels` must be class indices <= 9. Received: 12"),
    ]:
        code, _, stderr = run_cli("sample", "--model", model, "--num", 2, "--label", 12, "--out", tmp_path / "x.png")
        assert (code, stderr) == (1, f"tfvidgen: error: {message}\n")
    code, _, stderr = run_cli("sample", "--model", exports / "dcgan", "--steps", 2, "--out", tmp_path / "x.png")
    message = "--steps does not apply to VideoDCGAN: its `sample` signature takes no `steps`."
    assert (code, stderr) == (1, f"tfvidgen: error: {message}\n")
    video = str(tmp_path / "input.mp4")
    write_test_video(video, 12)
    predict = ("predict", "--model", exports / "diffusion", "--video", video, "--horizon", 3)
    code, _, stderr = run_cli(*predict, "--out", tmp_path / "served.mp4")
    message = (
        f"--context-frames is needed: VideoDiffusion ({exports / 'diffusion'}) names no default number of context "
        "frames."
    )  # The export's config records the largest context (max_context_frames), not a default.
    assert (code, stderr) == (1, f"tfvidgen: error: {message}\n")
    code, stdout, stderr = run_cli(
        *predict, "--context-frames", 2, "--steps", 2, "--seed", 1, "--out", tmp_path / "served.mp4"
    )
    assert code == 0, stderr
    assert stdout == f"wrote {tmp_path / 'served.mp4'}: input (left) and 2 context + 3 predicted frames (right)\n"
    code, _, stderr = run_cli(
        "predict", "--model", exports / "diffusion", "--video", video, "--num-samples", 2, "--out", tmp_path / "y.mp4"
    )
    message = "--num-samples does not apply to VideoDiffusion: its `rollout` signature takes no `num_samples`."
    assert (code, stderr) == (1, f"tfvidgen: error: {message}\n")
