"""`tfvidgen train` runs that share a directory, stop after model.keras, meet NaN, or run on JAX (issue 27).

The subprocess runs of one scenario share a module fixture: a tiny run holding its directory's lock, a second run
refused there, the first killed once model.keras is written, and the reruns that finish it.
"""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfvidgen import callbacks
from tfvidgen import models

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
WITHOUT_TENSORFLOW = os.path.join(TESTS, "without_tensorflow")
ENVIRONMENT = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", TF_ENABLE_ONEDNN_OPTS="1", PYTHONUNBUFFERED="1")


def _command(*arguments):
    return [sys.executable, "-m", "tfvidgen.cli.main", *map(str, arguments)]


def _train(run, *options):
    return _command(
        "train",
        *options,
        "--preset",
        "tiny",
        "--validation-clips",
        2,
        "--out",
        run,
        "--verbose",
        0,
        "--backup-every",
        2,
    )


def _files(run):
    """`{relative path: sha256}` of every file under `run`."""
    found = {}
    for folder, _, names in os.walk(run):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as file:
                found[os.path.relpath(path, run)] = hashlib.sha256(file.read()).hexdigest()
    return found


def _wait_for(condition, process, what, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the run ended (exit {process.returncode}) before {what}")
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def _lock_holder(run):
    try:
        return (run / "train.lock").read_text().strip()
    except OSError:
        return ""


@pytest.fixture(scope="module")
def shared_directory_runs(tmp_path_factory):
    """One run directory, five processes; what each saw, for the tests below to check."""
    run = tmp_path_factory.mktemp("runs") / "run"
    arguments = _train(run, "convlstm", "--epochs", 1, "--steps-per-epoch", 8)
    seen = {}
    first = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRONMENT)
    try:
        # 1. The first run holds the lock: stopped (SIGSTOP) there, it keeps holding it while a second run starts.
        _wait_for(lambda: _lock_holder(run) == str(first.pid), first, "the first run took the lock")
        first.send_signal(signal.SIGSTOP)
        seen["holder_pid"] = first.pid
        seen["files_before_second"] = _files(run)
        start = time.monotonic()
        second = subprocess.run(_train(run, "vae"), capture_output=True, text=True, env=ENVIRONMENT, timeout=300)
        seen["second"] = (second.returncode, second.stdout, second.stderr, time.monotonic() - start)
        seen["files_after_second"] = _files(run)
        first.send_signal(signal.SIGCONT)

        # 2. Killed (-9) the moment model.keras is in place: the export and summary.json are still to come.
        _wait_for(lambda: (run / "model.keras").exists(), first, "model.keras was written")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    seen["first_returncode"] = first.returncode
    seen["after_kill"] = _files(run)

    # 3. The rerun finishes the run; Ctrl-C (SIGINT) once it says so: the next rerun must still finish it.
    rerun = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENVIRONMENT)
    lines = []
    for line in rerun.stdout:
        lines.append(line)
        if "finishing it without training" in line:
            rerun.send_signal(signal.SIGINT)
            break
    rest, _ = rerun.communicate(timeout=120)
    seen["interrupted_rerun"] = (rerun.returncode, "".join(lines) + rest)
    seen["after_interrupted_rerun"] = _files(run)

    finished = subprocess.run(arguments, capture_output=True, text=True, env=ENVIRONMENT, timeout=300)
    seen["finishing_rerun"] = (finished.returncode, finished.stdout, finished.stderr)
    seen["finished"] = _files(run)
    again = subprocess.run(arguments, capture_output=True, text=True, env=ENVIRONMENT, timeout=300)
    seen["third_rerun"] = (again.returncode, again.stderr)
    seen["run"] = run
    return seen


@pytest.mark.slow
def test_a_second_run_into_a_busy_run_directory_stops_at_once_naming_the_holder(shared_directory_runs):
    seen = shared_directory_runs
    returncode, stdout, stderr, seconds = seen["second"]
    assert returncode == 1, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == (
        f"tfvidgen: error: {str(seen['run'])!r} is in use by another tfvidgen train (PID {seen['holder_pid']}); "
        "wait for it to end, or pass another --out."
    )
    assert "tfvidgen train vae" not in stdout  # Refused before building anything.
    # Not one file of the first run was touched, none added.
    assert seen["files_after_second"] == seen["files_before_second"]
    assert "train.lock" in seen["files_before_second"]
    # The first run went on to write its own model and config.
    config = json.loads((seen["run"] / "config.json").read_text())
    assert config["family"] == "convlstm" and config["model_class"] == "ConvLSTMPredictor"


@pytest.mark.slow
def test_a_run_killed_after_model_keras_is_finished_by_the_rerun_without_training(shared_directory_runs):
    seen = shared_directory_runs
    run = seen["run"]
    killed = seen["after_kill"]
    assert seen["first_returncode"] == -signal.SIGKILL
    assert "model.keras" in killed and "summary.json" not in killed  # The kill hit the window of the issue.
    assert not [name for name in killed if name.startswith("export/") and name.endswith("saved_model.pb")]

    returncode, output = seen["interrupted_rerun"]
    assert returncode == 130, output[-2000:]
    assert "summary.json" not in seen["after_interrupted_rerun"]

    returncode, stdout, stderr = seen["finishing_rerun"]
    assert returncode == 0, stderr[-3000:]
    assert "finishing it without training" in stdout and "resuming" not in stdout
    finished = seen["finished"]
    # Nothing trained again: the model, its metrics and checkpoints are the killed run's, byte for byte.
    for name in ("model.keras", "metrics.csv", "config.json", "checkpoints/last_good.keras"):
        assert finished[name] == killed[name], name
    summary = json.loads((run / "summary.json").read_text())
    assert summary["optimizer_steps"] == 8 and summary["finished_by_rerun"] is True
    assert summary["train_seconds"] > 0 and len(summary["epoch_seconds"]) == 1  # The killed run's, kept for this.
    assert summary["export"] == str(run / "export" / "convlstm" / "1")
    assert "export/convlstm/1/saved_model.pb" in finished
    assert not [name for name in finished if name.startswith("backup/") or name == "summary.pending.json"]
    loaded = tf.saved_model.load(summary["export"])
    assert "serving_default" in loaded.signatures

    returncode, stderr = seen["third_rerun"]
    assert returncode == 1 and "already holds a finished run (summary.json)" in stderr


# === NaN in a later batch (the Python API) ===

FAMILY_BATCHES = {
    "convlstm": lambda rng: rng.uniform(size=(4, 4, 16, 16, 1)),
    "simvp": lambda rng: rng.uniform(size=(4, 4, 16, 16, 1)),
    "dcgan": lambda rng: rng.uniform(size=(4, 4, 16, 16, 1)),
    "vae": lambda rng: rng.uniform(size=(4, 4, 16, 16, 1)),
    "interpolator": lambda rng: (rng.uniform(size=(4, 2, 16, 16, 1)), rng.uniform(size=(4, 16, 16, 1))),
}


def _batches_with_nan_in_the_third(family, count=5):
    rng = np.random.default_rng(0)
    batches = []
    for index in range(count):
        batch = keras.tree.map_structure(lambda array: array.astype("float32"), FAMILY_BATCHES[family](rng))
        if index == 2:
            first = batch[0] if isinstance(batch, tuple) else batch
            first[1, 0, 3, 3, 0] = np.nan
        batches.append(batch)
    return batches


def _compiled_tiny(family):
    model = models.FAMILIES[family].from_preset("tiny")
    if family == "dcgan":
        model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    else:
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


@pytest.mark.parametrize("family", sorted(FAMILY_BATCHES))
def test_nan_in_the_third_batch_stops_fit_naming_the_step_and_keeps_the_weights_before_it(family):
    keras.utils.set_random_seed(0)
    model = _compiled_tiny(family)
    batches = _batches_with_nan_in_the_third(family)
    stacked = keras.tree.map_structure(lambda *arrays: np.stack(arrays), *batches)
    dataset = tf.data.Dataset.from_tensor_slices(stacked)  # One element per batch, as a batched pipeline gives.
    initial_weights = model.get_weights()
    after_two_steps = []
    snapshot = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: after_two_steps.append(model.get_weights()) if batch == 1 else None
    )
    with pytest.raises(FloatingPointError) as raised:
        model.fit(dataset, epochs=2, verbose=0, callbacks=[snapshot])
    message = str(raised.value)
    assert message.startswith("`fit` stopped at optimizer step 3 (epoch 1, batch 3): the loss became NaN or inf (")
    optimizer = model.g_optimizer if family == "dcgan" else model.optimizer
    weights = model.get_weights()
    if family == "interpolator":  # Keras' own train step: the weights of the epoch's start, restored.
        assert "restored to those of step 0 (the epoch's start)" in message
        assert int(optimizer.iterations.numpy()) == 0
        expected_weights = initial_weights
    else:  # The step was skipped: weights, batch-norm statistics and seed states exactly those after step 2.
        assert "the model keeps the weights of step 2" in message
        assert int(optimizer.iterations.numpy()) == 2
        expected_weights = after_two_steps[0]
    assert len(weights) == len(expected_weights)
    for value, expected in zip(weights, expected_weights):
        assert np.isfinite(value).all()
        np.testing.assert_array_equal(value, expected)


def test_a_callback_that_handles_nan_itself_replaces_the_check(tmp_path):
    keras.utils.set_random_seed(0)
    model = _compiled_tiny("vae")
    batches = _batches_with_nan_in_the_third("vae")
    last_good = callbacks.LastGoodCheckpoint(str(tmp_path / "last_good.keras"))
    dataset = tf.data.Dataset.from_tensor_slices(np.stack(batches))
    model.fit(dataset, epochs=1, verbose=0, callbacks=[last_good])
    assert last_good.stopped_at == 2  # LastGoodCheckpoint's stop, no error: the CLI's path.
    assert all(np.isfinite(value).all() for value in model.get_weights())


JAX_NAN_CHECK = textwrap.dedent(
    """
    import json
    import keras, numpy as np
    from tfvidgen import models

    results = {}
    for family in ("dcgan", "vae"):
        keras.utils.set_random_seed(0)
        model = models.FAMILIES[family].from_preset("tiny")
        if family == "dcgan":
            model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
        else:
            model.compile(optimizer=keras.optimizers.Adam(1e-3))
        rng = np.random.default_rng(0)
        batches = [rng.uniform(size=(4, 4, 16, 16, 1)).astype("float32") for _ in range(5)]
        batches[2][1, 0, 3, 3, 0] = np.nan

        class Batches(keras.utils.PyDataset):
            def __len__(self):
                return len(batches)

            def __getitem__(self, index):
                return batches[index]

        kept = []

        def snapshot(batch, logs):
            if batch == 1:
                model.jax_state_sync()
                kept.append(model.get_weights())

        try:
            model.fit(Batches(), epochs=1, verbose=0, shuffle=False,
                      callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=snapshot)])
            message = None
        except FloatingPointError as error:
            message = str(error)
        weights = model.get_weights()
        results[family] = {
            "message": message,
            "same_as_step_2": all(np.array_equal(a, b) for a, b in zip(weights, kept[0])),
            "finite": all(bool(np.isfinite(a).all()) for a in weights),
        }
    print(json.dumps(results))
    """
)


@pytest.mark.slow
def test_nan_stops_fit_on_jax_too():
    env = dict(ENVIRONMENT, KERAS_BACKEND="jax", PYTHONPATH=os.pathsep.join([WITHOUT_TENSORFLOW, REPO]))
    result = subprocess.run(
        [sys.executable, "-c", JAX_NAN_CHECK], capture_output=True, text=True, env=env, cwd=REPO, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(results) == ["dcgan", "vae"]
    for family, outcome in results.items():
        assert outcome["message"] is not None, family
        assert outcome["message"].startswith("`fit` stopped at optimizer step 3 (epoch 1, batch 3): the loss became")
        assert outcome["same_as_step_2"] and outcome["finite"], (family, outcome)


# === metrics.csv after a restart ===


def test_metrics_csv_keeps_one_row_per_epoch_when_a_run_restarts_at_an_earlier_epoch(tmp_path):
    path = tmp_path / "metrics.csv"
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.MetricsCSV(path)])
    first_rows = list(csv.reader(path.open()))
    # The restart resumes at epoch 1 (its backup), as a failed run rerun in the same directory does.
    model.fit(x, y, initial_epoch=1, epochs=3, verbose=0, callbacks=[callbacks.MetricsCSV(path)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [row[0] for row in rows[1:]] == ["0", "1", "2"]
    assert rows[1] == first_rows[1]  # Epoch 0: the first run's row.
    assert float(rows[2][1]) < float(first_rows[2][1])  # Epoch 1: the restart's (trained further, lower loss).


# === JAX runs import no TensorFlow ===

JAX_RUN_WATCHING_IMPORTS = textwrap.dedent(
    """
    import json, sys

    class Watch:
        seen = []

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "tensorflow":
                self.seen.append(name)
            return None

    sys.meta_path.insert(0, Watch())
    from tfvidgen.cli.main import main

    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "imported": sorted(set(Watch.seen)),
                      "in_modules": "tensorflow" in sys.modules}))
    """
)


@pytest.mark.slow
def test_a_jax_training_run_imports_no_tensorflow_where_it_is_installed(tmp_path):
    assert tf.__version__  # Installed here: the run could import it, and must not.
    out = tmp_path / "run"
    arguments = ["train", "convlstm", "--backend", "jax", "--preset", "tiny", "--steps-per-epoch", "2"]
    arguments += ["--validation-clips", "2", "--out", str(out), "--verbose", "0"]
    env = dict(ENVIRONMENT, KERAS_BACKEND="jax")
    env.pop("TF_CPP_MIN_LOG_LEVEL")  # TensorFlow's start-up lines would show.
    result = subprocess.run(
        [sys.executable, "-c", JAX_RUN_WATCHING_IMPORTS, *arguments],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "imported": [], "in_modules": False}
    assert not [line for line in result.stderr.splitlines() if "cuda" in line.lower() or "oneDNN" in line]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["optimizer_steps"] == 2
    with open(out / "config.json") as file:
        assert json.load(file)["versions"].keys() == {"keras", "python", "jax"}
    reloaded = keras.saving.load_model(out / "model.keras")  # Saved on JAX without TensorFlow, loads here.
    assert type(reloaded).__name__ == "ConvLSTMPredictor" and int(reloaded.optimizer.iterations.numpy()) == 2


def test_the_nan_check_watches_losses_lets_callbacks_end_and_raises_after_fit():
    keras.utils.set_random_seed(0)
    model = _compiled_tiny("vae")
    check = callbacks.FiniteLossCheck()
    check.set_model(model)
    check.on_train_begin()
    check.on_train_batch_end(0, {"loss": 1.0, "psnr": float("inf")})  # A perfect prediction's PSNR is inf.
    check.raise_error()  # Nothing to raise.
    assert check.error is None and not model.stop_training

    ended = []
    batches = _batches_with_nan_in_the_third("vae")
    dataset = tf.data.Dataset.from_tensor_slices(np.stack(batches))
    recorder = keras.callbacks.LambdaCallback(on_train_end=lambda logs: ended.append(True))
    with pytest.raises(FloatingPointError, match="optimizer step 3 \\(epoch 1, batch 3\\)"):
        model.fit(dataset, epochs=3, verbose=0, callbacks=[recorder])
    assert ended == [True]  # on_train_end ran: callbacks close their files before the error.
