"""Screenshots of the built site in a real headless browser (Chromium, through Qt WebEngine): the home, findings and
notebook pages as a reader sees them, Material's navigation and JavaScript included, served over HTTP.

    mkdocs build -d site && python -m pip install PyQt6 PyQt6-WebEngine
    QT_QPA_PLATFORM=offscreen QTWEBENGINE_DISABLE_SANDBOX=1 python docs/screenshots.py site docs/screenshots

Each page is loaded, given a second for its scripts, then drawn at 1280 px wide and as tall as its content (at most
HEIGHT); a page that fails to load stops the script with exit 1.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

PAGES = {"": "site-home.png", "findings/": "site-findings.png", "notebook/": "site-notebook.png"}
WIDTH, HEIGHT = 1280, 2400


def serve(site: Path) -> http.server.ThreadingHTTPServer:
    """The site on a free local port, in a background thread."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(site: Path, out: Path) -> int:
    from PyQt6.QtCore import QSize, QTimer, QUrl
    from PyQt6.QtWebEngineWidgets import QWebEngineView
    from PyQt6.QtWidgets import QApplication

    out.mkdir(parents=True, exist_ok=True)
    server = serve(site)
    app = QApplication(sys.argv[:1])
    view = QWebEngineView()
    view.resize(WIDTH, 900)
    view.show()
    todo, failed = list(PAGES.items()), []

    def grab(name: str, height) -> None:
        view.resize(QSize(WIDTH, min(int(height or 900), HEIGHT)))
        QTimer.singleShot(500, lambda: (view.grab().save(str(out / name)), print(f"wrote {out / name}"), step()))

    def loaded(ok: bool) -> None:
        page, name = todo.pop(0)
        if not ok:
            failed.append(page)
            step()
            return
        js = "document.documentElement.scrollHeight"
        QTimer.singleShot(1000, lambda: view.page().runJavaScript(js, lambda h: grab(name, h)))

    def step() -> None:
        if not todo:
            app.quit()
            return
        view.resize(WIDTH, 900)
        view.load(QUrl(f"http://127.0.0.1:{server.server_address[1]}/{todo[0][0]}"))

    view.loadFinished.connect(loaded)
    step()
    app.exec()
    server.shutdown()
    if failed:
        print(f"could not load {', '.join(failed) or 'the home page'}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
