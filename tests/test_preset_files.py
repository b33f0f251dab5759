"""Presets that travel: float16 weights, sha256 checked at load, shipped in the package, fetched once from a URL."""

import hashlib
import http.server
import json
import os
import shutil
import socket
import tarfile
import threading

import h5py
import numpy as np
import pytest

from tfvidgen.models import ConvLSTMPredictor
from tfvidgen.models import SimVPPredictor
from tfvidgen.models import preset_files

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = (
    "convlstm_cpu_small",
    "dcgan_cpu_small",
    "diffusion_cpu_small",
    "interpolator_cpu_small",
    "simvp_cpu_small",
    "vae_cpu_small",
)


def _dtypes(path):
    found = set()
    with h5py.File(path, "r") as file:
        file.visititems(lambda name, item: found.add(item.dtype.name) if isinstance(item, h5py.Dataset) else None)
    return found


@pytest.fixture(scope="module")
def tiny_preset(tmp_path_factory):
    """A tiny ConvLSTM preset made the way the shipped ones are: save_to_preset, then float16 and metadata."""
    directory = tmp_path_factory.mktemp("presets") / "tiny_convlstm"
    model = ConvLSTMPredictor.from_preset("tiny", seed=3)
    model.save_to_preset(directory)
    assert _dtypes(directory / "model.weights.h5") == {"float32"}
    assert preset_files.store_weights_as_float16(directory) is True
    preset_files.write_metadata(directory, metrics={"mse": 1.5}, command="tfvidgen train convlstm --preset tiny")
    return directory, model


def test_the_shipped_presets_are_float16_with_metadata_and_no_saved_model():
    root = preset_files.presets_root()
    assert root == os.path.join(ROOT, "tfvidgen", "presets")
    assert os.path.realpath(os.path.join(ROOT, "saved_models")) == os.path.realpath(root)  # The checkout's pointer.
    for name in SHIPPED:
        directory = os.path.join(root, name)
        assert sorted(os.listdir(directory)) == ["README.md", "config.json", "metadata.json", "model.weights.h5"]
        assert _dtypes(os.path.join(directory, "model.weights.h5")) == {"float16"}
        metadata = preset_files.read_metadata(directory)
        for file in ("config.json", "model.weights.h5"):
            assert metadata["sha256"][file] == preset_files.sha256_of(os.path.join(directory, file))
        # The CLI trained the references; the diffusion model, its benchmark script (a CPU-time budget).
        assert metadata["command"].startswith(("tfvidgen train ", "python benchmarks/diffusion_quality.py train "))
        assert metadata["hardware"] and metadata["metrics"]
    simvp = preset_files.read_metadata(os.path.join(root, "simvp_cpu_small"))["metrics"]["model"]
    assert (simvp["mse"], simvp["ssim"]) == (91.77, 0.777)  # The README's figures.
    total = sum(os.path.getsize(os.path.join(root, name, "model.weights.h5")) for name in SHIPPED)
    # 16.0 MiB (half of the float32 files' 32.0 MiB), then the diffusion model's 16.5 (its backbone twice: the live
    # weights and their average).
    assert total < 33 * 2**20


def test_float16_weights_load_cast_to_the_models_float32(tiny_preset):
    directory, original = tiny_preset
    assert _dtypes(directory / "model.weights.h5") == {"float16"}
    loaded = ConvLSTMPredictor.from_preset(str(directory))
    assert {variable.dtype for variable in loaded.weights} == {"float32"}
    for weight, reference in zip(loaded.get_weights(), original.get_weights()):
        np.testing.assert_array_equal(weight, reference.astype(np.float16).astype(np.float32))
    pretrained = SimVPPredictor.from_preset("moving_mnist")
    assert {variable.dtype for variable in pretrained.weights} == {"float32"}


def test_a_changed_file_is_refused_with_one_line_naming_it_and_both_hashes(tiny_preset, tmp_path):
    directory = tmp_path / "copy"
    shutil.copytree(tiny_preset[0], directory)
    recorded = preset_files.read_metadata(directory)["sha256"]
    config = directory / "config.json"
    config.write_text(config.read_text() + "\n")  # Still valid JSON: only the hash can tell.
    with pytest.raises(ValueError) as error:
        ConvLSTMPredictor.from_preset(str(directory))
    assert str(error.value) == (
        f"{str(config)!r} has sha256 {preset_files.sha256_of(config)}, not the {recorded['config.json']} that "
        "metadata.json records: the file was changed or damaged; restore it (or update metadata.json if the change "
        "is yours)."
    )
    shutil.copy(tiny_preset[0] / "config.json", config)
    # Weights h5py reads without complaint, but other ones: another seed's, stored the same way.
    other = tmp_path / "other"
    ConvLSTMPredictor.from_preset("tiny", seed=4).save_to_preset(other)
    preset_files.store_weights_as_float16(other)
    shutil.copy(other / "model.weights.h5", directory / "model.weights.h5")
    with pytest.raises(ValueError, match=r"model\.weights\.h5' has sha256 [0-9a-f]{64}, not the ") as error:
        ConvLSTMPredictor.from_preset(str(directory))
    assert recorded["model.weights.h5"] in str(error.value) and "\n" not in str(error.value)
    # save_to_preset over a preset with metadata refreshes the hashes, so its own output loads.
    ConvLSTMPredictor.from_preset("tiny", seed=4).save_to_preset(directory)
    assert preset_files.read_metadata(directory)["command"] == "tfvidgen train convlstm --preset tiny"
    ConvLSTMPredictor.from_preset(str(directory))


class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    requests = []

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # Quiet.
        pass


@pytest.fixture
def server(tiny_preset, tmp_path, monkeypatch):
    """A loopback HTTP server (127.0.0.1 only) serving `tiny.tar.gz`, a `.tar.gz` of the tiny preset directory."""
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "tiny.tar.gz", "w:gz") as archive:
        archive.add(tiny_preset[0], arcname="tiny_convlstm")
    digest = hashlib.sha256((served / "tiny.tar.gz").read_bytes()).hexdigest()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    _CountingHandler.requests = []
    handler = lambda *args, **kwargs: _CountingHandler(*args, directory=str(served), **kwargs)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.timeout = 10
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/tiny.tar.gz", digest, tmp_path / "keras_home"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


def test_a_url_with_its_sha256_is_fetched_once_into_the_keras_cache(server, tiny_preset):
    url, digest, keras_home = server
    first = ConvLSTMPredictor.from_preset(f"{url}#sha256={digest}")
    assert _CountingHandler.requests == ["/tiny.tar.gz"]
    second = ConvLSTMPredictor.from_preset(f"{url}#sha256={digest.upper()}", teacher_forcing=None)
    assert _CountingHandler.requests == ["/tiny.tar.gz"]  # The cached archive, its hash checked: no second fetch.
    assert second.teacher_forcing is None
    reference = ConvLSTMPredictor.from_preset(str(tiny_preset[0]))
    for model in (first, second):
        for weight, expected in zip(model.get_weights(), reference.get_weights()):
            np.testing.assert_array_equal(weight, expected)
    cached = sorted(os.listdir(keras_home / "tfvidgen_presets"))
    assert cached == [f"tiny-{digest[:16]}.tar.gz", f"tiny-{digest[:16]}_extracted"]


def test_a_download_with_another_sha256_is_refused_in_one_line_and_not_kept(server):
    url, digest, keras_home = server
    wrong = "0" * 64
    with pytest.raises(ValueError) as error:
        ConvLSTMPredictor.from_preset(f"{url}#sha256={wrong}")
    assert str(error.value) == (
        f"The preset downloaded from {url!r} has sha256 {digest}, not the {wrong} its URL names; refused (check the "
        "hash, or the file on the server)."
    )
    assert _CountingHandler.requests == ["/tiny.tar.gz"]
    assert not (keras_home / "tfvidgen_presets" / f"tiny-{wrong[:16]}.tar.gz").exists()


def test_a_url_without_its_sha256_is_refused_before_any_download(server):
    url = server[0]
    for preset in (url, f"{url}#sha256=abc"):
        with pytest.raises(ValueError) as error:
            ConvLSTMPredictor.from_preset(preset)
        assert str(error.value) == (
            "A preset URL must end in '#sha256=' and the 64 hex digits of the archive's sha256 (e.g. "
            f"'https://host/simvp.tar.gz#sha256=<sha256sum of the file>'). Received: preset={preset!r}"
        )
    assert _CountingHandler.requests == []


def test_an_unreachable_url_is_one_line_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    with socket.socket() as probe:  # A loopback port nothing listens on once closed.
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simvp.tar.gz"
    with pytest.raises(ValueError) as error:
        SimVPPredictor.from_preset(f"{url}#sha256={'a' * 64}")
    message = str(error.value)
    assert message.startswith(f"Could not fetch the preset {url!r}: URL fetch failure on {url}: ")
    assert "Connection refused" in message and "\n" not in message


def test_the_cli_loads_a_preset_directory_and_exports_it(tiny_preset, tmp_path, capsys):
    from tfvidgen.cli import main
    from tfvidgen.cli.loading import load_any

    model = load_any(str(tiny_preset[0]))
    assert type(model).__name__ == "ConvLSTMPredictor" and model.backbone.filters == tiny_preset[1].backbone.filters
    main.main(["export", "--model", str(tiny_preset[0]), "--out", str(tmp_path / "export"), "--no-check"])
    assert (tmp_path / "export" / "1" / "saved_model.pb").is_file()
    description = json.loads((tmp_path / "export" / "1" / "assets.extra" / "tfvidgen.json").read_text())
    assert description["class_name"] == "ConvLSTMPredictor"


def test_an_archive_keras_did_not_extract_is_extracted_once_and_safely(tmp_path):
    # Keras before 3.6 returned the archive itself from get_file(extract=True).
    import io
    import tarfile

    from tfvidgen.models import preset_files

    archive = tmp_path / "preset.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b'{"class_name": "X"}'
        member = tarfile.TarInfo("simvp/config.json")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    extracted = preset_files._extract_once(str(archive))
    assert extracted == str(archive) + "_extracted"
    assert (tmp_path / "preset.tar.gz_extracted" / "simvp" / "config.json").read_bytes() == data
    assert preset_files._extract_once(str(archive)) == extracted  # Once.

    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        member = tarfile.TarInfo("../outside.json")
        member.size = 2
        tar.addfile(member, io.BytesIO(b"{}"))
    with pytest.raises(tarfile.TarError):
        preset_files._extract_once(str(evil))
    assert not (tmp_path / "outside.json").exists() and not (tmp_path / "evil.tar.gz_extracted").exists()
