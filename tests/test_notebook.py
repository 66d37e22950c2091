"""examples/analysis.ipynb runs for a newcomer: on the committed results alone, in a real kernel, figures inline."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_notebook_runs_on_the_committed_results_with_its_figures_inline():
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(ROOT / "examples" / "analysis.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")  # shipped without outputs
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "examples")}}
    ).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the headline runs and the toy heatmap
    text = "".join(o.get("text", "") for o in outputs)
    assert "= Inv" in text and "C_t = " in text and "headline probe" in text
    assert any("| finding |" in o.get("data", {}).get("text/markdown", "") for o in outputs)  # the findings table
