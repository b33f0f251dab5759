"""Every notebook runs top to bottom in smoke mode (tiny presets, a few steps, offline)."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")


def _with_parameters(notebook, parameters):
    """Inserts a cell after the `parameters`-tagged cell, as papermill does."""
    index = next(i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]}))
    return notebook


@pytest.mark.parametrize("name", sorted(name for name in os.listdir(NOTEBOOKS) if name.endswith(".ipynb")))
def test_notebook_runs_in_smoke_mode(name, tmp_path):
    notebook = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    assert "colab.research.google.com" in notebook.cells[0].source  # The "Open in Colab" badge.
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), (
        "commit notebooks without outputs"
    )
    _with_parameters(notebook, {"SMOKE": True, "WORKDIR": str(tmp_path / "work")})
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
    assert "Accelerator:" in text
