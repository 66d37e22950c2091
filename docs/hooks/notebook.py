"""mkdocs hook: examples/analysis.ipynb as the site's page notebook.md, made at build time: its Markdown cells as they
are, its code cells as Python blocks, each followed by its committed outputs (printed text, Markdown, figures as PNG
files beside the page). The notebook ships executed on the committed results; tests/test_notebook.py re-executes it
and checks the outputs of the cells that read them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "analysis.ipynb"


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else value


def notebook_page(path: Path = NOTEBOOK) -> tuple[str, dict[str, bytes]]:
    """The notebook as one Markdown page (a note on running it after its title) and its figures by file name."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    note = (
        '!!! note "Run it"\n    This page is `examples/analysis.ipynb` with the outputs it ships. It reads the '
        "committed records in `results/`, so it needs no training: from a clone, "
        '`pip install -e ".[notebook]"` and `jupyter lab examples/analysis.ipynb`, or `jupyter execute '
        "examples/analysis.ipynb` with the test extra.\n"
    )
    parts, figures = [], {}
    for cell in cells:
        source = _text(cell["source"]).rstrip("\n")
        if cell["cell_type"] == "markdown":
            parts.append(source + "\n")
            continue
        parts.append(f"```python\n{source}\n```\n")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output["output_type"] == "stream":
                parts.append(f"```text\n{_text(output['text']).rstrip()}\n```\n")
            elif "image/png" in data:
                name = f"notebook-figure-{len(figures) + 1}.png"
                figures[name] = base64.b64decode(_text(data["image/png"]))
                parts.append(f"![a figure of the notebook]({name})\n")
            elif "text/markdown" in data:
                parts.append(_text(data["text/markdown"]).rstrip() + "\n")
            elif "text/plain" in data:
                parts.append(f"```text\n{_text(data['text/plain']).rstrip()}\n```\n")
    return "\n".join(parts[:1] + [note] + parts[1:]), figures


def notebook_markdown(path: Path = NOTEBOOK) -> str:
    """The page's Markdown alone."""
    return notebook_page(path)[0]


def on_files(files, config):
    from mkdocs.structure.files import File

    page, figures = notebook_page()
    files.append(File.generated(config, "notebook.md", content=page))
    for name, png in figures.items():
        files.append(File.generated(config, name, content=png))
    return files
