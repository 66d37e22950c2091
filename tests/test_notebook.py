"""examples/analysis.ipynb runs for a newcomer: on the committed results alone, in a real kernel, figures inline."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _outputs(cell) -> list:
    """A code cell's outputs as text: streams, Markdown and plain text, figures as a marker (their bytes depend on
    the renderer's version)."""
    kept = []
    for o in cell.outputs:
        data = o.get("data", {})
        kept.append(
            o.get("text")
            or ("<figure>" if "image/png" in data else data.get("text/markdown") or data.get("text/plain"))
        )
    return kept


@pytest.mark.slow
def test_the_notebook_runs_on_the_committed_results_and_ships_their_outputs():
    """Executed afresh in a real kernel: no errors, figures inline, and every cell that reads the committed results
    prints what the shipped notebook shows (re-run `jupyter execute --inplace examples/analysis.ipynb` after
    `bm findings collect`); the cell tagged "trains" (a toy grid) is checked for its outputs' kinds."""
    import nbformat
    from nbclient import NotebookClient

    shipped = nbformat.read(ROOT / "examples" / "analysis.ipynb", as_version=4)
    notebook = nbformat.read(ROOT / "examples" / "analysis.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "examples")}}
    ).execute()
    code = [(a, b) for a, b in zip(shipped.cells, notebook.cells) if b.cell_type == "code"]
    outputs = [o for _, c in code for o in c.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # the headline runs and the toy heatmap
    for old, new in code:
        if "trains" in old.metadata.get("tags", []):
            assert [x[:5] for x in _outputs(new)] == [x[:5] for x in _outputs(old)] and "C_t = " in _outputs(new)[0]
        else:
            assert _outputs(new) == _outputs(old), "".join(new.source)[:60]
    text = "".join(o.get("text", "") for o in outputs)
    assert "= Inv" in text and "headline probe" in text
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
    figures = hook.notebook_page()[1]  # the shipped outputs' figures, as the PNG files the page shows
    assert len(figures) >= 2 and all(
        png[:8] == b"\x89PNG\r\n\x1a\n" and f"]({name})" in page for name, png in figures.items()
    )
