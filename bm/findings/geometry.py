"""The findings of Stephenson et al. 2021's experiments (each preset's generated blocks, as bm.findings.presets):
the permuted examples' gradient (the gradients preset, and bm gradients records), model-wise double descent and its
geometry (doubledescent), geometry across layers and layer rewinding (seed003)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bm.findings.tables import findings_table
from bm.runs import read_csv_rows
from bm.stats import MARGIN, VERDICT_RULE, Finding, judge

__all__ = ["CAPACITY_MARGIN", "doubledescent_blocks", "gradients_blocks", "gradients_preset_blocks", "seed003_blocks"]


def _shown(epochs: list[int]) -> list[int]:
    """The epochs a table shows: every one up to 10, then the first at or past 25 * 2^j for each j, and the last."""
    marks = [25 * 2**j for j in range(32) if 25 * 2**j <= epochs[-1]]
    later = {next(e for e in epochs if e >= m) for m in marks}
    return [e for e in epochs if e <= 10 or e in later or e == epochs[-1]]


def gradients_blocks(records: dict[str, dict]) -> dict[str, str]:
    """Stephenson et al.'s permuted-gradient measurement over seeds (bm gradients records by seed): per epoch, the
    permuted / clean ratio of the label term's and of the whole loss's summed gradient (mean over seeds, and the range)
    and the permuted images' fit (at the epochs `_shown` picks); the claims that at each early epoch (up to 10) the
    permuted group's label-term gradient is the smaller (log ratio < 0, over seeds, TOST margin 0.1 in log ratio), and
    that it stays the smaller until half the permuted images are fitted (each seed's mean log ratio before then)."""
    seeds = sorted(records)
    epochs = sorted({int(e) for r in records.values() for e in r["epochs"]})
    epochs = [e for e in epochs if all(str(e) in r["epochs"] for r in records.values())]

    def values(epoch: int, key: str, sub: str | None = "ratio") -> list[float]:
        rows = [records[s]["epochs"][str(epoch)] for s in seeds]
        return [r[key][sub] if sub else r[key] for r in rows]

    lines = [
        f"Over seeds {', '.join(seeds)}: |summed gradient of the permuted images| / |that of the clean images| (mean,"
        " and the range over seeds), of the loss's label term and of the whole loss, and the permuted images' fit to"
        " their random labels:",
        "",
        "| epoch | label term: permuted / clean | whole loss: permuted / clean | permuted images fitted |",
        "| --- | --- | --- | --- |",
    ]
    for e in _shown(epochs):
        label, whole, fit = values(e, "label_total"), values(e, "total"), values(e, "permuted_fit", None)
        lines.append(
            f"| {e} | {np.mean(label):.3f} [{min(label):.3f}, {max(label):.3f}] | {np.mean(whole):.3f} "
            f"[{min(whole):.3f}, {max(whole):.3f}] | {np.mean(fit):.3f} |"
        )
    early = [e for e in epochs if e <= 10]
    findings = [
        Finding(
            f"label term at epoch {e}: permuted images' gradient < clean images' (log of the ratio)",
            "less",
            tuple(np.log(values(e, "label_total"))),
            tuple(np.zeros(len(seeds))),
            0.1,
        )
        for e in early
    ]
    fitted = {s: next((e for e in epochs if records[s]["epochs"][str(e)]["permuted_fit"] >= 0.5), -1) for s in seeds}
    if all(e > epochs[0] for e in fitted.values()):  # -1: never half fitted; epochs[0]: fitted before any change
        before = [  # per seed, the mean log ratio over the measured epochs before half the permuted images are fitted
            float(
                np.mean([np.log(records[s]["epochs"][str(e)]["label_total"]["ratio"]) for e in epochs if e < fitted[s]])
            )
            for s in seeds
        ]
        findings.append(
            Finding(
                "label term until half the permuted images are fitted: permuted < clean (mean log ratio over the epochs "
                f"before it: {', '.join(str(fitted[s]) for s in seeds)} by seed)",
                "less",
                tuple(before),
                tuple(np.zeros(len(seeds))),
                0.1,
            )
        )
    return {
        "gradients.table": "\n".join(lines) + "\n",
        "gradients.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }


CAPACITY_MARGIN = 0.05  # the equivalence margin of a claim about MFTMA capacity (alpha = P / N): our choice
GROUP_NAMES = {"randomized": "permuted"}  # bm.probe.manifolds' group names as the findings say them


def doubledescent_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Model-wise double descent over seeds: per width the fits and the test accuracy (means), the per-seed
    interpolation threshold, each layer's MFTMA capacity of the permuted, the kept and the clean manifolds against
    width; claims paired by seed: test accuracy rises from each width to the next (a double-descent peak would break
    it at the threshold), the threshold's test accuracy is below its smaller neighbour's (the peak), and the permuted
    manifolds' capacity in the last layers is higher at the threshold than at either neighbour (Stephenson et al.)."""
    seeds = [str(s) for s in record["seeds"]]
    rows = read_csv_rows(folder / "table.csv", integers=("width",))
    widths = sorted({int(r["width"]) for r in rows})
    at = {(r["seed"], int(r["width"])): r for r in rows}
    value = lambda w, column: tuple(float(at[s, w][column]) for s in seeds)  # noqa: E731
    threshold = {s: record["per_seed"][s]["threshold"] for s in seeds}
    lines = [
        f"Means over seeds {', '.join(seeds)}; interpolation threshold (the smallest width that fits every training "
        f"label) per seed: {', '.join(str(threshold[s]) for s in seeds)}.",
        "",
        "| width | parameters | fit (all) | fit (permuted) | fit (kept) | test accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {w} | {at[seeds[0], w]['params']} | "
            + " | ".join(f"{np.mean(value(w, c)):.3f}" for c in ("train_fit", "permuted_fit", "kept_fit", "test_acc"))
            + " |"
            for w in widths
        ),
    ]
    geometry = {s: record["per_seed"][s]["geometry"] for s in seeds}
    layers = list(geometry[seeds[0]][str(widths[0])])
    groups = list(geometry[seeds[0]][str(widths[0])][layers[0]])
    capacity = lambda w, layer, g: tuple(geometry[s][str(w)][layer][g]["capacity"] for s in seeds)  # noqa: E731
    geo = [
        "MFTMA capacity (mean over seeds) of the manifolds of the permuted examples (grouped by their random label), "
        "the kept examples and the clean probe set (by true class), at the final weights:",
        "",
        "| layer | manifolds | " + " | ".join(f"width {w}" for w in widths) + " |",
        "|" + " --- |" * (2 + len(widths)),
        *(
            f"| {layer} | {GROUP_NAMES.get(g, g)} | "
            + " | ".join(f"{np.mean(capacity(w, layer, g)):.3f}" for w in widths)
            + " |"
            for layer in layers
            for g in groups
        ),
    ]
    findings = [
        Finding(f"test accuracy: width {b} > width {a}", "greater", value(b, "test_acc"), value(a, "test_acc"), MARGIN)
        for a, b in zip(widths, widths[1:])
    ]
    inner = [s for s in seeds if threshold[s] in widths[1:-1]]
    if len(inner) >= 2:  # the threshold has a neighbour on each side in every such seed
        below = lambda s: widths[widths.index(threshold[s]) - 1]  # noqa: E731
        above = lambda s: widths[widths.index(threshold[s]) + 1]  # noqa: E731
        acc = lambda s, w: float(at[s, w]["test_acc"])  # noqa: E731
        findings.append(
            Finding(
                "double-descent peak: test accuracy at the threshold < at the width below it",
                "less",
                tuple(acc(s, threshold[s]) for s in inner),
                tuple(acc(s, below(s)) for s in inner),
                MARGIN,
            )
        )
        cap = lambda s, w, layer: geometry[s][str(w)][layer]["randomized"]["capacity"]  # noqa: E731
        for layer in layers[-2:]:
            for side, name in ((below, "below"), (above, "above")):
                findings.append(
                    Finding(
                        f"layer {layer}: permuted manifolds' capacity at the threshold > at the width {name} it",
                        "greater",
                        tuple(cap(s, threshold[s], layer) for s in inner),
                        tuple(cap(s, side(s), layer) for s in inner),
                        CAPACITY_MARGIN,
                    )
                )
    return {
        "doubledescent.widths": "\n".join(lines) + "\n",
        "doubledescent.geometry": "\n".join(geo) + "\n",
        "doubledescent.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }


def seed003_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """Stephenson et al. over seeds: per layer the MFTMA capacity of the permuted examples' manifolds (by random label)
    and of the clean probe set's, at init and at the end; claims paired by seed: the permuted capacity rises from init
    in each layer (memorization, expected in the last layers), and rewinding the last k layers to init undoes the
    permuted images' fit while the embedding's K-NN is unchanged (TOST)."""
    seeds = [str(s) for s in record["seeds"]]
    rows = read_csv_rows(folder / "table.csv", integers=("epoch",), numbers=("capacity",))
    first, last = min(int(r["epoch"]) for r in rows), max(int(r["epoch"]) for r in rows)
    at = {(r["seed"], int(r["epoch"]), r["layer"], r["group"]): float(r["capacity"]) for r in rows}
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    cap = lambda e, layer, g: tuple(at[s, e, layer, g] for s in seeds)  # noqa: E731
    lines = [
        f"MFTMA capacity, mean over seeds {', '.join(seeds)}, at init (epoch {first}) and at the end (epoch {last}):",
        "",
        "| layer | permuted: init | permuted: end | clean: init | clean: end |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {layer} | "
            + " | ".join(f"{np.mean(cap(e, layer, g)):.3f}" for g in ("randomized", "clean") for e in (first, last))
            + " |"
            for layer in layers
        ),
    ]
    findings = [
        Finding(
            f"layer {layer}: permuted manifolds' capacity rises from init",
            "greater",
            cap(last, layer, "randomized"),
            cap(first, layer, "randomized"),
            CAPACITY_MARGIN,
        )
        for layer in layers
    ]
    rewound = {(s, r["epoch"], r["layers"]): r for s in seeds for r in record["per_seed"][s]["rewind"]}
    value = lambda k, key: tuple(rewound[s, 0, k][key] for s in seeds)  # noqa: E731
    ks = sorted({k for (_, e, k) in rewound if e == 0 and k > 0})
    rewind_lines = [
        "Rewinding the last k layers to init (the rest from the end), mean over seeds; K-NN: k = 20 on S, of the "
        "embedding, which rewinding the projector alone cannot change (no claim is made about it there):",
        "",
        "| k | layers rewound | K-NN (clean test) | network's own test accuracy | permuted images' fit |",
        "| --- | --- | --- | --- | --- |",
        *(
            f"| {k} | {', '.join(rewound[seeds[0], 0, k]['rewound']) or '-'} | {np.mean(value(k, 'knn_clean_test')):.3f}"
            f" | {np.mean(value(k, 'output_test_acc')):.3f} | {np.mean(value(k, 'randomized_train_acc')):.3f} |"
            for k in [0, *ks]
        ),
    ]
    projector = set(layers[layers.index("embedding") + 1 :]) if "embedding" in layers else set()
    for k in ks:
        findings.append(
            Finding(
                f"rewinding the last {k} layers to init: the permuted images' fit falls",
                "less",
                value(k, "randomized_train_acc"),
                value(0, "randomized_train_acc"),
                MARGIN,
            )
        )
        if set(rewound[seeds[0], 0, k]["rewound"]) - projector:  # the embedding changes only past the projector
            findings.append(
                Finding(
                    f"rewinding the last {k} layers to init: K-NN k = 20 on S unchanged",
                    "absent",
                    value(k, "knn_clean_test"),
                    value(0, "knn_clean_test"),
                    MARGIN,
                )
            )
    return {
        "seed003.capacity": "\n".join(lines) + "\n",
        "seed003.rewind": "\n".join(rewind_lines) + "\n",
        "seed003.findings": VERDICT_RULE + "\n\n" + findings_table(judge(findings)),
    }


def gradients_preset_blocks(folder: Path, record: dict, probe: str) -> dict[str, str]:
    """The gradients preset's blocks: gradients_blocks of its per-seed records."""
    return gradients_blocks({f"seed{s}": record["per_seed"][str(s)]["gradients"] for s in record["seeds"]})
