"""What a wheel holds: every file the code loads at run time, not just the .py files."""

import subprocess
import sys
import zipfile

import pytest

pytestmark = pytest.mark.slow


def test_the_wheel_ships_the_feature_classifier_and_the_c_api_runner(tmp_path):
    root = __file__.rsplit("/tests/", 1)[0]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), root],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("tfvidgen-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tfvidgen/assets/moving_mnist_features/classifier.keras" in names  # Missing before: .py files only.
    assert "tfvidgen/export/capi_runner.py" in names
    assert zipfile.ZipFile(wheel).getinfo("tfvidgen/assets/moving_mnist_features/classifier.keras").file_size > 10**6
    # The pretrained presets (issue 29): from_preset("moving_mnist") resolves from an install, not only a checkout.
    presets = {name for name in names if name.startswith("tfvidgen/presets/")}
    for family in ("convlstm", "simvp", "dcgan", "vae", "interpolator", "diffusion"):
        for file in ("config.json", "model.weights.h5", "metadata.json", "README.md"):
            assert f"tfvidgen/presets/{family}_cpu_small/{file}" in presets
    assert not any("/1/" in name or name.endswith("saved_model.pb") for name in presets)  # No stored SavedModel.
