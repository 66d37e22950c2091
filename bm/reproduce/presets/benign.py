"""The headline (Sec. 4): random labels memorized with augmentation, the embedding probed as Definition 4.1 asks
against its init and against the twin trained without augmentation; findings by bm.stats."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bm.figures.presets import (
    plot_benign_seed,
)
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset, scale_settings
from bm.reproduce.presets.common import definition_probes_of, layer_probes
from bm.reproduce.readout import final, metrics_of
from bm.stats import MARGIN


# ----------------------------------------------------------------------------- the headline: benign memorization
@dataclass(frozen=True)
class Benign:
    seeds: tuple[int, ...]  # of the random-label DA run and its twin (--seeds overrides)


SETTINGS = {"full": Benign((0,)), "mini": Benign((0, 1, 2, 3, 4))}  # mini: 5 seeds (issue 29)


def _benign_pair(plan: Plan, seed: int) -> tuple[Run, Run]:
    """The random-label run with augmentation and its twin without augmentation (same seed: same labels and init)."""
    return tuple(plan.run(label_noise=1.0, augment=aug, seed=seed) for aug in (plan.scale.da, "none"))


def _benign_runs(plan: Plan) -> list[Run]:
    return [run for seed in _benign_seeds(plan) for run in _benign_pair(plan, seed)]


def _benign_seeds(plan: Plan) -> tuple[int, ...]:
    return plan.seeds or scale_settings(SETTINGS, "benign", plan).seeds


def _benign_findings(per_seed: list[dict]) -> list[dict]:
    """The claims of the headline, per Definition 4.1 probe (bm.analyses.def41): trained > its init, trained > the twin
    without augmentation, the twin < its init (the same init: one seed, one network); the arms per seed and their
    packed per-test-image outcomes, for bm.findings."""
    claims = (
        ("trained > init", "greater", "trained", "init"),
        ("trained > twin without DA", "greater", "trained", "no_aug"),
        ("twin without DA < init", "less", "no_aug", "init"),
    )
    out = []
    for probe in per_seed[0]["accuracy"]["trained"]:
        for name, kind, a, b in claims:
            out.append(
                {
                    "probe": probe,
                    "claim": name,
                    "kind": kind,
                    "margin": MARGIN,
                    "a": [r["accuracy"][a][probe] for r in per_seed],
                    "b": [r["accuracy"][b][probe] for r in per_seed],
                    "items_a": [r["outcomes"][a][probe] for r in per_seed],
                    "items_b": [r["outcomes"][b][probe] for r in per_seed],
                }
            )
    return out


def _benign(plan: Plan, runs: list[Run], folder: Path) -> Result:
    per_seed = []
    for seed in _benign_seeds(plan):
        da, twin = _benign_pair(plan, seed)
        layers = layer_probes(plan, da, ("clean", "random"))["results"]
        mine, other = (definition_probes_of(plan, r) for r in (da, twin))
        history, twin_history = metrics_of(plan, da), metrics_of(plan, twin)
        end, twin_end = final(plan, da, history), final(plan, twin, twin_history)
        per_seed.append(
            {
                "seed": seed,
                "memorized": end["memorized"],
                "final_accuracy": end["train_acc"],
                "share_at_1": end["share_at_1"],
                "step_memorized": end["steps_to_memorize"],
                "step_0.99": end["steps_to_0.99"],
                "memorized_no_aug": twin_end["memorized"],
                "final_accuracy_no_aug": twin_end["train_acc"],
                "step_memorized_no_aug": twin_end["steps_to_memorize"],
                "steps": end["steps"],
                "steps_no_aug": twin_end["steps"],
                "bank_counts": mine["bank_counts"],
                "scaled_k": mine["scaled_k"],
                "test_size": mine["test_size"],
                "accuracy": {
                    "trained": mine["accuracy"]["trained"],
                    "init": mine["accuracy"]["init"],
                    "no_aug": other["accuracy"]["trained"],
                    "no_aug_init": other["accuracy"]["init"],
                },
                "outcomes": {
                    "trained": mine["probes"]["trained"],
                    "init": mine["probes"]["init"],
                    "no_aug": other["probes"]["trained"],
                    "no_aug_init": other["probes"]["init"],
                },
                "linear_l2": {
                    "trained": mine["linear_l2"]["trained"],
                    "init": mine["linear_l2"]["init"],
                    "no_aug": other["linear_l2"]["trained"],
                },
                "layers": layers,
                "history": history,
            }
        )
    probes = list(per_seed[0]["accuracy"]["trained"])
    first = per_seed[0]
    plot_benign_seed(first, first["history"], folder / "figure")
    names = list(first["layers"]["trained"])
    rows = [
        {
            "seed": r["seed"],
            "probe": p,
            "trained": r["accuracy"]["trained"][p],
            "init": r["accuracy"]["init"][p],
            "no_aug": r["accuracy"]["no_aug"][p],
            "memorized": r["memorized"],
            "final_accuracy": r["final_accuracy"],
            "share_at_1": r["share_at_1"],
            "step_memorized": r["step_memorized"],
            "step_0.99": r["step_0.99"],
            "memorized_no_aug": r["memorized_no_aug"],
            "final_accuracy_no_aug": r["final_accuracy_no_aug"],
            "steps": r["steps"],
            "steps_no_aug": r["steps_no_aug"],
        }
        for r in per_seed
        for p in probes
    ]
    layer_rows = [
        {"seed": r["seed"], "weights": w, "layer": n, **r["layers"][w][n]}
        for r in per_seed
        for w in ("trained", "init")
        for n in names
    ]
    summary = [
        f"{len(per_seed)} seeds, {first['steps']} steps each; bank S = the {sum(first['bank_counts'])} trained "
        f"images ({min(first['bank_counts'])}-{max(first['bank_counts'])} per class), scaled k = "
        f"{first['scaled_k']}"
    ] + [
        f"seed {r['seed']}: memorized {r['memorized']} (accuracy 1 first at step {r['step_memorized']}; final "
        f"{r['final_accuracy']:.3f}), twin {r['memorized_no_aug']}; "
        + ", ".join(
            f"{p} {r['accuracy']['trained'][p]:.3f}/{r['accuracy']['init'][p]:.3f}/{r['accuracy']['no_aug'][p]:.3f}"
            for p in probes
        )
        + " (trained / init / twin)"
        for r in per_seed
    ]
    table = markdown_table(
        ["seed", "memorized (first step at accuracy 1; final accuracy)", "twin memorized"]
        + [f"{p}: trained / init / twin" for p in probes],
        [
            [r["seed"], f"{r['memorized']} ({r['step_memorized']}; {r['final_accuracy']:.3f})", r["memorized_no_aug"]]
            + [
                f"{r['accuracy']['trained'][p]:.3f} / {r['accuracy']['init'][p]:.3f} / {r['accuracy']['no_aug'][p]:.3f}"
                for p in probes
            ]
            for r in per_seed
        ],
    )
    extra = {
        "probes": probes,
        "findings": _benign_findings(per_seed),
        "seeds": [{k: v for k, v in r.items() if k not in ("history", "outcomes")} for r in per_seed],
    }
    return Result(
        rows + layer_rows,
        [
            "seed",
            "probe",
            "trained",
            "init",
            "no_aug",
            "memorized",
            "final_accuracy",
            "share_at_1",
            "step_memorized",
            "step_0.99",
            "memorized_no_aug",
            "final_accuracy_no_aug",
            "steps",
            "steps_no_aug",
            "weights",
            "layer",
            "knn_clean_test",
            "knn_random_train",
        ],
        summary,
        ["figure"],
        table=table,
        extra=extra,
    )


register_preset(
    Preset(
        "benign",
        "figure",
        "Sec. 4 headline",
        "benign memorization: random labels memorized with augmentation, "
        "embedding K-NN above init and above the twin trained without augmentation; per-layer probes, invariance",
        _benign_runs,
        _benign,
        seeds="own",
    )
)
