"""`bm report` on hand-made result records: sections in preset order per scale, unfinished presets named."""

import json

from bm.reproduce.report import report
from tests.conftest import run


def fake(out, scale, name, finished=True):
    folder = out / scale / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    if finished:
        record = {
            "preset": name,
            "scale": scale,
            "title": f"Title of {name}",
            "kind": "figure",
            "what": f"what {name} runs",
            "summary": [f"headline of {name} at {scale}"],
            "outputs": ["table.csv", "table.md", "figure.png"],
            "table_md": f"| x |\n| --- |\n| {name} |\n",
            "runs": {"a": {}, "b": {}},
            "seconds": 12.0,
            "finished": "2026-11-23 10:00:00",
            "bm_version": "0",
        }
        (folder / "result.json").write_text(json.dumps(record))


def test_report_gathers_finished_presets_in_order(tmp_path):
    fake(tmp_path, "mini", "fig12")
    fake(tmp_path, "mini", "table2")
    fake(tmp_path, "mini", "fig3", finished=False)
    fake(tmp_path, "full", "fig13")
    long = tmp_path / "full" / "fig13" / "result.json"
    record = json.loads(long.read_text())
    long.write_text(json.dumps({**record, "table_md": "| n |\n| --- |\n" + "".join(f"| {i} |\n" for i in range(30))}))
    (tmp_path / "mini" / "runs").mkdir()
    text = report(tmp_path).read_text()
    assert text.index("## full scale") < text.index("## mini scale")
    mini = text[text.index("## mini scale") :]
    assert mini.index("### table2: Title of table2") < mini.index("### fig12: Title of fig12")
    assert "- headline of fig12 at mini" in mini and "| fig12 |" in mini and "![fig12](mini/fig12/figure.png)" in mini
    assert "Not finished" in mini and "fig3" in mini.split("Not finished")[1] and "### fig3" not in text
    assert "2 deep-train runs" in text
    assert "| 23 |" in text and "| 24 |" not in text and "6 more rows in `table.csv`" in text


def test_report_without_finished_presets_is_a_one_line_error(capsys, tmp_path):
    fake(tmp_path, "mini", "fig3", finished=False)
    code, _, err = run(capsys, ["report", str(tmp_path)])
    assert code == 2 and "no finished presets" in err and err.count("\n") == 1
    code, _, err = run(capsys, ["report", str(tmp_path / "nowhere")])
    assert code == 2 and "not a folder" in err
