import inspect
import os
import re
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest

from tfvidgen import export
from tfvidgen.export import saved_model as saved_model_lib
from tfvidgen.models import FAMILIES
from tfvidgen.models import VideoDCGAN

# What each role serves (the family may add its own: `extra_signatures()`, e.g. the VAE's `encode`).
ROLE_SIGNATURES = {
    "prediction": {"serving_default", "predict", "rollout"},
    "generation": {"serving_default", "sample", "decode"},
    "interpolation": {"serving_default", "interpolate", "interpolate_clip"},
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    results = {}
    for family, cls in FAMILIES.items():
        keras.utils.set_random_seed(0)
        seeded = "seed" in inspect.signature(cls).parameters  # SimVP and the interpolator draw nothing.
        model = cls.from_preset("tiny", **({"seed": 1} if seeded else {}))
        results[family] = (model, export.export_for_serving(model, base / family, uint8=True))
    return results


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_serves_through_the_c_api(exported, family):
    model, path = exported[family]
    assert path.endswith(os.sep + "1")
    results = export.check_servable(path, model=model)
    expected = ROLE_SIGNATURES[model.role] | set(model.extra_signatures())
    assert expected == {name for name in results if not name.endswith("_uint8")}
    assert export.read_description(path)["role"] == model.role and export.read_description(path)["family"] == family
    video_inputs = {
        name
        for name, inputs in export.read_description(path)["signatures"].items()
        if any(len(spec["shape"] or ()) == 5 for spec in inputs.values())
    }
    assert {name for name in results if name.endswith("_uint8")} == {
        name + "_uint8" for name in expected & (video_inputs | {"sample"}) - {"serving_default"}
    }
    for signature, result in results.items():
        assert set(result["output_diffs"]) == set(result["shapes"]), signature
        for output, (dtype, difference) in result["output_diffs"].items():
            # Videos out of a uint8 signature are uint8; everything else stays float.
            is_video = len(result["shapes"][output]) == 5
            assert (dtype == "uint8") == (signature.endswith("_uint8") and is_video), (signature, output, dtype)
            # uint8 frames may round the other way; float outputs must agree closely.
            assert difference <= (1.0 if dtype == "uint8" else 1e-4), (signature, output, dtype, difference)


def _cli_show(path):
    executable = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    completed = subprocess.run(
        [executable, "show", "--dir", path, "--all"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"),
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    blocks = re.split(r"signature_def\['([^']+)'\]:", completed.stdout)[1:]
    return dict(zip(blocks[::2], blocks[1::2]))


def test_saved_model_cli_shows_names_dtypes_and_dynamic_dims(exported):
    convlstm = _cli_show(exported["convlstm"][1])
    assert {"serving_default", "predict", "rollout", "predict_uint8", "rollout_uint8"} <= set(convlstm)
    rollout = convlstm["rollout"]
    assert re.search(r"inputs\['context'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, -1, 16, 16, 1\)", rollout)
    assert re.search(r"inputs\['num_future_frames'\] tensor_info:\s+dtype: DT_INT32\s+shape: unknown_rank", rollout)
    assert re.search(
        r"outputs\['future_frames'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, -1, 16, 16, 1\)", rollout
    )
    assert re.search(r"inputs\['frames'\] tensor_info:\s+dtype: DT_UINT8", convlstm["predict_uint8"])
    vae = _cli_show(exported["vae"][1])
    assert re.search(r"outputs\['z_mean'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, 8\)", vae["encode"])
    assert re.search(
        r"inputs\['clips'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, 4, 16, 16, 1\)", vae["reconstruct"]
    )
    dcgan = _cli_show(exported["dcgan"][1])
    assert re.search(
        r"inputs\['latents'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, 16\)", dcgan["serving_default"]
    )
    assert re.search(
        r"outputs\['clips'\] tensor_info:\s+dtype: DT_FLOAT\s+shape: \(-1, 4, 16, 16, 1\)", dcgan["sample"]
    )


def test_dynamic_batch_time_and_scalar_forms(exported):
    model, path = exported["convlstm"]
    context = np.random.default_rng(1).random((3, 5, 16, 16, 1)).astype("float32")
    outputs, report = export.run_through_c_api(
        path, {"rollout": {"context": context, "num_future_frames": np.array([7], np.int32)}}
    )
    assert outputs["rollout"]["future_frames"].shape == (3, 7, 16, 16, 1)
    np.testing.assert_allclose(outputs["rollout"]["future_frames"], model.predict_future(context, 7).numpy(), atol=1e-5)
    outputs, _ = export.run_through_c_api(
        path, {"rollout": {"context": context, "num_future_frames": np.array(0, np.int32)}}
    )
    assert outputs["rollout"]["future_frames"].shape == (3, 0, 16, 16, 1)
    gan, gan_path = exported["dcgan"]
    outputs, _ = export.run_through_c_api(
        gan_path, {"sample": {"num_samples": np.array(3, np.int32), "seed": np.array([9], np.int32)}}
    )
    np.testing.assert_allclose(outputs["sample"]["clips"], gan.sample(3, seed=9).numpy(), atol=1e-5)


@pytest.mark.parametrize(
    "family, signature, inputs, message",
    [
        (
            "convlstm",
            "predict",
            {"frames": np.zeros((1, 2, 16, 16, 3), np.float32)},
            r"`frames` must have shape \(batch, frames, 16, 16, 1\)",
        ),
        (
            "convlstm",
            "predict",
            {"frames": np.zeros((2, 16, 16, 1), np.float32)},
            r"`frames` must have shape \(batch, frames, 16, 16, 1\)",
        ),
        (
            "convlstm",
            "predict",
            {"frames": np.zeros((1, 2, 16, 16, 1, 1), np.float32)},  # Sizes match; one dimension too many.
            r"`frames` must have shape \(batch, frames, 16, 16, 1\)",
        ),
        (
            "convlstm",
            "rollout",
            {"context": np.zeros((1, 2, 16, 16, 1), np.float32), "num_future_frames": np.array([2, 3], np.int32)},
            r"`num_future_frames` must be a scalar or have shape \[1\]",
        ),
        (
            "convlstm",
            "rollout",
            {"context": np.zeros((1, 2, 16, 16, 1), np.float32), "num_future_frames": np.array(-1, np.int32)},
            r"`num_future_frames` must be >= 0",
        ),
        (
            "convlstm",
            "rollout",  # 2**31 - 1 overflowed the loop bound, and the rollout returned no frame.
            {"context": np.zeros((1, 2, 16, 16, 1), np.float32), "num_future_frames": np.array(2**31 - 1, np.int32)},
            r"`num_future_frames` must be at most 100000",
        ),
        (
            "vae",
            "sample",
            {"num_samples": np.array(2**31 - 1, np.int32), "seed": np.array(0, np.int32)},
            r"`num_samples` must be at most 100000",
        ),
        (
            "vae",
            "encode",
            {"clips": np.zeros((1, 5, 16, 16, 1), np.float32)},
            r"`clips` must have shape \(batch, 4, 16, 16, 1\)",
        ),
        (
            "dcgan",
            "serving_default",
            {"latents": np.zeros((1, 3), np.float32)},
            r"`latents` must have shape \(batch, 16\)",
        ),
    ],
)
def test_wrong_requests_fail_naming_the_expected_shape(exported, family, signature, inputs, message):
    _, path = exported[family]
    _, report = export.run_through_c_api(path, {signature: inputs})
    assert re.search(message, report["runs"][0]["error"]), report["runs"][0]["error"]


def test_versions_increment_and_are_never_overwritten(tmp_path):
    model = VideoDCGAN.from_preset("tiny")
    first = export.export_for_serving(model, tmp_path / "gan", warmup=False)
    second = export.export_for_serving(model, tmp_path / "gan", warmup=False)
    assert (os.path.basename(first), os.path.basename(second)) == ("1", "2")
    assert export.versions(tmp_path / "gan") == [1, 2]
    with pytest.raises(FileExistsError, match="Version 2 already exists"):
        export.export_for_serving(model, tmp_path / "gan", version=2)
    marker = os.path.join(second, "marker")
    open(marker, "w").close()
    export.export_for_serving(model, tmp_path / "gan", version=2, overwrite=True, warmup=False)
    assert not os.path.exists(marker)
    assert export.export_for_serving(model, tmp_path / "gan", version=7, warmup=False).endswith("7")
    assert export.latest_version(tmp_path / "gan").endswith("7")
    assert sorted(os.listdir(tmp_path / "gan")) == ["1", "2", "7"]  # No temporary directory left.
    with pytest.raises(ValueError, match="`version` must be a positive integer"):
        export.export_for_serving(model, tmp_path / "gan", version=0)


def _crash_after_writing(build_archive, crash):
    """Wraps `build_archive` so `write_out` writes the SavedModel, then `crash()` runs."""

    def build(model, endpoints):
        archive = build_archive(model, endpoints)
        write_out = archive.write_out

        def write_then_crash(path, **kwargs):
            write_out(path, **kwargs)
            crash()

        archive.write_out = write_then_crash
        return archive

    return build


def test_a_crash_during_export_leaves_no_version_directory(tmp_path, monkeypatch):
    def interrupt():
        raise KeyboardInterrupt("killed while writing")

    monkeypatch.setattr(
        saved_model_lib, "build_archive", _crash_after_writing(saved_model_lib.build_archive, interrupt)
    )
    with pytest.raises(KeyboardInterrupt):
        export.export_for_serving(VideoDCGAN.from_preset("tiny"), tmp_path / "gan")
    assert os.listdir(tmp_path / "gan") == []
    assert export.versions(tmp_path / "gan") == []


def test_killed_export_process_leaves_only_a_hidden_temporary(tmp_path):
    # A real kill skips all cleanup: what is left must not look like a version to TF Serving.
    script = (
        "import os, sys\n"
        f"sys.path.insert(0, {os.path.dirname(__file__)!r})\n"
        "from test_export import _crash_after_writing\n"
        "from tfvidgen import export\n"
        "from tfvidgen.export import saved_model as lib\n"
        "from tfvidgen.models import VideoDCGAN\n"
        "lib.build_archive = _crash_after_writing(lib.build_archive, lambda: os._exit(9))\n"
        f"export.export_for_serving(VideoDCGAN.from_preset('tiny'), {str(tmp_path / 'gan')!r})\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=300)
    assert completed.returncode == 9, completed.stderr[-2000:]
    left = os.listdir(tmp_path / "gan")
    assert len(left) == 1 and left[0].startswith(".tmp-1-")
    assert os.path.exists(tmp_path / "gan" / left[0] / "saved_model.pb")  # Written, but never renamed.
    assert export.versions(tmp_path / "gan") == []
    # The next export cleans up what the dead writer left.
    export.export_for_serving(VideoDCGAN.from_preset("tiny"), tmp_path / "gan", warmup=False)
    assert os.listdir(tmp_path / "gan") == ["1"]


def test_description_and_warmup_file(exported):
    _, path = exported["vae"]
    description = export.read_description(path)
    assert description["class_name"] == "VideoVAE" and description["config"]["latent_dim"] == 8
    assert description["signatures"]["sample"] == {
        "num_samples": {"dtype": "int32", "shape": None},
        "seed": {"dtype": "int32", "shape": None},
    }
    requests = export.read_warmup_requests(os.path.join(path, saved_model_lib.WARMUP_FILE))
    assert set(requests) == set(description["signatures"])
    assert requests["reconstruct"]["clips"].shape == (1, 4, 16, 16, 1)  # One example clip keeps the file small.


def test_reuse_inside_keras_with_tfsm_layer(exported):
    model, path = exported["convlstm"]
    layer = keras.layers.TFSMLayer(path, call_endpoint="predict")
    frames = np.random.default_rng(2).random((2, 3, 16, 16, 1)).astype("float32")
    outputs = layer(frames)
    np.testing.assert_allclose(outputs["next_frames"].numpy(), model(frames).numpy(), atol=1e-5)


def test_servability_errors(tmp_path, exported):
    with pytest.raises(FileNotFoundError, match="No SavedModel version directory"):
        export.check_servable(tmp_path)
    copy = tmp_path / "copy" / "1"
    shutil.copytree(exported["dcgan"][1], copy)
    os.remove(copy / saved_model_lib.WARMUP_FILE)
    with pytest.raises(export.ServabilityError, match="no warm-up requests"):
        export.check_servable(copy)
    keras.utils.set_random_seed(123)  # Other initial weights than the exported model's.
    different = VideoDCGAN.from_preset("tiny")
    with pytest.raises(export.ServabilityError, match="differs from the reference"):
        export.check_servable(exported["dcgan"][1], model=different)
