"""Findings from committed results: the tables the README and docs/findings.md quote, generated, never typed.

`results/` (RESULTS) holds, per scale, each preset's outputs (`<scale>/<preset>/result.json`, table.csv / .md) and
each run's records (`<scale>/runs/<run>/config.json`, metrics.jsonl kept as metrics.jsonl.gz): no weights. `collect` copies them there from a
`bm reproduce` output folder (adding to what is there: seeds accumulate); `render` turns them into Markdown blocks;
`write` puts every block into the files that quote it, between `<!-- bm:NAME -->` and `<!-- /bm:NAME -->`; `stale`
lists the blocks whose committed text differs from what the results give (CI fails on any).

Torch-free: numpy and scipy only (bm.stats)."""

from bm.findings.blocks import BLOCK, render, stale, write
from bm.findings.records import RESULTS, RUN_FILES, collect
from bm.findings.tables import HEADLINE_FAMILY, headline_probe

__all__ = ["BLOCK", "HEADLINE_FAMILY", "RESULTS", "RUN_FILES", "collect", "headline_probe", "render", "stale", "write"]
