"""The numbers of the README and docs/findings.md are generated from the committed results (bm findings)."""

import re
from pathlib import Path

import pytest

from bm.errors import BMError
from bm.findings import BLOCK, render, stale, write

ROOT = Path(__file__).resolve().parents[1]
QUOTING = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]  # bm findings' default pages


def test_every_generated_block_matches_the_committed_results():
    assert stale(QUOTING, ROOT / "results") == []


def test_every_quoted_block_is_given_by_the_results_and_none_is_empty():
    blocks = render(ROOT / "results")
    quoted = [m for f in QUOTING for m in BLOCK.finditer(f.read_text())]
    assert quoted and all(m["name"] in blocks and m["body"].strip() for m in quoted)


def test_write_regenerates_emptied_blocks_identically(tmp_path):
    quoting = [p for p in QUOTING if BLOCK.search(p.read_text())]
    assert len(quoting) >= 3 and len({p.name for p in quoting}) == len(quoting)  # README, home, findings
    for path in quoting:
        emptied = BLOCK.sub(lambda m: m.group(1) + m.group(4), path.read_text())
        (tmp_path / path.name).write_text(emptied)
    copies = [tmp_path / p.name for p in quoting]
    assert write(copies, ROOT / "results") == copies
    assert [c.read_text() for c in copies] == [p.read_text() for p in quoting]


@pytest.mark.slow
def test_a_block_the_results_do_not_give_is_one_error(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("<!-- bm:mini.nothing -->\n<!-- /bm:mini.nothing -->\n")
    with pytest.raises(BMError, match="mini.nothing"):
        write([page], ROOT / "results")
    assert stale([page], ROOT / "results") == [f"{page}: mini.nothing"]


def test_numbers_in_the_headline_are_not_typed_outside_the_blocks():
    """The benign lead's numbers appear in the README only inside generated blocks."""
    readme = (ROOT / "README.md").read_text()
    outside = BLOCK.sub("", readme)
    lead = render(ROOT / "results")["mini.benign.lead"]
    numbers = set(re.findall(r"[+-]?0\.\d{3}", lead))
    assert numbers and not numbers & set(re.findall(r"[+-]?0\.\d{3}", outside))


def test_the_gradient_blocks_are_the_seeds_means_and_a_paired_test_of_the_log_ratio(tmp_path):
    """Three seeds of bm gradients records (made up): the table's means and ranges, and the init claim's effect =
    the mean log ratio, with its t-interval."""
    import json

    import numpy as np
    from scipy import stats

    label = {"0": [0.5, 0.6, 0.7], "10": [0.9, 1.0, 1.1], "100": [1.2, 1.3, 1.4]}
    for k in range(3):
        epochs = {
            e: {"label_total": {"ratio": r[k]}, "total": {"ratio": 1.0 + k / 10}, "permuted_fit": k / 4}
            for e, r in label.items()
        }
        folder = tmp_path / "mini" / "gradients" / f"seed{k}"
        folder.mkdir(parents=True)
        (folder / "gradients.json").write_text(json.dumps({"epochs": epochs}))
    blocks = render(tmp_path)
    table = blocks["mini.gradients.table"]
    assert "| 0 | 0.600 [0.500, 0.700] | 1.100 [1.000, 1.200] | 0.250 |" in table
    assert "| 100 | 1.300 [1.200, 1.400] |" in table
    rows = [line for line in blocks["mini.gradients.findings"].splitlines() if line.startswith("| label term")]
    assert len(rows) == 2  # epochs 0 and 10: the early ones
    logs = np.log(label["0"])
    low, high = stats.t.interval(0.95, 2, loc=logs.mean(), scale=stats.sem(logs))
    assert f"{logs.mean():+.3f}" in rows[0] and f"[{low:+.3f}, {high:+.3f}]" in rows[0]
