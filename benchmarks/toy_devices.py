"""The default toy grid on the CPU and on CUDA, twice (run-to-run determinism): each grid.csv and capacity.json
copied into OUT, for gpu_check.toy_agreement (results/gpu/ holds an H200's).

    python benchmarks/toy_devices.py OUT
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bm.toy.grid import ToyGridConfig, run_grid  # noqa: E402


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, device in (("cpu", "cpu"), ("cuda", "cuda"), ("cuda2", "cuda")):
            start = time.perf_counter()
            folder = run_grid(ToyGridConfig(device=device), Path(tmp) / name)
            print(f"{name}: {time.perf_counter() - start:.1f} s", flush=True)
            shutil.copyfile(folder / "grid.csv", out / f"toy-grid-{name}.csv")
            shutil.copyfile(folder / "capacity.json", out / f"capacity-{name}.json")


if __name__ == "__main__":
    main()
