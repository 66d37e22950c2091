"""The way in: a short README whose links resolve, and a CLI reference generated from the app (docs/cli.md)."""

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_cli_reference_is_generated_from_the_app():
    page = runpy.run_path(str(ROOT / "docs" / "cli_reference.py"))["page"]()
    assert (ROOT / "docs" / "cli.md").read_text() == page
    assert "## `bm deep-train`" in page and "## `bm capacity deep`" in page  # subcommands included


def test_the_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert links and [link for link in links if not link.startswith("http") and not (ROOT / link).exists()] == []


def test_every_docs_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert pages and {p for p in pages if f": {p}" not in nav} == set()
