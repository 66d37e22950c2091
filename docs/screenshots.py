"""Static screenshots of the built site's home and findings pages (docs/screenshots/*.png), without a browser: each
page rendered to PDF by WeasyPrint (Material's JavaScript and navigation left out) and its content page to PNG.

    mkdocs build -d site && python -m pip install weasyprint pymupdf && python docs/screenshots.py site docs/screenshots
"""

from __future__ import annotations

import sys
from pathlib import Path

PAGES = {"index.html": "site-home.png", "findings/index.html": "site-findings.png"}
CSS = "@page { size: 1280px 2400px; margin: 0 } .md-sidebar, .md-header, .md-tabs, .md-footer { display: none !important }"


def main(site: Path, out: Path) -> None:
    import pymupdf
    import weasyprint

    out.mkdir(parents=True, exist_ok=True)
    for page, name in PAGES.items():
        pdf = weasyprint.HTML(filename=str(site / page)).write_pdf(stylesheets=[weasyprint.CSS(string=CSS)])
        pages = [p.get_pixmap(dpi=60) for p in pymupdf.open(stream=pdf, filetype="pdf")]
        max(pages, key=lambda p: len(p.tobytes("png"))).save(str(out / name))  # the page with the content


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
