"""The headline on a CPU: `bm reproduce benign --scale mini`, checked against what Definition 4.1 asks.

Trains (or resumes, or finds finished) the benign preset on cifar-10-mini with the README's command (two runs at
once, each on its config's one CPU thread), then prints per seed the accuracy on the random labels (memorized: 1)
and, for every Definition 4.1 probe, trained / init / twin, then the findings table (bm.findings: paired
t-intervals, crossed bootstrap, Holm, TOST) and the Fig. 3 separation of the first seed (random-label K-NN near
chance in stem..layer3, >= 0.5 in P and O). Exits 1 when a seed does not memorize perfectly or the headline gain
over init is not shown. About an hour on 2 cores (5 seeds); a second call only reads.

    python benchmarks/benign.py --data-dir ../shared/data/cifar-10-mini [--out runs/reproduce]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bm.findings import render
from bm.jobs import Jobs
from bm.reproduce import reproduce
from bm.reproduce.readout import MEMORIZED

ENCODER = ("stem", "layer1", "layer2", "layer3")
CHANCE = 0.2  # "near chance" for 10 random classes: at most twice chance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("runs/reproduce"))
    args = parser.parse_args()
    record = reproduce("benign", "mini", args.data_dir, args.out, jobs=Jobs("local", 2))
    failed = [
        f"seed {s['seed']}: accuracy on its random labels never reached {MEMORIZED}"
        for s in record["seeds"]
        if not s["memorized"]
    ]
    for s in record["seeds"]:
        print(
            f"seed {s['seed']}: memorized {s['memorized']} (first step at 1: {s['step_memorized']}; final accuracy "
            f"{s['final_accuracy']:.3f}), "
            + ", ".join(
                f"{p} {s['accuracy']['trained'][p]:.3f}/{s['accuracy']['init'][p]:.3f}/{s['accuracy']['no_aug'][p]:.3f}"
                for p in record["probes"]
            )
        )
    layers = record["seeds"][0]["layers"]["trained"]
    separation = {
        "random-label K-NN near chance in stem..layer3": all(layers[n]["knn_random_train"] <= CHANCE for n in ENCODER),
        "random-label K-NN >= 0.5 in P and O": all(layers[n]["knn_random_train"] >= 0.5 for n in ("P", "O")),
    }
    print(
        "Fig. 3, seed {}: ".format(record["seeds"][0]["seed"])
        + ", ".join(f"{k}: {'yes' if v else 'no'}" for k, v in separation.items())
    )
    blocks = render(args.out)
    print(blocks["mini.benign.lead"] + "\n" + blocks["mini.benign.findings"])
    if "**shown**" not in blocks["mini.benign.lead"]:
        failed.append("the gain over init under the headline probe is not shown")
    if failed:
        print("failed: " + "; ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
