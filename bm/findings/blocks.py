"""Every generated block from the results alone (`render`), written between `<!-- bm:NAME -->` and `<!-- /bm:NAME -->`
in the files that quote them (`write`), and the blocks whose committed text is stale (`stale`)."""

from __future__ import annotations

import re
from pathlib import Path

from bm.errors import BMError
from bm.findings.presets import RENDERERS
from bm.findings.records import RESULTS, read_record
from bm.findings.tables import headline_probe

__all__ = ["BLOCK", "render", "stale", "write"]

BLOCK = re.compile(r"(<!-- bm:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /bm:(?P=name) -->)", re.S)


def _measured_block(records: dict[str, dict]) -> str:
    """Which presets of the scale have committed records: seeds, runs (fig5's are its own jobs'), the command that
    wrote them and its commit."""
    lines = ["| preset | seeds | runs | command | commit |", "| --- | --- | --- | --- | --- |"]
    for preset, r in sorted(records.items()):
        seeds = ", ".join(str(s["seed"] if isinstance(s, dict) else s) for s in r.get("seeds", [r.get("seed", 0)]))
        lines.append(
            f"| {preset} | {seeds} | {len(r['runs']) or 'its own'} | `{r['command']}` | {r['provenance']['git_sha'][:10]} |"
        )
    return "\n".join(lines) + "\n"


def render(results: Path = RESULTS) -> dict[str, str]:
    """Every generated block, by name (<scale>.<block>: mini.benign.findings, ...), from `results` alone. The probe
    the other presets' findings use is the headline probe the scale's benign record chooses (K-NN k = 20 on S
    where it has none)."""
    files = [f for f in Path(results).rglob("*") if f.is_file()] if Path(results).is_dir() else []
    blocks = {"results.size": f"{sum(f.stat().st_size for f in files) / 1e6:.1f} MB in {len(files)} files"}
    for scale in sorted(p for p in Path(results).iterdir() if p.is_dir()) if Path(results).is_dir() else []:
        records = {
            f.parent.name: read_record(f) for f in sorted(scale.glob("*/result.json")) if f.parent.name in RENDERERS
        }
        probe = headline_probe(records["benign"])[0] if "benign" in records else "knn_k20"
        blocks[f"{scale.name}.measured"] = _measured_block(records)
        for preset, record in records.items():
            if len(record.get("seeds", ())) >= 2:  # a finding pairs seeds: one seed's record states none
                made = RENDERERS[preset](scale / preset, record, probe)
                blocks.update({f"{scale.name}.{k}": v for k, v in made.items()})
    return blocks


def _replaced(text: str, blocks: dict[str, str], path: Path) -> str:
    def sub(match: re.Match) -> str:
        name = match["name"]
        if name not in blocks:
            raise BMError(f"{path} quotes the block {name!r}, which the results do not give")
        return match.group(1) + blocks[name] + match.group(4)

    return BLOCK.sub(sub, text)


def write(files: list[Path], results: Path = RESULTS, blocks: dict[str, str] | None = None) -> list[Path]:
    """Rewrite every block of `files` from `results` (or from `blocks`, a `render` of them); returns the files that
    changed."""
    blocks, changed = blocks if blocks is not None else render(results), []
    for path in files:
        text = path.read_text(encoding="utf-8")
        new = _replaced(text, blocks, path)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def stale(files: list[Path], results: Path = RESULTS, blocks: dict[str, str] | None = None) -> list[str]:
    """The blocks of `files` whose text differs from what `results` gives (or `blocks`, a `render` of them)."""
    blocks, out = blocks if blocks is not None else render(results), []
    for path in files:
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            if blocks.get(match["name"]) != match["body"]:
                out.append(f"{path}: {match['name']}")
    return out
