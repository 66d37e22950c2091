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


def test_the_site_page_of_the_notebook_holds_every_cell_in_order():
    """docs/hooks/notebook.py (the mkdocs hook) turns the notebook into the site's notebook.md: every cell's source in
    order, code as Python blocks, the note on running it after the title."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("notebook_hook", ROOT / "docs" / "hooks" / "notebook.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    page = hook.notebook_markdown()
    cells = json.loads((ROOT / "examples" / "analysis.ipynb").read_text())["cells"]
    at = 0
    for cell in cells:
        source = "".join(cell["source"]).rstrip("\n")
        text = source if cell["cell_type"] == "markdown" else f"```python\n{source}\n```"
        at = page.index(text, at) + len(text)  # each cell after the one before
    assert page.index("!!! note") > page.index("".join(cells[0]["source"]))
