"""The gpu_cpu_small presets: the CPU references' networks (small enough to ship) with GPU batch sizes."""

import os

import pytest

from tfvidgen.models import FAMILIES

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "train_on_gpu.sh")


@pytest.mark.parametrize("family, batch_size", [("simvp", 64), ("dcgan", 64), ("vae", 128)])
def test_gpu_presets_are_the_cpu_networks_with_gpu_batches(family, batch_size):
    presets = FAMILIES[family].presets
    assert presets["gpu_cpu_small"]["config"] == presets["cpu_small"]["config"]
    assert presets["gpu_cpu_small"]["training"]["batch_size"] == batch_size
    assert presets["cpu_small"]["training"]["batch_size"] < batch_size


def test_the_gpu_script_trains_them_inside_ten_minutes():
    with open(SCRIPT) as file:
        script = file.read()
    assert "presets=(gpu_cpu_small gpu_cpu_small gpu_cpu_small openstl_convlstm_s)" in script
    assert 'families="simvp,dcgan,vae"' in script and "--mixed-precision bfloat16" in script
    minutes = script.split('minutes="', 1)[1].split('"', 1)[0].split(",")
    assert [float(value) for value in minutes[:3]] == [3.5, 2.0, 2.0] and sum(map(float, minutes[:3])) <= 8
