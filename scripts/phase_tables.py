"""Markdown tables of a finished phase preset (its result.json), for docs/benign-transition.md and the README.

    python scripts/phase_tables.py runs/reproduce/mini/phase

prints the grid (memorization, K-NN gains under both banks, invariance, position against C_t), the transition
table (every run, then per width and n over the seeds: the mean +- std of the runs that crossed, and how many did)
and the power-law fits, every number read from the preset's own outputs.
"""

import json
import sys
from pathlib import Path

import numpy as np

from bm.reproduce.outputs import markdown_table
from bm.reproduce.transition import TRANSITION_KEYS
from bm.runs import read_csv_rows


def main(folder: Path) -> None:
    record = json.loads((folder / "result.json").read_text())
    cap = record["capacity"]
    rows = read_csv_rows(folder / "table.csv")
    print(
        f"C_t: largest n memorized {cap['capacity']}, smallest n that failed {cap['failed_at']} "
        f"(budget {cap['budget_steps']} steps; curve {cap['curve']})\n"
    )
    print(
        markdown_table(
            [
                "n",
                "B",
                "n B",
                "past C_t",
                "memorized",
                "step >= 0.99",
                "K-NN (Def. 4.1)",
                "gain",
                "K-NN (bank all)",
                "gain (all)",
                "invariance (init -> end)",
            ],
            [
                [
                    r["n"],
                    r["B"],
                    r["items"],
                    r["above_capacity"] or "in bracket",
                    float(r["memorized"]),
                    r["steps_to_memorize"] or "-",
                    float(r["knn_train"]),
                    f"{float(r['gain_train']):+.3f}",
                    float(r["knn_all"]),
                    f"{float(r['gain_all']):+.3f}",
                    f"{float(r['invariance_init']):.3f} -> {float(r['invariance']):.3f}",
                ]
                for r in rows
            ],
        )
    )
    times = record["transition"]
    print(
        markdown_table(
            ["width", "n", "seed", *TRANSITION_KEYS, "K-NN init", "K-NN final", "memorized", "probe every"],
            [
                [
                    t["width"],
                    t["n"],
                    t["seed"],
                    *(t[k] if t[k] is not None else "never" for k in TRANSITION_KEYS),
                    t["knn_init"],
                    t["knn_final"],
                    t["memorized"],
                    t["probe_steps"],
                ]
                for t in times
            ],
        )
    )
    cells = sorted({(t["width"], t["n"]) for t in times})

    def over_seeds(width: int, n: int, key: str) -> str:
        got = [t[key] for t in times if (t["width"], t["n"]) == (width, n)]
        crossed = [v for v in got if v is not None]
        if not crossed:
            return f"never (0/{len(got)})"
        spread = f" +- {np.std(crossed):.0f}" if len(crossed) > 1 else ""
        return f"{np.mean(crossed):.0f}{spread}" + (f" ({len(crossed)}/{len(got)})" if len(crossed) < len(got) else "")

    print(
        markdown_table(
            ["width", "n", "seeds", *TRANSITION_KEYS, "memorized at the end"],
            [
                [
                    w,
                    n,
                    sum((t["width"], t["n"]) == (w, n) for t in times),
                    *(over_seeds(w, n, k) for k in TRANSITION_KEYS),
                    " / ".join(f"{t['memorized']:.3f}" for t in times if (t["width"], t["n"]) == (w, n)),
                ]
                for w, n in cells
            ],
        )
    )
    for title, fits in (
        ("least squares on the runs that crossed", record["fits"]),
        (
            "censored maximum likelihood (runs that never crossed kept as t > their steps)",
            record.get("censored_fits", {}),
        ),
    ):
        print(f"\n{title}:\n")
        print(
            markdown_table(
                [
                    "crossing",
                    "runs crossed",
                    "censored",
                    "exponent of n",
                    "exponent of width",
                    "steps at n = 50,000, width 64 (95%)",
                    "epochs at n = 50,000 if images seen carry over (95%)",
                ],
                [
                    [
                        k,
                        f["runs"],
                        f.get("censored", "left out"),
                        f"{f['exponent_n']:.2f} +- {f['se_n']:.2f}",
                        "-" if f["exponent_width"] is None else f"{f['exponent_width']:.2f} +- {f['se_width']:.2f}",
                        f"{f['steps'][1]:.3g} ({f['steps'][0]:.3g} .. {f['steps'][2]:.3g})",
                        f"{f['epochs'][1]:.3g} ({f['epochs'][0]:.3g} .. {f['epochs'][2]:.3g})",
                    ]
                    if f
                    else [k, "-", "-", "too few crossings", "-", "-", "-"]
                    for k, f in fits.items()
                ],
            )
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
