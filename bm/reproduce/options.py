"""The options of `bm reproduce` (its command-line flags are generated from them, bm.options): which scale, where
the data and the results live, on which device, which rows and seeds. Torch-free."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.configs import setting
from bm.errors import BMError
from bm.reproduce.scales import RECIPES

__all__ = ["RECIPE_HELP", "ReproduceOptions"]

RECIPE_HELP = "; ".join(f"{r.name} = {r.source}" for r in RECIPES.values()) + " (default table6)."


@dataclass(frozen=True)
class ReproduceOptions:
    """Where and how `bm reproduce` runs a preset (the preset's runs themselves come from its scale)."""

    scale: str = setting(
        "full", help="full (the paper's models and data, a GPU) or mini (cifar-10-mini-sized data, CPU-sized models)."
    )
    data_dir: Path = setting(Path("data"), help="Folder holding the data sets' official folders.")
    out: Path = setting(Path("runs/reproduce"), help="Results: OUT/<scale>/runs/<run> and OUT/<scale>/<preset>/.")
    datasets: tuple[str, ...] | None = setting(
        None, help="table2/table3: comma-separated data sets to keep (default all rows)."
    )
    device: str | None = setting(
        None,
        help="cpu, cuda or cuda:N (default: cuda where there is one or for "
        "--print-commands at full scale, else cpu; --scale full on a CPU only "
        "when asked for).",
    )
    download: bool = setting(False, help="Download missing data sets (needs internet).")
    recipe: str | None = setting(None, help="Full scale only: " + RECIPE_HELP)
    seeds: tuple[int, ...] | None = setting(
        None,
        help="Comma-separated seeds: the preset once per seed (seed<k>/), "
        "its table the mean +- std (default: seed 0; benign: the "
        "scale's seeds).",
    )

    def __post_init__(self):
        if self.datasets == ():
            raise BMError("--datasets is empty; name data sets (e.g. cifar10) or leave the option out for all rows")
        if self.seeds == ():
            raise BMError("--seeds is empty")

    def chosen_device(self, print_commands: bool = False) -> str:
        """The device asked for, else cuda where there is one (or for --print-commands at full scale), else cpu;
        the full scale on a CPU only when asked for."""
        if self.device is not None:
            return self.device
        import torch

        device = "cuda" if torch.cuda.is_available() or (print_commands and self.scale == "full") else "cpu"
        if device == "cpu" and self.scale == "full":
            raise BMError(
                "--scale full trains the paper's models for days and this machine has no CUDA; use --scale "
                "mini, --device cuda on a GPU machine, or --device cpu to run it here anyway"
            )
        return device
