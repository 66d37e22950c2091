"""The settings of the analyses (bm.analyses.probing, .geometry, .rewind), torch-free: the commands generate their
options and help from these fields (bm.options) without loading torch, as bm.deep.config does for training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.configs import normalize_tuples, setting
from bm.errors import BMError

__all__ = ["GeometryConfig", "GradientsConfig", "MftmaConfig", "ProbeConfig", "RewindConfig"]


@dataclass(frozen=True)
class ProbeConfig:
    """Per-layer probing of a deep run (Fig. 3; bm.analyses.probing.probe_layers)."""

    layers: tuple[str, ...] = setting((), help="Comma-separated layer names (default: all; see --list-layers).")
    fits: tuple[str, ...] = setting(
        ("clean", "random"),
        flag="fit",
        help=(
            "Comma-separated probes (bm.analyses.probing.PROBES): clean (K-NN, true labels, test accuracy), random (K-NN, "
            "the run's labels, leave-one-out train accuracy), linear (linear probe, true labels)."
        ),
    )
    k: tuple[int, ...] = setting(
        (20,),
        help="K-NN neighbours; several (e.g. 10,20,200) share one neighbour search "
        "and add top-1 / top-5 accuracies per k.",
    )
    linear: bool = setting(False, help="Also fit a linear probe on clean labels.")
    init: bool = setting(False, help="Also probe the run's initial weights.")
    pool: bool = setting(False, help="Global-average-pool convolutional maps instead of flattening them.")
    sketch: int = setting(
        0,
        help="Send flattened layers wider than K through a fixed Gaussian projection to K "
        "dimensions (a Johnson-Lindenstrauss sketch; 0: none).",
    )
    transfer: str | None = setting(None, help="Also probe the embedding on this data set (e.g. cifar100, stl10).")
    data_dir: Path | None = setting(None, help="Data folder (default: the run's).")
    device: str = setting("cpu", help="cpu, cuda or cuda:N.")
    features: Path | None = setting(
        None, help="Probe the features a --dump-features file holds for this run instead of embedding the images again."
    )
    dump_features: Path | None = setting(
        None, help="Also save the probed features (train and test, per layer) to this file."
    )

    def __post_init__(self):
        normalize_tuples(self, "layers", "fits", "k")
        if not self.k:
            raise BMError("--k needs at least one value")
        if self.sketch < 0:
            raise BMError(f"--sketch must be >= 0 (0: no sketch); got {self.sketch}")


@dataclass(frozen=True)
class MftmaConfig:
    """Manifold capacity, radius and dimension (Stephenson et al. 2021; bm.theory.mftma) of class manifolds."""

    classes: tuple[int, ...] = setting((), help="Comma-separated classes whose manifolds are analysed (default all).")
    per_class: int = setting(50, flag="samples-per-class", help="M: points per manifold.")
    n_t: int = setting(200, help="Gaussian samples t per manifold.")
    kappa: float = setting(0.0, help="Margin kappa.")
    n_reps: int = setting(10, flag="reps", help="Random starts per rank of the centre-correlation fit.")
    max_rank: int | None = setting(
        None, help="Cap on the removed centre-correlation rank K (default: the reference rule)."
    )
    min_rank: int = setting(
        1,
        help="Smallest removed rank K: 1 as the reference (checked against LP simulation for "
        "P >= 7; docs/mftma-small-p.md), 0 lets the fit remove nothing.",
    )

    def __post_init__(self):
        normalize_tuples(self, "classes")
        if self.per_class < 2 or self.n_t < 1 or self.n_reps < 1:
            raise BMError("--samples-per-class must be >= 2, --n-t and --reps >= 1")

    def layer_options(self, seed: int) -> dict:
        """The keyword arguments of bm.probe.manifolds.layer_geometry after its features and groups."""
        return dict(
            per_class=self.per_class,
            classes=list(self.classes) or None,
            n_t=self.n_t,
            kappa=self.kappa,
            n_reps=self.n_reps,
            max_rank=self.max_rank,
            min_rank=self.min_rank,
            seed=seed,
        )


@dataclass(frozen=True)
class GeometryConfig:
    """MFTMA per layer: of a deep run per epoch with weights, or of a toy-grid cell at init and after training."""

    layers: tuple[str, ...] = setting(
        (), help="Comma-separated layers (deep: see bm probe --list-layers; default all)."
    )
    epochs: tuple[int, ...] = setting(
        (), help="Deep: comma-separated epochs with weights (0 = init, snapshots, the last); default all."
    )
    project_dim: int = setting(5000, help="Deep: random-project wider layers to this many dimensions (0: never).")
    cell: tuple[int, ...] = setting((), help="Toy: the grid cell 'n,B' (default: largest n and B).")
    seed: int | None = setting(None, help="Toy: the grid seed (default: the first).")
    device: str = setting("cpu", help="Deep: cpu, cuda or cuda:N.")
    mftma: MftmaConfig = setting(factory=MftmaConfig, help="The MFTMA settings.")

    def __post_init__(self):
        if len(self.cell) not in (0, 2):
            raise BMError(f"--cell takes 'n,B'; got {','.join(map(str, self.cell))}")


@dataclass(frozen=True)
class RewindConfig:
    """Layer rewinding (Stephenson et al.): the last k layers from epoch E, the rest from the end."""

    layers: tuple[int, ...] = setting((1, 2, 3), help="Comma-separated k: rewind the last k parameterised layers.")
    k: int = setting(20, help="K-NN neighbours.")
    device: str = setting("cpu", help="cpu, cuda or cuda:N.")


@dataclass(frozen=True)
class GradientsConfig:
    """The permuted examples' gradient against the others' (Stephenson et al. 2021, Sec. 5; bm.analyses.gradients)."""

    epochs: tuple[int, ...] = setting(
        (), help="Comma-separated epochs with weights (0 = init, snapshots, the last); default all."
    )
    device: str = setting("cpu", help="cpu, cuda or cuda:N.")

    def __post_init__(self):
        normalize_tuples(self, "epochs")
