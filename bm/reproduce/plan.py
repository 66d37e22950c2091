"""What a preset runs: deep-train configs at a scale, their folder names, and the equivalent command lines.

Runs live in OUT/<scale>/runs/<name>, the name spelled from the fields presets vary, so presets
that need the same run (the random-label, augmented ResNet18 of Table 2, Fig. 3, Fig. 6, ...)
share one folder and train it once.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bm.deep.config import IMAGE_SIZES, TRAIN_SIZES, DeepTrainConfig, register_named_config
from bm.deep.protocols import set_protocol
from bm.errors import BMError
from bm.reproduce.scales import RECIPES, Scale, scale_for

if TYPE_CHECKING:
    from bm.deep.datasets import ImageSet

__all__ = ["Plan", "Run", "deep_train_command", "recipe_config", "run_name", "steps_per_epoch"]


@dataclass(frozen=True)
class Run:
    name: str
    config: DeepTrainConfig


@dataclass
class Plan:
    """A preset's context: the scale, where data and results live, the device, the data sets asked for."""

    scale: Scale
    data_dir: Path
    out: Path  # OUT; this scale's runs and preset folders are under OUT/<scale>
    device: str = "cpu"
    datasets: tuple[str, ...] | None = None  # Table 2 / 3 rows to keep (None: all)
    recipe: str | None = None  # a full-scale recipe other than the default: its runs live apart
    seeds: tuple[int, ...] | None = None  # --seeds (None: the preset's own default; presets see one seed at a time)
    data: dict[str, tuple[ImageSet, ImageSet]] = field(default_factory=dict)  # loaded once, shared by runs
    progress: Callable[[str, int], Callable[[int], None]] | None = None  # start(label, total) -> advance(k)
    jobs: object = None  # bm.jobs.Jobs: how a preset's own extra runs (the phase preset's C_t search) run

    @property
    def root(self) -> Path:
        return self.out / (self.scale.name if self.recipe in (None, "table6") else f"{self.scale.name}-{self.recipe}")

    @property
    def seed(self) -> int:
        """The seed runs get unless a preset says otherwise: the plan's one seed (0 when none was asked for)."""
        if self.seeds is not None and len(self.seeds) > 1:
            raise BMError(f"a plan of seeds {self.seeds} has no single seed; split it with for_seed")
        return self.seeds[0] if self.seeds else 0

    def for_seed(self, seed: int) -> Plan:
        """The same plan for one seed (the loaded data shared)."""
        return replace(self, seeds=(seed,))

    def folder(self, run: Run) -> Path:
        return self.root / "runs" / run.name

    def run(self, dataset: str = "cifar10", model: str = "resnet18", **changes) -> Run:
        """The scale's run on `dataset` with `changes` (DeepTrainConfig fields, width, projector_width, probe_steps (a
        runtime cadence, not part of the run's identity), steps), trained for the scale's optimizer-step budget (or
        `steps`) whatever its items per epoch. i.i.d.
        runs draw their s anchors and views from the whole training set (Table 4)."""
        s = self.scale
        probe_steps = changes.pop("probe_steps", s.probe_steps)
        budget = changes.pop("steps", s.steps)  # a preset with a budget of its own (the same for all its runs)
        if "seed" not in changes:  # a preset that names its seeds (benign) plans over several
            changes["seed"] = self.seed
        if getattr(set_protocol(changes.get("augment")), "whole_set", False):  # its anchors: every image
            changes.setdefault("subset", 0)
        base = s.base
        model_cfg = replace(
            base.model,
            arch=model,
            width=changes.pop("width", base.model.width),
            projector_width=changes.pop("projector_width", base.model.projector_width),
            image_size=s.image_size or IMAGE_SIZES[dataset],
        )
        cfg = replace(
            base, dataset=dataset, data_dir=str(self.data_dir), model=model_cfg, device=self.device, **changes
        )
        per_epoch = steps_per_epoch(cfg, TRAIN_SIZES[dataset])

        def every(steps: int) -> int:
            return max(1, round(steps / per_epoch))

        epochs = -(-budget // per_epoch)
        cfg = replace(
            cfg,
            epochs=epochs,
            probe_every=min(every(probe_steps), epochs),
            train_acc_every=every(s.train_acc_steps),
            checkpoint_every=every(s.checkpoint_steps),
        )
        return Run(run_name(cfg, s), cfg)

    def augmented(self, dataset: str = "cifar10", model: str = "resnet18", **changes) -> Run:
        """`run` with the scale's augmentation protocol (Scale.da; the paper's: SSL views and mixup): the "DA" of
        the paper's tables."""
        return self.run(dataset, model, augment=self.scale.da, **changes)


def steps_per_epoch(cfg: DeepTrainConfig, train_size: int) -> int:
    """Optimizer steps per epoch of `cfg` on a training set of `train_size` images: ceil(items / batch size), items
    the subset (or the whole set), its n B fixed views (finite) or the s B views of its anchors (iid)."""
    n = min(cfg.subset or train_size, train_size)
    spec = set_protocol(cfg.augment)
    items = spec.items(cfg, n) if spec is not None else n
    return -(-items // cfg.batch_size)


def run_name(cfg: DeepTrainConfig, scale: Scale | None = None) -> str:
    """A folder name from the fields presets vary, e.g. cifar10-resnet18-w4096-noise1-ssl+mixup-seed0; against a
    `scale`, also the encoder width (width8) and the training images (n256) where they differ from the scale's."""
    parts = [cfg.dataset, cfg.model.arch, f"w{cfg.model.projector_width}", f"noise{cfg.label_noise:g}", cfg.augment]
    if cfg.augment == "randaugment":
        parts.append(
            f"s{cfg.randaugment_strength:g}"
            if cfg.randaugment_mapping == "strength"
            else f"m{cfg.randaugment_magnitude}"
        )
    spec = set_protocol(cfg.augment)
    parts += spec.parts(cfg) if spec is not None else []
    if cfg.random_classes is not None:
        parts.append(f"C{cfg.random_classes}")
    if cfg.snapshots:
        parts.append("snapshots")
    if cfg.gradient_probe:
        parts.append("gradprobe")
    if scale is not None and cfg.model.width != scale.base.model.width:
        parts.append(f"width{cfg.model.width}")
    if scale is not None and not (spec is not None and spec.whole_set) and cfg.subset != scale.base.subset:
        parts.append(f"n{cfg.subset or 'all'}")
    return "-".join(parts + [f"seed{cfg.seed}"])


def deep_train_command(cfg: DeepTrainConfig, out: Path) -> str:
    """The `bm deep-train` line that trains `cfg` into `out` (resuming or skipping it as needed): the whole config
    as inline JSON, so that every field (a new one included) reaches the run without a flag of its own."""
    config = json.dumps(cfg.to_json(), sort_keys=True, separators=(",", ":"))
    return "bm deep-train " + " ".join(
        shlex.quote(str(a)) for a in ("--config", config, "--out", out, "--skip-finished")
    )


def recipe_config(recipe: str) -> DeepTrainConfig:
    """A full-scale recipe's random-label DA run (`bm deep-train --preset table6 / released`)."""
    return (
        Plan(scale_for("full", recipe), Path(DeepTrainConfig.data_dir), Path("runs"), recipe=recipe).augmented().config
    )


for _recipe in RECIPES:
    register_named_config(_recipe)(partial(recipe_config, _recipe))
