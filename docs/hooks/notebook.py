"""mkdocs hook: examples/analysis.ipynb as the site's page notebook.md, made at build time (its Markdown cells as
they are, its code cells as Python blocks). The notebook ships without outputs; the page says how to run it."""

from __future__ import annotations

import json
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "analysis.ipynb"


def notebook_markdown(path: Path = NOTEBOOK) -> str:
    """The notebook as one Markdown page: its cells in order, a note on running it after the first (its title)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    note = (
        '!!! note "Run it"\n    This page is `examples/analysis.ipynb` without its outputs. It reads the committed '
        'records in `results/`, so it needs no training: from a clone, `pip install -e ".[notebook]"` and `jupyter lab '
        "examples/analysis.ipynb`, or `jupyter execute examples/analysis.ipynb` with the test extra.\n"
    )
    parts = []
    for cell in cells:
        source = "".join(cell["source"]).rstrip("\n")
        parts.append(source + "\n" if cell["cell_type"] == "markdown" else f"```python\n{source}\n```\n")
    return "\n".join(parts[:1] + [note] + parts[1:])


def on_files(files, config):
    from mkdocs.structure.files import File

    files.append(File.generated(config, "notebook.md", content=notebook_markdown()))
    return files
