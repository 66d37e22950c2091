"""The presets of `bm reproduce`: for each table and figure of the paper, its runs and how it is read off them.

A preset lists deep-train runs (`runs(plan)`) and a `finish(plan, runs, folder)` that probes the
finished runs and writes the table or figure. fig5 and fig13 have no deep-train runs of their own:
their `finish` runs `capacity_and_sweep` / the toy grid, which skip finished work themselves, and
`command` gives the one CLI line that does the same. "DA" (Plan.augmented) is the scale's augmentation (the paper's: SSL
transforms + mixup). K-NN: k = 20 on the L2-normalized embedding, memory bank = the clean
training images with their true labels, accuracy on the clean test set.
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bm.analyses.capacity import capacity_and_sweep
from bm.analyses.geometry import run_geometry
from bm.analyses.probing import embedding_probe, network_at, probe_layers
from bm.analyses.rewind import rewind
from bm.deep.config import TRAIN_SIZES, CapacitySweepConfig
from bm.deep.items import memory_bank
from bm.figures.geometry import write_geometry
from bm.figures.heatmap import grid_heatmap
from bm.figures.lines import plot_lines
from bm.figures.presets import (
    plot_benign,
    plot_decomposition,
    plot_invariance,
    plot_stages,
    plot_training_curves,
    plot_transfer,
)
from bm.figures.probe import plot_probe
from bm.figures.rewind import write_rewind
from bm.figures.sweep import plot_sweep
from bm.registry import register
from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.phase import phase_finish, phase_runs
from bm.reproduce.plan import Plan, Run, steps_per_epoch
from bm.reproduce.readout import RECORD, banks, final, metrics_of
from bm.runs import RunFolder, read_json
from bm.stats import MARGIN

__all__ = ["PRESETS", "Preset", "register_preset"]


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str  # "table" or "figure"
    title: str  # the paper's item
    what: str  # what it runs, one line
    runs: Callable[[Plan], list[Run]]
    finish: Callable[[Plan, list[Run], Path], Result]
    extra_datasets: tuple[str, ...] = ()  # needed besides the runs' own (transfer targets)
    command: Callable[[Plan, Path], str] | None = None  # presets without deep-train runs: their one command
    extra_seconds: Callable[[Plan], float] = lambda plan: 0.0  # work besides the runs, for --list
    by_dataset: bool = False  # rows per data set, which --datasets selects (Tables 2 and 3)
    seeds: str = (
        "each"  # --seeds: "each" (the preset once per seed, then mean +- std), "own" (it reads plan.seeds), "none"
    )

    def all_runs(self, plan: Plan) -> list[Run]:
        """The runs of every seed the plan asks for (each run once, in order)."""
        if self.seeds != "each" or not plan.seeds:
            return self.runs(plan)
        runs = [r for seed in plan.seeds for r in self.runs(plan.for_seed(seed))]
        return list({r.name: r for r in runs}.values())


def _probe(
    plan: Plan, run: Run, weights: str = RunFolder.CHECKPOINT, linear: bool = False, target: str | None = None
) -> float:
    """Embedding probe (K-NN, or linear) of a finished run's weights (init.pt: at initialization) on the data in
    memory: the run's own training images and test set, or data set `target` resized to the run's images."""
    cfg = run.config
    net = network_at(cfg, plan.folder(run) / weights, plan.device)
    train, test = plan.data[target or cfg.dataset]
    train = train if target else memory_bank(cfg, train)
    train, test = train.resized(cfg.model.image_size), test.resized(cfg.model.image_size)
    return embedding_probe(net, train, test, cfg.probe_k, linear)


def _own_test_accuracy(plan: Plan, run: Run) -> dict:
    """The trained network's own output on the test set: accuracy against the true labels (its generalization, for a
    run trained on clean labels) and against uniformly random test labels of the run's random classes, drawn by
    another seed (chance, for every network: the reference a memorized random labeling cannot beat)."""
    from bm.deep.measure import embed
    from bm.labels import LabelConfig, assign_labels

    cfg = run.config
    net = network_at(cfg, plan.folder(run) / RunFolder.CHECKPOINT, plan.device)
    test = plan.data[cfg.dataset][1].resized(cfg.model.image_size)
    guess = embed(net, test.images.to(plan.device), ["O"])["O"].argmax(1).cpu()
    random = assign_labels(
        test.labels, len(test.classes), LabelConfig(1.0, cfg.random_classes), cfg.seed + 1_000_003
    ).labels
    return {
        "test_acc_true": float((guess == test.labels.cpu()).float().mean()),
        "test_acc_random": float((guess == random).float().mean()),
    }


# ----------------------------------------------------------------------------- Tables 2 and 3
CONDITIONS = (
    ("clean", 0.0, False),
    ("clean+DA", 0.0, True),
    ("random", 1.0, False),
    ("random+DA", 1.0, True),
)  # DA: augmented
TABLE_ROWS = (
    ("cifar10", "resnet18"),
    ("cifar100", "resnet18"),
    ("tinyimagenet", "resnet18"),
    ("tinyimagenet", "vgg11"),
)


def _table_rows(plan: Plan) -> list[tuple[str, str]]:
    return [(d, m) for d, m in TABLE_ROWS if plan.datasets is None or d in plan.datasets]


def _condition(plan: Plan, dataset: str, model: str, noise: float, da: bool) -> Run:
    return (
        plan.augmented(dataset, model, label_noise=noise)
        if da
        else plan.run(dataset, model, label_noise=noise, augment="none")
    )


def _conditions(plan: Plan) -> list[Run]:
    return [_condition(plan, d, m, noise, da) for d, m in _table_rows(plan) for _, noise, da in CONDITIONS]


def _probing_table(metric: str, label: str) -> Callable[[Plan, list[Run], Path], Result]:
    def finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
        rows, wide = [], []
        linear = metric == "linear_clean_test"  # the runs' own probes hold the K-NN under both banks
        for i, (dataset, model) in enumerate(_table_rows(plan)):
            mine = runs[4 * i : 4 * i + 4]
            records = {
                cond: final(plan, run) | _own_test_accuracy(plan, run) for (cond, _, _), run in zip(CONDITIONS, mine)
            }
            for cond, rec in records.items():
                rec[metric] = (
                    _probe(plan, mine[[c for c, _, _ in CONDITIONS].index(cond)], linear=True)
                    if linear
                    else rec["knn_train"]
                )
            init = _probe(plan, mine[3], RunFolder.INIT, linear) if linear else records["random+DA"]["knn_init_train"]
            rows += [{"dataset": dataset, "model": model, "condition": c, **rec} for c, rec in records.items()]
            rows.append(
                {
                    "dataset": dataset,
                    "model": model,
                    "condition": "init",
                    metric: init,
                    "knn_train": records["random+DA"]["knn_init_train"],
                    "knn_all": records["random+DA"]["knn_init_all"],
                }
            )
            for cond, rec in records.items():
                wide.append(
                    [
                        dataset,
                        model,
                        cond,
                        rec[metric],
                        rec["knn_all"],
                        rec["train_acc"],
                        rec["steps_to_memorize"],
                        rec["steps"],
                        rec["test_acc_true"],
                        rec["test_acc_random"],
                    ]
                )
            wide.append([dataset, model, "init", init, records["random+DA"]["knn_init_all"], None, None, 0, None, None])
        header = [
            "data set",
            "model",
            "condition",
            f"{label} (bank: trained images, Def. 4.1)" if not linear else label,
            "K-NN (bank: all training images, released code)",
            "memorized",
            "first step memorized (accuracy 1)",
            "steps",
            "own test acc. (true labels)",
            "own test acc. (random test labels)",
        ]
        by = {(r["dataset"], r["condition"]): r for r in rows}
        summary = [
            f"{d} {m}: {label} random+DA {by[d, 'random+DA'][metric]:.3f} vs init {by[d, 'init'][metric]:.3f} "
            f"vs random {by[d, 'random'][metric]:.3f} (clean {by[d, 'clean'][metric]:.3f}, clean+DA "
            f"{by[d, 'clean+DA'][metric]:.3f}); memorized "
            + ", ".join(f"{c} {by[d, c]['train_acc']:.3f}" for c, _, _ in CONDITIONS)
            for d, m in _table_rows(plan)
        ]
        return Result(
            rows,
            ["dataset", "model", "condition", metric, *RECORD, "test_acc_true", "test_acc_random"],
            summary,
            table=markdown_table(header, wide),
        )

    return finish


# ----------------------------------------------------------------------------- the headline: benign memorization
def _benign_pair(plan: Plan, seed: int) -> tuple[Run, Run]:
    """The random-label run with augmentation and its twin without augmentation (same seed: same labels and init)."""
    return tuple(plan.run(label_noise=1.0, augment=aug, seed=seed) for aug in (plan.scale.da, "none"))


def _benign_runs(plan: Plan) -> list[Run]:
    return [run for seed in _benign_seeds(plan) for run in _benign_pair(plan, seed)]


def _benign_seeds(plan: Plan) -> tuple[int, ...]:
    return plan.seeds or plan.scale.benign_seeds


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
        data = plan.data[da.config.dataset]
        layers = probe_layers(
            plan.folder(da),
            None,
            ("clean", "random"),
            init=True,
            pool=plan.scale.probe_pool,
            sketch=plan.scale.probe_sketch,
            device=plan.device,
            data=data,
        )["results"]
        mine, other = (_definition_probes(plan, r) for r in (da, twin))
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
    knn_curve = [(r["epoch"], banks(r, runs[0].config).get("train", r["knn"])) for r in first["history"] if "knn" in r]
    plot_benign(
        first["history"],
        first["layers"],
        knn_curve,
        first["accuracy"]["init"]["knn_k20"],
        first["accuracy"]["no_aug"]["knn_k20"],
        first["seed"],
        folder / "figure",
    )
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


# ----------------------------------------------------------------------------- Table 1 and Fig. 2
def _random_no_da(plan: Plan) -> list[Run]:
    return [plan.run(label_noise=1.0, augment="none")]


def _table1(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """Per-layer K-NN (clean labels, test accuracy) of the random-label network trained without augmentation."""
    record = probe_layers(
        plan.folder(runs[0]),
        None,
        ("clean",),
        init=True,
        pool=plan.scale.probe_pool,
        sketch=plan.scale.probe_sketch,
        data=plan.data[runs[0].config.dataset],
        device=plan.device,
    )["results"]
    rows = [
        {
            "layer": n,
            "knn_trained": record["trained"][n]["knn_clean_test"],
            "knn_init": record["init"][n]["knn_clean_test"],
        }
        for n in record["trained"]
    ]
    for r in rows:
        r["change"] = r["knn_trained"] - r["knn_init"]
    summary = [
        "clean K-NN by layer, trained (random labels, no augmentation) / init: "
        + ", ".join(f"{r['layer']} {r['knn_trained']:.3f}/{r['knn_init']:.3f}" for r in rows)
    ]
    return Result(rows, ["layer", "knn_trained", "knn_init", "change"], summary)


def _fig2(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """Training curves of clean / random labels with and without augmentation: loss and memorization."""
    rows, curves = [], []
    for cond, run in zip((c for c, _, _ in CONDITIONS), runs):
        history = metrics_of(plan, run)
        per_epoch = steps_per_epoch(run.config, TRAIN_SIZES[run.config.dataset])
        measured = [r for r in history if "train_acc" in r]
        curves.append(
            (
                cond,
                [(r["epoch"] * per_epoch, r["loss"]) for r in history if "loss" in r],
                [(r["epoch"] * per_epoch, r["train_acc"]) for r in measured],
            )
        )
        rows += [
            {"condition": cond, "step": r["epoch"] * per_epoch, "loss": r.get("loss"), "train_acc": r["train_acc"]}
            for r in measured
        ]
    plot_training_curves(curves, folder / "figure")
    finals = {c: final(plan, r) for (c, _, _), r in zip(CONDITIONS, runs)}
    summary = [
        f"{c}: accuracy on the trained items {f['train_acc']:.3f} after {f['steps']} steps (1 from step "
        f"{f['steps_to_memorize']})"
        for c, f in finals.items()
    ]
    return Result(rows, ["condition", "step", "loss", "train_acc"], summary, ["figure"])


# ----------------------------------------------------------------------------- Fig. 3, 6, 9: the random+DA run
def _random_da(plan: Plan) -> list[Run]:
    return [plan.augmented(label_noise=1.0)]


def _fig3_runs(plan: Plan) -> list[Run]:
    """The random+DA run with the scale's snapshots kept: the same training as the shared run, probed at stages."""
    return [plan.augmented(label_noise=1.0, snapshots=plan.scale.snapshots)]


def _fig3(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """Per-layer K-NN fitted on the clean and on the random labels, at init, at every snapshot and at the end."""
    run = plan.folder(runs[0])
    data = plan.data[runs[0].config.dataset]
    record = probe_layers(
        run,
        None,
        ("clean", "random"),
        init=True,
        pool=plan.scale.probe_pool,
        sketch=plan.scale.probe_sketch,
        device=plan.device,
        data=data,
    )
    plot_probe(record, folder / "figure")
    stages = (
        {0: record["results"]["init"]}
        | {
            e: probe_layers(
                run / f"snapshot_{e}.pt",
                None,
                ("clean", "random"),
                pool=plan.scale.probe_pool,
                sketch=plan.scale.probe_sketch,
                device=plan.device,
                data=data,
            )["results"]["trained"]
            for e in plan.scale.snapshots
        }
        | {runs[0].config.epochs: record["results"]["trained"]}
    )
    rows = [{"epoch": e, "layer": layer, **values} for e, per in stages.items() for layer, values in per.items()]
    names = record["layers"]
    plot_stages(stages, names, folder / "stages")
    t, i = record["results"]["trained"], record["results"]["init"]
    summary = [
        f"embedding K-NN (clean fit) {t['embedding']['knn_clean_test']:.3f} trained vs "
        f"{i['embedding']['knn_clean_test']:.3f} init; O (random fit, train) {t['O']['knn_random_train']:.3f} "
        f"vs embedding {t['embedding']['knn_random_train']:.3f}"
    ] + [
        f"epoch {e}: random fit "
        + ", ".join(f"{n} {per[n]['knn_random_train']:.3f}" for n in names)
        + "; clean fit "
        + ", ".join(f"{n} {per[n]['knn_clean_test']:.3f}" for n in names)
        for e, per in stages.items()
    ]
    return Result(
        rows,
        ["epoch", "layer", "knn_clean_test", "knn_random_train"],
        summary,
        ["figure", "stages"],
        extra={"flatten": record["flatten"]},
    )


def _fig6_runs(plan: Plan) -> list[Run]:
    """The random+DA ResNet18 and the same protocol with an MLP encoder (Fig. 6 sets them side by side)."""
    return _random_da(plan) + [plan.augmented(model="mlp", label_noise=1.0)]


def _fig6(plan: Plan, runs: list[Run], folder: Path) -> Result:
    rows, summary = [], []
    for run, arch in zip(runs, ("ResNet18", "MLP")):
        probes = [r for r in metrics_of(plan, run) if "invariance" in r]
        layers = list(probes[0]["invariance"])
        mine = [
            {
                "model": arch,
                "epoch": r["epoch"],
                "knn_error": 1 - banks(r, run.config).get("train", r["knn"]),
                **r["invariance"],
            }
            for r in probes
        ]
        first, last = mine[0], mine[-1]
        summary += [
            f"{arch}, epoch {first['epoch']} -> {last['epoch']}: "
            + ", ".join(f"{n} {first[n]:.3f}->{last[n]:.3f}" for n in layers)
            + f"; K-NN error (bank: trained images) "
            f"{first['knn_error']:.3f} -> {last['knn_error']:.3f}"
        ]
        rows += mine
    plot_invariance(rows, folder / "figure")
    columns = ["model", "epoch", "knn_error"] + list(
        dict.fromkeys(k for r in rows for k in r if k not in ("model", "epoch", "knn_error"))
    )
    return Result(rows, columns, summary, ["figure"])


TRANSFER = ("cifar100", "stl10")


def _fig9_runs(plan: Plan) -> list[Run]:
    return _random_da(plan) + _random_no_da(plan)


def _fig9(plan: Plan, runs: list[Run], folder: Path) -> Result:
    weights = (
        ("random + DA", runs[0], "checkpoint"),
        ("random, no DA", runs[1], "checkpoint"),
        ("init", runs[0], "init"),
    )
    rows = [
        {"target": target or "cifar10", "weights": w, "knn": _probe(plan, run, f"{file}.pt", target=target)}
        for target in (None, *TRANSFER)
        for w, run, file in weights
    ]
    targets = ["cifar10", *TRANSFER]
    plot_transfer(rows, targets, [w for w, _, _ in weights], folder / "figure")
    by = {(r["target"], r["weights"]): r["knn"] for r in rows}
    summary = [
        f"{t}: K-NN {by[t, 'random + DA']:.3f} random + DA vs {by[t, 'random, no DA']:.3f} without DA vs "
        f"{by[t, 'init']:.3f} init"
        for t in targets
    ]
    return Result(rows, ["target", "weights", "knn"], summary, ["figure"])


# ----------------------------------------------------------------------------- Table 4: i.i.d. augmentations
def _table4_runs(plan: Plan) -> list[Run]:
    s, B = plan.scale.iid
    iid = [plan.run(label_noise=noise, augment="iid", views=B, iid_subset=s) for noise in (0.0, 1.0)]
    return iid + [plan.augmented(label_noise=noise) for noise in (0.0, 1.0)]


def _table4(plan: Plan, runs: list[Run], folder: Path) -> Result:
    s, B = plan.scale.iid
    names = [f"i.i.d. augmentations (s = {s}, B = {B})"] * 2 + [f"{plan.scale.base.subset or 'all'} images + DA"] * 2
    rows = [
        {"protocol": name, "labels": labels, **final(plan, run)}
        for name, labels, run in zip(names, ("clean", "random") * 2, runs)
    ]
    header = [
        "protocol",
        "labels",
        "K-NN (bank: trained images, Def. 4.1)",
        "K-NN (bank: all, released code)",
        "K-NN init (trained / all)",
        "memorized (trained items)",
        "first step memorized (accuracy 1)",
        "steps",
    ]
    wide = [
        [
            r["protocol"],
            r["labels"],
            r["knn_train"],
            r["knn_all"],
            f"{r['knn_init_train']:.3f} / {r['knn_init_all']:.3f}",
            r["train_acc"],
            r["steps_to_memorize"],
            r["steps"],
        ]
        for r in rows
    ]
    summary = [
        f"{r['protocol']}, {r['labels']} labels: K-NN {r['knn_train']:.3f} (bank all {r['knn_all']:.3f}; init "
        f"{r['knn_init_train']:.3f} / {r['knn_init_all']:.3f}), memorized {r['train_acc']:.3f} after "
        f"{r['steps']} steps"
        for r in rows
    ]
    return Result(rows, ["protocol", "labels", *RECORD], summary, table=markdown_table(header, wide))


# ----------------------------------------------------------------------------- sweeps: Fig. 7, 8, 11, 12
def _sweep_table(key: str, rows: list[dict]) -> str:
    return markdown_table(
        [
            key,
            "K-NN (bank: trained images, Def. 4.1)",
            "K-NN init",
            "K-NN (bank: all, released code)",
            "K-NN init (bank all)",
            "memorized",
            "first step memorized (accuracy 1)",
            "steps",
        ],
        [
            [
                r[key],
                r["knn_train"],
                r["knn_init_train"],
                r["knn_all"],
                r["knn_init_all"],
                r["train_acc"],
                r["steps_to_memorize"],
                r["steps"],
            ]
            for r in rows
        ],
    )


def _sweep(
    key: str, values: Callable[[Plan], tuple], make: Callable[[Plan, object], Run], xlabel: str, xscale: str = "linear"
) -> tuple[Callable, Callable]:
    """runs and finish of a one-knob sweep of random-label runs: final K-NN (both banks) and memorization against the
    knob, every run at the scale's step budget."""

    def runs(plan: Plan) -> list[Run]:
        return [make(plan, v) for v in values(plan)]

    def finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
        rows = [{key: v, **final(plan, r)} for v, r in zip(values(plan), runs)]
        xs = [r[key] for r in rows]
        init = rows[0]["knn_init_train"]
        plot_lines(
            folder / "figure",
            {
                "K-NN test accuracy (bank: trained images)": (xs, [r["knn_train"] for r in rows]),
                "K-NN test accuracy (bank: all images)": (xs, [r["knn_all"] for r in rows]),
                "memorized (random labels)": (xs, [r["train_acc"] for r in rows]),
            },
            xlabel,
            "accuracy",
            f"random labels + augmentation: {xlabel}",
            {"K-NN at init (trained images)": init, "K-NN at init (all)": rows[0]["knn_init_all"]},
            xscale,
        )
        summary = [
            f"K-NN (bank: trained images) by {key}: "
            + ", ".join(f"{r[key]}: {r['knn_train']:.3f} (init {r['knn_init_train']:.3f})" for r in rows),
            f"K-NN (bank: all) by {key}: "
            + ", ".join(f"{r[key]}: {r['knn_all']:.3f} (init {r['knn_init_all']:.3f})" for r in rows),
            f"memorized by {key}: "
            + ", ".join(f"{r[key]}: {r['train_acc']:.3f}" for r in rows)
            + f" after {rows[0]['steps']} steps",
        ]
        return Result(rows, [key, *RECORD], summary, ["figure"], table=_sweep_table(key, rows))

    return runs, finish


_fig7 = _sweep(
    "projector_width",
    lambda p: p.scale.projector_widths,
    lambda p, w: p.augmented(label_noise=1.0, projector_width=w),
    "projector hidden width",
    "log",
)
_fig8_runs, _fig8_sweep = _sweep(
    "random_classes",
    lambda p: p.scale.random_classes,
    lambda p, c: p.augmented(label_noise=1.0, random_classes=None if c == 10 else c),
    "number of random classes C'",
)


def _fig8(plan: Plan, runs: list[Run], folder: Path) -> Result:
    """The classes sweep, and per C' the unbiased Inv and Bias (online_estimates) and the Bias's between-true-class
    ("bad") part (Eq. B.4) over training (decomposition.png)."""
    result = _fig8_sweep(plan, runs, folder)
    plot_decomposition(
        {
            f"C' = {c}": [r for r in metrics_of(plan, run) if "inv_unbiased" in r]
            for c, run in zip(plan.scale.random_classes, runs)
        },
        folder / "decomposition",
    )
    return replace(result, figures=result.figures + ["decomposition"])


_fig11 = _sweep(
    "strength",
    lambda p: p.scale.randaugment_strengths,
    lambda p, m: p.run(label_noise=1.0, augment="randaugment", randaugment_mapping="strength", randaugment_strength=m),
    "RandAugment strength (the released code's: ops floor(10 s / 3) + 1, magnitude 100 s)",
)


FIG12_AUGMENTATIONS = ("none", "DA")  # the table's labels: none, the scale's augmentation


def _fig12_runs(plan: Plan) -> list[Run]:
    return [
        _condition(plan, "cifar10", "resnet18", noise, aug == "DA")
        for aug in FIG12_AUGMENTATIONS
        for noise in plan.scale.noise_levels
    ]


def _fig12(plan: Plan, runs: list[Run], folder: Path) -> Result:
    levels = plan.scale.noise_levels
    rows = [
        {"augmentation": aug, "label_noise": noise, **final(plan, r)}
        for (aug, noise), r in zip([(a, x) for a in FIG12_AUGMENTATIONS for x in levels], runs)
    ]
    init = rows[0]["knn_init_train"]
    series = {
        f"K-NN, {'no augmentation' if aug == 'none' else 'DA'}": (
            list(levels),
            [r["knn_train"] for r in rows if r["augmentation"] == aug],
        )
        for aug in FIG12_AUGMENTATIONS
    }
    plot_lines(
        folder / "figure",
        series,
        "fraction of random labels",
        "K-NN test accuracy (bank: trained images)",
        f"label noise with and without augmentation ({rows[0]['steps']} steps each)",
        {"K-NN at init": init},
    )
    summary = [
        f"{'no aug' if aug == 'none' else 'DA'}: K-NN "
        + ", ".join(f"{r['label_noise']:g}: {r['knn_train']:.3f}" for r in rows if r["augmentation"] == aug)
        + f" (init {init:.3f});"
        " bank all "
        + ", ".join(f"{r['label_noise']:g}: {r['knn_all']:.3f}" for r in rows if r["augmentation"] == aug)
        + "; memorized "
        + ", ".join(f"{r['label_noise']:g}: {r['train_acc']:.3f}" for r in rows if r["augmentation"] == aug)
        for aug in FIG12_AUGMENTATIONS
    ]
    table = markdown_table(
        [
            "augmentation",
            "label noise",
            "K-NN (bank: trained images, Def. 4.1)",
            "K-NN (bank: all, released code)",
            "memorized",
            "first step memorized (accuracy 1)",
            "steps",
        ],
        [
            [
                r["augmentation"],
                r["label_noise"],
                r["knn_train"],
                r["knn_all"],
                r["memorized"],
                r["steps_to_memorize"],
                r["steps"],
            ]
            for r in rows
        ],
    )
    probed = {
        f"{aug}/{noise:g}": _definition_probes(plan, r)
        for (aug, noise), r in zip([(a, x) for a in FIG12_AUGMENTATIONS for x in levels], runs)
    }
    return Result(
        rows, ["augmentation", "label_noise", *RECORD], summary, ["figure"], table=table, extra={"probed": probed}
    )


def _definition_probes(plan: Plan, run: Run) -> dict:
    """bm.analyses.def41's probes of a finished run (accuracies and packed per-test outcomes, trained and init), kept in
    the run folder (definition_probes.json, a record results/ keeps: findings need no weights)."""
    from bm.analyses.def41 import probes_of_run

    return probes_of_run(plan.folder(run), plan.data[run.config.dataset], plan.device)


# ----------------------------------------------------------------------------- Fig. 5 and Fig. 13: own runners
def _fig5_config(plan: Plan) -> CapacitySweepConfig:
    f = plan.scale.fig5
    return replace(f, train=replace(f.train, data_dir=str(plan.data_dir), device=plan.device))


def _fig5(plan: Plan, runs: list[Run], folder: Path) -> Result:
    config = _fig5_config(plan)
    record = capacity_and_sweep(config, plan.data["cifar10"], folder)
    plot_sweep(record, folder / "sweep")
    rows = [
        {
            **r,
            "capacity": record["capacity"],
            "knn_init": record["knn_init"],
            "knn_init_train": record["knn_init_train"],
        }
        for r in record["rows"]
    ]
    summary = [
        f"C_t = {record['capacity']} (t = {config.steps} steps), n = {record['n']}, K-NN at init "
        f"{record['knn_init']:.3f} (bank all) / {record['knn_init_train']:.3f} (bank: the n images)"
    ] + [
        f"labels {'preserved' if p else 'own'}: "
        + ", ".join(
            f"B={r['B']} mem {r['memorization']:.2f} knn {r['knn']:.3f} / {r['knn_train']:.3f}"
            for r in rows
            if r["preserve_labels"] == p
        )
        for p in (False, True)
    ]
    return Result(
        rows,
        ["B", "preserve_labels", "nB", "memorization", "knn", "knn_train", "capacity", "knn_init", "knn_init_train"],
        summary,
        ["sweep"],
    )


def _fig5_seconds(plan: Plan) -> float:
    """Fig. 5's work: 2 |Bs| sweep runs and about 2 repeats log2(n_max) capacity runs, t steps of a batch each."""
    f = plan.scale.fig5
    runs = 2 * len(f.Bs) + 2 * f.repeats * math.log2(f.n_max)
    return runs * f.steps * f.train.batch_size / plan.scale.images_per_second


def _fig5_command(plan: Plan, folder: Path) -> str:
    config = json.dumps(_fig5_config(plan).to_json(), sort_keys=True, separators=(",", ":"))
    return f"bm capacity deep --config {shlex.quote(config)} --out {shlex.quote(str(folder))}"


def _fig13(plan: Plan, runs: list[Run], folder: Path) -> Result:
    from bm.toy.grid import run_grid
    from bm.toy.summary import headline, read_grid, summarize

    run_grid(plan.scale.toy, folder, progress=plan.progress)
    grid_heatmap(folder)
    grid = read_grid(folder / "grid.csv")
    capacity = read_json(folder / "capacity.json", {"capacity": (int, float)})["capacity"]
    h = headline(grid, capacity)
    rows = [{"n": n, "B": B, **means} for (n, B), means in sorted(summarize(grid).items())]
    summary = [
        f"C_t = {capacity}; n = {h['n']}: K-NN {h['knn_B_max']:.3f} with B = {h['B_max']}, "
        f"{h['knn_B_min']:.3f} without augmentation, {h['knn_init']:.3f} at init",
        f"lowest memorization of the augmented set below C_t: {h['min_mem_aug_below_capacity']:.3f}",
    ]
    return Result(rows, list(rows[0]), summary, ["heatmap"])


def _fig13_command(plan: Plan, folder: Path) -> str:
    config = json.dumps(plan.scale.toy.to_json(), sort_keys=True, separators=(",", ":"))
    return f"bm toy-grid --config {shlex.quote(config)} --out {shlex.quote(str(folder))}"


# ----------------------------------------------------------------------------- seed-003: geometry and rewinding
def _seed003_runs(plan: Plan) -> list[Run]:
    return [plan.augmented(label_noise=0.5, snapshots=plan.scale.snapshots)]


def _seed003(plan: Plan, runs: list[Run], folder: Path) -> Result:
    run = plan.folder(runs[0])
    geo = run_geometry(run, device=plan.device, **plan.scale.geometry)
    rew = rewind(run, [0, *plan.scale.snapshots], [1, 2, 3], device=plan.device)
    write_geometry(geo, folder / "geometry", f"{run.name}: MFTMA per layer (epochs by colour)")
    write_rewind(rew, folder / "rewind")
    rows = [
        {"epoch": e, "layer": layer, "group": g, **{k: v[k] for k in ("capacity", "radius", "dimension")}}
        for e, per in geo["results"].items()
        for layer, groups in per.items()
        for g, v in groups.items()
    ]
    first, last = geo["epochs"][0], geo["epochs"][-1]
    cap = {
        e: {layer: geo["results"][e][layer]["randomized"]["capacity"] for layer in geo["layers"]} for e in (first, last)
    }
    summary = [
        f"capacity of the randomized-label manifolds, epoch {first} -> {last}: "
        + ", ".join(f"{layer} {cap[first][layer]:.3f}->{cap[last][layer]:.3f}" for layer in geo["layers"])
    ] + [
        f"rewind last {r['layers']} to epoch {r['epoch']}: K-NN {r['knn_clean_test']:.3f}, randomized train acc "
        f"{r['randomized_train_acc']:.3f}"
        for r in rew["rows"]
        if r["epoch"] == 0
    ]
    return Result(rows, ["epoch", "layer", "group", "capacity", "radius", "dimension"], summary, ["geometry", "rewind"])


def _none(plan: Plan) -> list[Run]:
    return []


_ALL = [
    Preset(
        "benign",
        "figure",
        "Sec. 4 headline",
        "benign memorization: random labels memorized with augmentation, "
        "embedding K-NN above init and above the twin trained without augmentation; per-layer probes, invariance",
        _benign_runs,
        _benign,
        seeds="own",
    ),
    Preset(
        "table1",
        "table",
        "Table 1",
        "per-layer K-NN (clean labels) of the random-label network trained without augmentation, against init",
        _random_no_da,
        _table1,
    ),
    Preset(
        "fig2",
        "figure",
        "Figure 2",
        "training curves (loss, memorization) of clean / random labels with and without augmentation",
        lambda p: [_condition(p, "cifar10", "resnet18", n, da) for _, n, da in CONDITIONS],
        _fig2,
    ),
    Preset(
        "table2",
        "table",
        "Table 2",
        "K-NN probing of the embedding: clean, clean+DA, random, random+DA, init "
        "(CIFAR-10/100, TinyImageNet; ResNet18, VGG11 on TinyImageNet)",
        _conditions,
        _probing_table("knn_clean_test", "K-NN"),
        by_dataset=True,
    ),
    Preset(
        "table3",
        "table",
        "Table 3",
        "linear probing of the same runs as table2",
        _conditions,
        _probing_table("linear_clean_test", "linear"),
        by_dataset=True,
    ),
    Preset(
        "fig3",
        "figure",
        "Figure 3",
        "per-layer K-NN of the random+DA ResNet18 (CIFAR-10), fitted on clean vs "
        "random labels, incl. projector P and O, at init, at the scale's snapshots and at the end",
        _fig3_runs,
        _fig3,
    ),
    Preset(
        "table4",
        "table",
        "Table 4",
        "i.i.d. augmentations (same-class images) under clean and random labels vs the full data set with DA",
        _table4_runs,
        _table4,
    ),
    Preset(
        "fig5",
        "figure",
        "Figure 5",
        "capacity C_t, then finite augmentation sets: memorization (labels not "
        "preserved) and K-NN (preserved) against B",
        _none,
        _fig5,
        command=_fig5_command,
        extra_seconds=lambda p: _fig5_seconds(p),
        seeds="none",
    ),
    Preset(
        "fig6",
        "figure",
        "Figure 6",
        "normalized invariance per layer over epochs and the K-NN error of the "
        "random+DA run, ResNet18 beside an MLP encoder",
        _fig6_runs,
        _fig6,
    ),
    Preset("fig7", "figure", "Figure 7", "projector hidden-width sweep (random labels + DA)", *_fig7),
    Preset(
        "fig8",
        "figure",
        "Figure 8",
        "number of random classes, up to one per sample (random labels + DA); Inv, Bias and the bad bias over training",
        _fig8_runs,
        _fig8,
    ),
    Preset(
        "fig9",
        "figure",
        "Figure 9",
        "transfer: K-NN of the CIFAR-10 random-label embeddings, with and without DA, on CIFAR-100 and STL-10",
        _fig9_runs,
        _fig9,
        extra_datasets=TRANSFER,
    ),
    Preset("fig11", "figure", "Figure 11", "RandAugment strength sweep (random labels)", *_fig11),
    Preset("fig12", "figure", "Figure 12", "fraction of random labels, with and without DA", _fig12_runs, _fig12),
    Preset(
        "fig13",
        "figure",
        "Figure 13",
        "the toy model's n x B heatmap (bm toy-grid)",
        _none,
        _fig13,
        command=_fig13_command,
        extra_seconds=lambda p: {"full": 90.0, "mini": 60.0}[p.scale.name],
        seeds="none",
    ),
    Preset(
        "phase",
        "figure",
        "beyond the paper",
        "the n x B phase diagram of random-label runs at one step budget, with "
        "C_t (Definition D.1) and the toy's diagram beside it; the time to the benign transition against n and width",
        phase_runs,
        phase_finish,
    ),
    Preset(
        "seed003",
        "figure",
        "Stephenson et al. line",
        "MFTMA geometry across layers and epochs of a 50%-noise DA run, and layer rewinding",
        _seed003_runs,
        _seed003,
        extra_seconds=lambda p: {"full": 1800.0, "mini": 120.0}[p.scale.name],
    ),
]
PRESETS = {p.name: p for p in _ALL}


def register_preset(preset: Preset) -> Preset:
    """Add a preset under its own new name (a taken one is one BMError); `bm reproduce NAME` runs it."""
    return register(PRESETS, "preset", preset.name, preset)
