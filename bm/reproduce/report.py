"""`bm report OUT`: every finished preset under OUT (its result.json) gathered into OUT/report.md."""

from __future__ import annotations

import time
from pathlib import Path

from bm import __version__
from bm.errors import BMError
from bm.reproduce.outputs import markdown_table
from bm.reproduce.presets import PRESETS
from bm.reproduce.scales import RECIPES, SCALES
from bm.runs import atomic_write_text

__all__ = ["report"]

MAX_ROWS = 24  # longer tables are cut in the report (table.csv has them all)


def _section(record: dict, folder: Path, out: Path) -> list[str]:
    lines = [f"### {record['preset']}: {record['title']} ({record['scale']} scale)", "", record["what"] + ".", ""]
    lines += [f"- {s}" for s in record["summary"]] + [""]
    table = record["table_md"].rstrip().splitlines()
    lines += (
        table[: 2 + MAX_ROWS]
        + ([f"| ... {len(table) - 2 - MAX_ROWS} more rows in `table.csv` |"] if len(table) > 2 + MAX_ROWS else [])
        + [""]
    )
    for name in record["outputs"]:
        if name.endswith(".png"):
            lines += [f"![{record['preset']}]({(folder / name).relative_to(out).as_posix()})", ""]
    n = len(record["runs"])
    runs = f"{n} deep-train run{'' if n == 1 else 's'}" if n else "its own job (runs inside its folder)"
    lines += [
        f"{runs}; outputs in `{folder.relative_to(out).as_posix()}/` "
        f"(finished {record['finished']}, {record['seconds']:.0f} s, bm {record['bm_version']}).",
        "",
    ]
    return lines


def _result(path: Path) -> dict:
    """A preset's result.json, or one BMError naming it when it is not a readable record."""
    from bm.runs import read_json

    try:
        record = read_json(
            path,
            {
                "preset": str,
                "title": str,
                "scale": str,
                "what": str,
                "summary": list,
                "table_md": str,
                "outputs": list,
                "runs": dict,
                "finished": str,
                "seconds": (int, float),
                "bm_version": str,
            },
        )
    except BMError as e:
        raise BMError(f"{e}; rerun that preset to rewrite it") from None
    if not all(isinstance(x, str) for x in record["summary"] + record["outputs"]):
        raise BMError(f"{path}: 'summary' and 'outputs' must list strings; rerun that preset to rewrite it")
    return record


RUN_COLUMNS = (
    "path",
    "augment",
    "label_noise",
    "model.projector_width",
    "epochs",
    "seed",
    "epoch",
    "last.knn",
    "best.knn",
    "last.train_acc",
)


def _runs(out: Path) -> list[str]:
    """Every deep run under OUT (bm.results.collect) as one table: what each trained and where it ended."""
    import pandas as pd

    from bm.results import collect

    frame = collect(out)
    frame = frame[frame.kind == "deep"] if not frame.empty else frame
    if frame.empty:
        return []
    columns = [c for c in RUN_COLUMNS if c in frame.columns]
    rows = [["—" if pd.isna(row[c]) else row[c] for c in columns] for _, row in frame.iterrows()]  # — : not measured
    return [
        "## Every run",
        "",
        f"{len(rows)} deep runs under `{out}` (`bm results {out}` for all columns).",
        "",
        markdown_table(columns, rows),
    ]


def report(out: Path) -> Path:
    """Write OUT/report.md from OUT/<scale>[-<recipe>]/<preset>/result.json; returns its path."""
    out = Path(out)
    if not out.is_dir():
        raise BMError(f"{out} is not a folder; give the --out of bm reproduce")
    order = {name: i for i, name in enumerate(PRESETS)}
    lines = [
        "# Benign memorization: reproduced results",
        "",
        f"Gathered {time.strftime('%Y-%m-%d %H:%M')} by bm {__version__} from `{out}`.",
        "",
    ]
    found = 0
    roots = [(scale, None) for scale in SCALES] + [("full", r) for r in RECIPES if r != "table6"]
    for scale, recipe in roots:
        root = out / (scale if recipe is None else f"{scale}-{recipe}")
        folders = sorted((p for p in root.glob("*") if p.name in PRESETS), key=lambda p: order[p.name])
        finished = [p for p in folders if (p / "result.json").exists()]
        if not folders:
            continue
        lines += [f"## {scale} scale" + (f", recipe {recipe}" if recipe else ""), ""]
        for folder in finished:
            lines += _section(_result(folder / "result.json"), folder, out)
        unfinished = [p.name for p in folders if p not in finished]
        if unfinished:
            again = f"bm reproduce NAME --scale {scale}" + (f" --recipe {recipe}" if recipe else "")
            lines += [f"Not finished (rerun `{again}` to resume): {', '.join(unfinished)}.", ""]
        found += len(finished)
    if not found:
        raise BMError(f"no finished presets under {out}; run `bm reproduce NAME --out {out}` first")
    lines += _runs(out)
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path
