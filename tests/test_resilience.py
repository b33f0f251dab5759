"""Runs that survive interruption, and multi-worker training (subprocesses)."""

import json
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
        200,
        "--backup-every",
        20,
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
    # From zero it would be exactly 3 x 200 = 600. Resumed, the optimizer continues
    # from its backed-up step (a multiple of 20 inside epoch 1) and Keras reruns
    # epochs 1 and 2 in full.
    assert 600 < steps < 800 and (steps - 400) % 20 == 0, steps
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
