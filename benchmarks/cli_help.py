"""How fast `bm` answers --help: every command's help against `python -c pass` in the same run (ratios and seconds).

python benchmarks/cli_help.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = [
    [],
    ["toy-grid"],
    ["deep-train"],
    ["probe"],
    ["geometry"],
    ["rewind"],
    ["capacity", "toy"],
    ["capacity", "deep"],
    ["reproduce"],
    ["report"],
    ["results"],
    ["convert-run"],
    ["augment-grid"],
]


def _median_seconds(argv: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = _median_seconds([sys.executable, "-c", "pass"], args.repeats)
    print(f"{'command':28s} {'median s':>9s} {'/ python -c pass':>17s}")
    print(f"{'python -c pass':28s} {base:9.3f} {1.0:17.1f}")
    for command in COMMANDS:
        seconds = _median_seconds([sys.executable, "-m", "bm", *command, "--help"], args.repeats)
        print(f"{' '.join(['bm', *command, '--help']):28s} {seconds:9.3f} {seconds / base:17.1f}")


if __name__ == "__main__":
    main()
