"""Runs that survive interruption, and multi-worker training (subprocesses)."""

import json
import re
import os
import signal
import socket
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

import tfvidgen.models  # noqa: F401  (registers the model classes for keras.models.load_model)

pytestmark = pytest.mark.slow

ENVIRONMENT = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def _command(*arguments):
    return [sys.executable, "-m", "tfvidgen.cli.main", *map(str, arguments)]


def test_killed_run_resumes_from_its_saved_step(tmp_path):
    run = tmp_path / "run"
    arguments = _command(
        "train",
        "--preset",
        "tiny",
        "--epochs",
        3,
        "--steps-per-epoch",
        100,
        "--backup-every",
        10,
        "--out",
        run,
        "--verbose",
        0,
        "--no-export",
    )
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENVIRONMENT)
    metadata = run / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 300
    saved = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            saved = json.loads(metadata.read_text())
        except (OSError, ValueError):
            saved = None
        if saved and saved["epoch"] == 1:  # A mid-epoch backup of the second epoch.
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed mid-epoch"
    assert not (run / "model.keras").exists()

    resumed = subprocess.run(arguments, capture_output=True, text=True, env=ENVIRONMENT, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "(resuming)" in resumed.stdout
    steps = json.loads((run / "summary.json").read_text())["optimizer_steps"]
    # From zero it would be exactly 3 x 100 = 300. Resumed, the optimizer continues
    # from its backed-up step (a multiple of 10 inside epoch 1) and Keras reruns
    # epochs 1 and 2 in full.
    assert 300 < steps < 400 and (steps - 200) % 10 == 0, steps
    rows = (run / "metrics.csv").read_text().strip().splitlines()
    assert rows[0].startswith("epoch") and [row.split(",")[0] for row in rows[1:]] == ["0", "1", "2"]
    model = keras.models.load_model(run / "model.keras")
    future = model.predict_future(np.zeros((1, 2, 16, 16, 1), np.float32), 3).numpy()
    assert future.shape == (1, 3, 16, 16, 1) and np.isfinite(future).all()


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def test_multi_worker_mirrored_strategy_workers_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            subprocess.Popen(
                _command(
                    "train",
                    "--preset",
                    "tiny",
                    "--epochs",
                    2,
                    "--strategy",
                    "multi_worker",
                    "--batch-size",
                    8,
                    "--out",
                    tmp_path / "run",
                    "--verbose",
                    0,
                    "--no-export",
                ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=dict(ENVIRONMENT, TF_CONFIG=json.dumps(config)),
            )
        )
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    assert "MultiWorkerMirroredStrategy on 2 replica(s)" in outputs[0][0]
    chief = keras.models.load_model(tmp_path / "run" / "model.keras")
    other = keras.models.load_model(tmp_path / "run" / "worker-1" / "model.keras")
    assert int(chief.optimizer.iterations) == int(other.optimizer.iterations) == 8
    for first, second in zip(chief.weights, other.weights):
        np.testing.assert_array_equal(first.numpy(), second.numpy())


def _train_arguments(run, steps_per_epoch=100, epochs=2, backup_every=5):
    return _command(
        "train",
        "--preset",
        "tiny",
        "--epochs",
        epochs,
        "--steps-per-epoch",
        steps_per_epoch,
        "--backup-every",
        backup_every,
        "--out",
        run,
        "--verbose",
        0,
        "--no-export",
    )


def _wait_for_backup(process, run, timeout=300):
    metadata = run / "backup" / "training_metadata.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return json.loads(metadata.read_text())
        except (OSError, ValueError):
            time.sleep(0.02)
    raise AssertionError("no backup was written before the run ended")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_after_the_step_and_the_rerun_resumes_exactly_there(tmp_path, sig):
    run = tmp_path / "run"
    arguments = _train_arguments(run)
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENVIRONMENT)
    _wait_for_backup(process, run)
    process.send_signal(sig)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    assert f"stopped by {sig.name} after step" in stdout and "tfvidgen: interrupted" in stderr
    assert not (run / "model.keras").exists()
    saved = json.loads((run / "backup" / "training_metadata.json").read_text())
    stopped_at = int(stdout.split("after step ")[1].split(";")[0])
    assert saved["optimizer_steps"] == stopped_at and saved["epoch"] == 0  # Exactly the step, not the last 5th.
    assert not [name for name in os.listdir(run / "backup") if ".tmp-" in name]

    resumed = subprocess.run(arguments, capture_output=True, text=True, env=ENVIRONMENT, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["resumed_from"]["optimizer_steps"] == stopped_at
    assert summary["optimizer_steps"] == stopped_at + 2 * 100  # Epoch 0 rerun in full from its start, then 1.
    assert not (run / "backup").exists()  # Deleted only after model.keras was written.
    model = keras.models.load_model(run / "model.keras")
    assert int(model.optimizer.iterations) == summary["optimizer_steps"]


def test_kills_at_any_moment_leave_whole_files_and_a_run_that_finishes(tmp_path):
    run = tmp_path / "run"
    arguments = _train_arguments(run, steps_per_epoch=60, epochs=3, backup_every=3)
    for delay in (6.0, 9.0, 12.0):  # Start-up, mid-training, around the final writes.
        process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRONMENT)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=60)
        for name in ("model.keras", "checkpoints/last_good.keras"):
            if (run / name).exists():  # Present means whole: it loads.
                keras.models.load_model(run / name)
        if (run / "backup" / "training_metadata.json").exists():
            json.loads((run / "backup" / "training_metadata.json").read_text())
        if (run / "model.keras").exists():
            break
    already_finished = (run / "summary.json").exists() and not (run / "backup").exists()  # Killed after the end.
    finished = subprocess.run(arguments, capture_output=True, text=True, env=ENVIRONMENT, timeout=600)
    if already_finished:
        assert "already holds a finished run" in finished.stderr
    else:
        assert finished.returncode == 0, finished.stderr[-3000:]
    assert keras.models.load_model(run / "model.keras").optimizer.iterations.numpy() >= 180
    assert not [name for name in os.listdir(run) if ".tmp-" in name]


def test_a_corrupt_backup_is_reported_not_silently_dropped(tmp_path):
    run = tmp_path / "run"
    arguments = _train_arguments(run)
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENVIRONMENT)
    _wait_for_backup(process, run)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    weights = run / "backup" / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # A torn write.
    resumed = subprocess.run(arguments, capture_output=True, text=True, env=ENVIRONMENT, timeout=600)
    assert resumed.returncode == 1
    assert re.search(r"Cannot resume from .*backup: .*latest.weights.h5 does not load", resumed.stderr)
    assert "--overwrite" in resumed.stderr


def test_a_source_without_clips_fails_and_leaves_no_run_directory(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(0).bytes(3000))
    run = tmp_path / "run"
    completed = subprocess.run(
        _command("train", "--preset", "tiny", "--data", tmp_path / "*.mp4", "--out", run),
        capture_output=True,
        text=True,
        env=ENVIRONMENT,
        timeout=600,
    )
    assert completed.returncode == 1
    last = completed.stderr.strip().splitlines()[-1]
    assert last.startswith("tfvidgen: error: No usable video clip for split 'train'")
    assert "empty.mp4: OpenCV cannot open it" in last and "noise.mp4: OpenCV cannot open it" in last
    assert not run.exists()  # Nothing that blocks the next attempt.
