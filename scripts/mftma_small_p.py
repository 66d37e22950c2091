"""MFTMA capacity at small P against LP simulation under each label convention: measurements for
docs/mftma-small-p.md.

For low-dimensional clouds (bm.theory.separability.low_dimensional_clouds: D = 5 directions, radius 0.5, N = 200,
M = 40) it prints, per P and realization, MFTMA's capacity with the default rule (K >= 1 centre directions removed)
and with K >= 0, and the simulated capacity P / n* under the three label conventions of bm.theory.separability
(iid, both labels present, balanced + bias: the reference simulation's), as a markdown table and a CSV.

    python scripts/mftma_small_p.py [--ps 3,5,7,10] [--seeds 0,1] [--trials 300] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import sys

from bm.errors import BMError
from bm.options import int_list
from bm.runs import write_csv_rows
from bm.theory.mftma import manifold_geometry
from bm.theory.separability import low_dimensional_clouds, simulated_capacity

JUDGES = {"iid": ("iid", False), "both": ("both", False), "balanced + bias": ("balanced", True)}


def rows(ps: list[int], seeds: list[int], trials: int):
    for P in ps:
        for seed in seeds:
            clouds = low_dimensional_clouds(P, seed=seed)
            row = {
                "P": P,
                "seed": seed,
                "K>=1": manifold_geometry(clouds, n_t=500, seed=seed).capacity,
                "K>=0": manifold_geometry(clouds, n_t=500, seed=seed, min_rank=0).capacity,
            }
            n0 = P / row["K>=1"]
            ns = range(max(1, round(0.4 * n0)), round(1.8 * n0) + 3)
            for name, (labels, bias) in JUDGES.items():
                row[name] = simulated_capacity(clouds, ns, trials, seed, labels, bias)
            yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--ps", default="3,5,7,10", help="comma-separated numbers of clouds P (default 3,5,7,10)")
    parser.add_argument("--seeds", default="0,1", help="comma-separated realizations of the clouds (default 0,1)")
    parser.add_argument("--trials", type=int, default=300, help="random dichotomies per n (default 300)")
    parser.add_argument("--csv", help="also write the table to this CSV file")
    args = parser.parse_args()
    columns = ["P", "seed", "K>=1", "K>=0", *JUDGES]
    table = []
    try:
        ps, seeds = int_list(args.ps, "ps"), int_list(args.seeds, "seeds")
        print("| " + " | ".join(columns) + " |\n|" + " --- |" * len(columns))
        for row in rows(ps, seeds, args.trials):
            table.append(row)
            print(
                "| "
                + " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns)
                + " |",
                flush=True,
            )
    except BMError as e:  # a bad list, or too few dichotomies for the fraction to cross 1/2 cleanly
        print(f"mftma_small_p: {e}", file=sys.stderr)
        return 2
    if args.csv:
        write_csv_rows(args.csv, table, columns)


if __name__ == "__main__":
    sys.exit(main())
