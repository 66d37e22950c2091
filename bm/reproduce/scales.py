"""The two scales of `bm reproduce`: the paper's (Table 6, a GPU) and a CPU-sized one (cifar-10-mini).

A scale fixes everything a preset does not vary: the encoder width, the projector width, epochs,
batch size, learning rate, how many training images (mini: the 5085 of cifar-10-mini, or the
first 5085 of a bigger data set), and the values each sweep visits. The full-scale sweep values
and the Fig. 5 budget are ours where the paper gives no number; the README lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCALES", "Scale"]


@dataclass(frozen=True)
class Scale:
    name: str
    width: int  # encoder base width (ResNet18 / VGG: 64 as published)
    projector_width: int  # hidden width w of the projector
    epochs: int
    batch_size: int
    lr: float
    subset: int  # training images (0: all)
    probe_every: int
    checkpoint_every: int
    probe_pool: bool  # per-layer probes (Fig. 3): average-pool convolutional maps (memory at full scale)
    noise_levels: tuple[float, ...]  # Fig. 12
    projector_widths: tuple[int, ...]  # Fig. 7
    random_classes: tuple[int | str, ...]  # Fig. 8
    randaugment_magnitudes: tuple[int, ...]  # Fig. 11
    iid: tuple[int, int]  # Table 4: (s, B)
    fig5: dict  # capacity_and_sweep arguments and the small model it uses
    toy_seeds: tuple[int, ...]  # Fig. 13
    snapshots: tuple[int, ...]  # seed-003 line: epochs kept for geometry and rewinding
    geometry: dict  # run_geometry options of the seed-003 line
    images_per_second: float  # training throughput at 32 x 32 for the --list time estimates
    rate_note: str  # where that figure comes from


SCALES = {
    "full": Scale(
        name="full", width=64, projector_width=65536, epochs=1000, batch_size=256, lr=4e-3, subset=0, probe_every=10,
        checkpoint_every=10, probe_pool=True, noise_levels=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        projector_widths=(256, 1024, 4096, 16384, 65536), random_classes=(2, 10, 100, 1000, 10000, "per-sample"),
        randaugment_magnitudes=(0, 5, 10, 15, 20, 25, 30), iid=(1000, 50),
        fig5={"width": 16, "projector_width": 4096, "steps": 2000, "n": 500, "Bs": (1, 2, 4, 8, 16, 32, 64),
              "n_max": 20000, "repeats": 2, "batch_size": 256, "lr": 1e-3},
        toy_seeds=(0, 1, 2, 3, 4), snapshots=(10, 50, 100, 250, 500),
        geometry={"per_class": 50, "n_t": 200, "n_reps": 10, "max_rank": None},
        images_per_second=20000.0, rate_note="H100, assumed (bf16 ResNet18; not measured here)",
    ),
    "mini": Scale(
        name="mini", width=8, projector_width=4096, epochs=25, batch_size=128, lr=1e-3, subset=5085, probe_every=5,
        checkpoint_every=5, probe_pool=False, noise_levels=(0.0, 0.5, 1.0), projector_widths=(256, 1024, 4096),
        random_classes=(2, 10, 100, "per-sample"), randaugment_magnitudes=(0, 10, 20, 30), iid=(500, 10),
        fig5={"width": 4, "projector_width": 512, "steps": 100, "n": 64, "Bs": (1, 2, 4, 8, 16), "n_max": 1024,
              "repeats": 2, "batch_size": 128, "lr": 1e-3},
        toy_seeds=(0, 1, 2), snapshots=(5, 10, 15),
        geometry={"per_class": 20, "n_t": 50, "n_reps": 2, "max_rank": 2},
        images_per_second=450.0, rate_note="this 2-core CPU, measured (width 8, incl. per-epoch probes)",
    ),
}
