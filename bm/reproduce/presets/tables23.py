"""Tables 2 and 3: K-NN and linear probing of the embedding under clean / random labels, with and without DA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bm.reproduce.outputs import Result, markdown_table
from bm.reproduce.plan import Plan, Run
from bm.reproduce.presets.base import Preset, register_preset
from bm.reproduce.presets.common import CONDITIONS, condition, embedding_probe_of, own_test_accuracy
from bm.reproduce.readout import RECORD, final
from bm.runs import RunFolder

TABLE_ROWS = (
    ("cifar10", "resnet18"),
    ("cifar100", "resnet18"),
    ("tinyimagenet", "resnet18"),
    ("tinyimagenet", "vgg11"),
)


def _table_rows(plan: Plan) -> list[tuple[str, str]]:
    return [(d, m) for d, m in TABLE_ROWS if plan.datasets is None or d in plan.datasets]


def _conditions(plan: Plan) -> list[Run]:
    return [condition(plan, d, m, noise, da) for d, m in _table_rows(plan) for _, noise, da in CONDITIONS]


def _probing_table(metric: str, label: str) -> Callable[[Plan, list[Run], Path], Result]:
    def finish(plan: Plan, runs: list[Run], folder: Path) -> Result:
        rows, wide = [], []
        linear = metric == "linear_clean_test"  # the runs' own probes hold the K-NN under both banks
        for dataset, model in _table_rows(plan):
            mine = {cond: condition(plan, dataset, model, noise, da) for cond, noise, da in CONDITIONS}  # by name
            records = {cond: final(plan, run) | own_test_accuracy(plan, run) for cond, run in mine.items()}
            for cond, rec in records.items():
                rec[metric] = embedding_probe_of(plan, mine[cond], linear=True) if linear else rec["knn_train"]
            init = (
                embedding_probe_of(plan, mine["random+DA"], RunFolder.INIT, linear)
                if linear
                else records["random+DA"]["knn_init_train"]
            )
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


register_preset(
    Preset(
        "table2",
        "table",
        "Table 2",
        "K-NN probing of the embedding: clean, clean+DA, random, random+DA, init "
        "(CIFAR-10/100, TinyImageNet; ResNet18, VGG11 on TinyImageNet)",
        _conditions,
        _probing_table("knn_clean_test", "K-NN"),
        by_dataset=True,
    )
)


register_preset(
    Preset(
        "table3",
        "table",
        "Table 3",
        "linear probing of the same runs as table2",
        _conditions,
        _probing_table("linear_clean_test", "linear"),
        by_dataset=True,
    )
)
