"""Every notebook runs top to bottom in smoke mode (tiny presets, a few steps, offline) on TensorFlow and on JAX,
the JAX run with TensorFlow unimportable (as on Colab's TPU runtime)."""

import os
import re

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
NOTEBOOKS = os.path.join(REPO, "notebooks")
NAMES = sorted(name for name in os.listdir(NOTEBOOKS) if name.endswith(".ipynb"))
WITHOUT_TENSORFLOW = os.path.join(TESTS, "without_tensorflow")
TENSORFLOW_CHECK = 'import sys\nprint("tensorflow imported:", "tensorflow" in sys.modules)'


def _with_parameters(notebook, parameters):
    """Inserts a cell after the `parameters`-tagged cell, as papermill does."""
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    return notebook


def _install_cell(notebook):
    (cell,) = [cell for cell in notebook.cells if cell.cell_type == "code" and '"pip", "install"' in cell.source]
    return cell.source


@pytest.mark.parametrize("name", NAMES)
def test_install_cell_installs_what_a_user_can_reach(name):
    with open(os.path.join(REPO, "pyproject.toml")) as file:
        (project_url,) = re.findall(r'^Source = "(.+)"$', file.read(), re.MULTILINE)
    source = _install_cell(nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4))
    assert f'"tfvidgen @ git+{project_url}"' in source  # The project's repository when nothing local is there.
    assert '"-e", "/content/tfvidgen"' in source and '"/content/tfvidgen-*.whl"' in source  # A checkout, a wheel.
    assert '["--no-deps"]' in source  # JAX: no TensorFlow pulled onto a TPU runtime.
    assert "git clone" not in source


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_in_smoke_mode(name, backend, tmp_path, monkeypatch):
    notebook = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    assert "colab.research.google.com" in notebook.cells[0].source  # The "Open in Colab" badge.
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    _with_parameters(notebook, {"SMOKE": True, "WORKDIR": str(tmp_path / "work")})
    notebook.cells.append(nbformat.v4.new_code_cell(TENSORFLOW_CHECK))
    monkeypatch.setenv("KERAS_BACKEND", backend)  # The kernel inherits this process's environment.
    if backend == "jax":  # TensorFlow unimportable, as where it is not installed.
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([WITHOUT_TENSORFLOW, REPO]))
        # Smoke shapes are tiny: XLA:CPU's compiles, not the steps, take the time (every weight initializer of a new
        # shape is one). Unoptimized code compiles faster: 02_video_dcgan 46 s without it, 26 s with it; 04 40 and 18 s.
        monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=0")
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # Raises CellExecutionError on any failing cell.
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])]
    images = [
        output for output in outputs if "image/gif" in output.get("data", {}) or "image/png" in output.get("data", {})
    ]
    assert images, "the notebook must show pictures"
    assert any("image/gif" in output.get("data", {}) for output in images), "an inline animation"
    text = "".join(output.get("text", "") for output in outputs)
    assert "Accelerator:" in text and f"| backend: {backend}\n" in text
    assert f"tensorflow imported: {backend == 'tensorflow'}\n" in text
    assert "Installing tfvidgen" not in text  # The install cell skips an installed tfvidgen (this checkout).
    if backend == "jax" and name in ("01_convlstm_moving_mnist.ipynb", "04_serving.ipynb"):
        assert "No SavedModel on JAX: export needs TensorFlow. Where it is installed: tfvidgen export --model" in text
    assert (tmp_path / "work").is_dir()
