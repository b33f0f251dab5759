"""Ctrl-C while the CLI imports TensorFlow (issue 27, item 13).

`import tensorflow` imports jaxlib through tf.lite when JAX is installed, and
JAX registers a garbage-collector callback: a KeyboardInterrupt raised inside a
gc callback is printed as "Exception ignored" and dropped, so the command went
on and exited 0 (4 of 12 SIGINTs sent during the import of `tfvidgen export`);
others aborted the process inside a C initialiser. A stand-in `tensorflow`
package reproduces the swallowing deterministically: its import sends SIGINT
to its own process from inside a gc callback.
"""

import os
import subprocess
import sys

import pytest

FAKE_TENSORFLOW = """
import gc, os, signal

def _callback(phase, info):
    if phase == "start":
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # The Python handler runs here, inside the gc callback.
            pass

gc.callbacks.append(_callback)
gc.collect()
gc.callbacks.remove(_callback)


class config:
    @staticmethod
    def list_physical_devices():
        return []
"""


@pytest.mark.slow
def test_ctrl_c_during_the_tensorflow_import_interrupts_the_command(tmp_path):
    package = tmp_path / "fake" / "tensorflow"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(FAKE_TENSORFLOW)
    environment = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path / "fake"), os.environ.get("PYTHONPATH")])),
        TF_CPP_MIN_LOG_LEVEL="2",
        TF_ENABLE_ONEDNN_OPTS="1",
    )
    environment.pop("TFVIDGEN_DEBUG", None)
    completed = subprocess.run(
        [sys.executable, "-m", "tfvidgen.cli.main", "export", "--model", str(tmp_path / "m.keras"), "--out", "x"],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        cwd=tmp_path,
    )
    assert completed.returncode == 130, completed.stderr
    assert completed.stderr.strip() == "tfvidgen: interrupted"
