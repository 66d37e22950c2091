"""Findings from committed results: the tables the README and docs/findings.md quote, generated, never typed.

`results/` (RESULTS) holds, per scale, each preset's outputs (`<scale>/<preset>/result.json`, table.csv / .md) and
each run's records (`<scale>/runs/<run>/config.json`, metrics.jsonl): no weights. `collect` copies them there from a
`bm reproduce` output folder (adding to what is there: seeds accumulate); `render` turns them into Markdown blocks;
`write` puts every block into the files that quote it, between `<!-- bm:NAME -->` and `<!-- /bm:NAME -->`; `stale`
lists the blocks whose committed text differs from what the results give (CI fails on any).

Torch-free: numpy and scipy only (bm.stats).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bm.errors import BMError
from bm.jsonfiles import read_json_file
from bm.stats import MARGIN, VERDICT_RULE, Finding, crossed_bootstrap, judge

__all__ = ["HEADLINE_FAMILY", "RESULTS", "RUN_FILES", "collect", "headline_probe", "render", "stale", "write"]

RESULTS = Path("results")
RUN_FILES = ("config.json", "metrics.jsonl", "definition_probes.json")  # a run's records (no weights)
PRESET_FILES = ("result.json", "table.csv", "table.md", "config.json", "tasks.jsonl")
HEADLINE_FAMILY = ("knn_k1", "knn_k5", "knn_k10", "knn_k20", "linear")  # probes on S (Def. 4.1)
PROBE_NAMES = {
    "knn_k1": "K-NN k = 1 on S",
    "knn_k5": "K-NN k = 5 on S",
    "knn_k10": "K-NN k = 10 on S",
    "knn_k20": "K-NN k = 20 on S",
    "linear": "linear probe on S (l2 by 5-fold CV)",
    "knn_all_k20": "K-NN k = 20 on every training image (released code)",
}
BLOCK = re.compile(r"(<!-- bm:(?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /bm:(?P=name) -->)", re.S)


def collect(source: Path, results: Path = RESULTS) -> list[str]:
    """Copy every finished preset (a result.json) under `source` (a `bm reproduce --out` folder: <scale>/<preset>/)
    and every run's records (RUN_FILES of <scale>/runs/<run>/, finished or not: a later session carries them on)
    into `results`; returns the preset folders copied (scale/preset)."""
    copied = []
    for record_file in sorted(Path(source).glob("*/*/result.json")):
        preset, scale = record_file.parent, record_file.parent.parent
        _read(record_file)  # a preset's record, or one error naming it
        into = results / scale.name / preset.name
        into.mkdir(parents=True, exist_ok=True)
        for name in PRESET_FILES:
            if (preset / name).is_file():
                shutil.copyfile(preset / name, into / name)
        copied.append(f"{scale.name}/{preset.name}")
    for run in sorted(Path(source).glob("*/runs/*/config.json")):  # every run's records, finished or not
        into = results / run.parent.parent.parent.name / "runs" / run.parent.name
        into.mkdir(parents=True, exist_ok=True)
        for name in RUN_FILES:
            if (run.parent / name).is_file():
                shutil.copyfile(run.parent / name, into / name)
    return copied


def _read(path: Path) -> dict:
    value = read_json_file(path)
    if not isinstance(value, dict):
        raise BMError(f"{path} holds no JSON object")
    return value


def _outcomes(bits: list[str], m: int) -> np.ndarray:
    return np.stack([np.unpackbits(np.frombuffer(bytes.fromhex(b), dtype=np.uint8), count=m) for b in bits])


def _finding(f: dict, m: int) -> Finding:
    return Finding(
        f"{PROBE_NAMES.get(f['probe'], f['probe'])}: {f['claim']}",
        f["kind"],
        tuple(f["a"]),
        tuple(f["b"]),
        f["margin"],
        (_outcomes(f["items_a"], m), _outcomes(f["items_b"], m)),
    )


def headline_probe(record: dict) -> tuple[str, list[dict]]:
    """The Def. 4.1 probe (HEADLINE_FAMILY) whose gain over init has the narrowest crossed-bootstrap 95% interval
    over seeds and test images (the least noisy measurement of the embedding), and each probe's noise record."""
    m = record["seeds"][0]["test_size"]
    noise = []
    for f in record["findings"]:
        if f["claim"] != "trained > init":
            continue
        gain = np.subtract(f["a"], f["b"])
        low, high = crossed_bootstrap(_outcomes(f["items_a"], m), _outcomes(f["items_b"], m))
        noise.append(
            {
                "probe": f["probe"],
                "gain": float(gain.mean()),
                "sd_over_seeds": float(gain.std(ddof=1)),
                "boot_width": high - low,
                "init_sd_over_seeds": float(np.std(f["b"], ddof=1)),
            }
        )
    best = min((n for n in noise if n["probe"] in HEADLINE_FAMILY), key=lambda n: (n["boot_width"], n["probe"]))
    return best["probe"], noise


def _f(x: float | None, digits: int = 3) -> str:
    return "-" if x is None or x != x else f"{x:+.{digits}f}" if digits == 3 else f"{x:.{digits}g}"


def _table(rows: list[dict]) -> str:
    lines = [
        "| finding | effect | 95% CI (seeds, t) | 95% CI (seeds x test images, bootstrap) | seeds | p (Holm) | "
        "TOST p (Holm, margin) | verdict |",
        "|" + " --- |" * 8,
    ]
    for r in rows:
        lines.append(
            f"| {r['finding']} | {_f(r['effect'])} | [{_f(r['ci_low'])}, {_f(r['ci_high'])}] | "
            f"[{_f(r['boot_low'])}, {_f(r['boot_high'])}] | {r['seeds']} | {r['p_holm']:.2g} | "
            f"{r['tost_p_holm']:.2g} ({r['margin']:g}) | {r['verdict']} |"
        )
    return "\n".join(lines) + "\n"


def _benign_blocks(record: dict) -> dict[str, str]:
    seeds, m = record["seeds"], record["seeds"][0]["test_size"]
    chosen, noise = headline_probe(record)
    by_probe: dict[str, list[dict]] = {}
    for f in record["findings"]:
        by_probe.setdefault(f["probe"], []).append(f)
    headline = judge([_finding(f, m) for p in (chosen, "knn_all_k20") for f in by_probe[p]])
    sensitivity = judge(
        [_finding(f, m) for p in record["probes"] for f in by_probe[p] if f["claim"] == "trained > init"]
    )
    perfect = sum(bool(s["memorized"]) for s in seeds)
    steps = [s["step_memorized"] for s in seeds]
    finals = ", ".join(f"{s['final_accuracy']:.3f}" for s in seeds)
    counts = seeds[0]["bank_counts"]
    mean = {w: float(np.mean([s["accuracy"][w][chosen] for s in seeds])) for w in ("trained", "init", "no_aug")}
    gain = next(r for r in headline if r["finding"] == f"{PROBE_NAMES[chosen]}: trained > init")
    lead = (
        f"Over {len(seeds)} seeds ({seeds[0]['steps']} optimizer steps each), the network trained on random "
        f"labels with augmentation fits them perfectly (accuracy 1 on the trained images) within the budget in "
        f"{perfect} of {len(seeds)} seeds (first step at 1: {', '.join(str(s) for s in steps)}; accuracy at the last "
        f"step {finals}: under fresh views an image or two "
        f"is lost and refitted between measurements); its twin without augmentation in "
        f"{sum(bool(s['memorized_no_aug']) for s in seeds)} of {len(seeds)}. Probed as Definition 4.1 asks (bank S: "
        f"the {sum(counts)} trained images with their true labels, {min(counts)}-{max(counts)} per class; test: "
        f"the {m} held-out images) with the {PROBE_NAMES[chosen]}, its test accuracy is {mean['trained']:.3f} "
        f"against {mean['init']:.3f} at init and {mean['no_aug']:.3f} for the twin: a gain of "
        f"{gain['effect']:+.3f} (95% CI [{gain['ci_low']:+.3f}, {gain['ci_high']:+.3f}] over seeds; "
        f"[{gain['boot_low']:+.3f}, {gain['boot_high']:+.3f}] over seeds and test images), verdict: "
        f"**{gain['verdict']}**.\n"
    )
    per_seed = [
        "| seed | final accuracy on the random labels (first step at 1) | twin | "
        + " | ".join(f"{PROBE_NAMES[p]}: trained / init / twin" for p in record["probes"])
        + " |",
        "|" + " --- |" * (3 + len(record["probes"])),
    ]
    for s in seeds:
        per_seed.append(
            f"| {s['seed']} | {s['final_accuracy']:.3f} ({s['step_memorized']}) | "
            f"{s['final_accuracy_no_aug']:.3f} | "
            + " | ".join(
                f"{s['accuracy']['trained'][p]:.3f} / {s['accuracy']['init'][p]:.3f} / {s['accuracy']['no_aug'][p]:.3f}"
                for p in record["probes"]
            )
            + " |"
        )
    noise_table = [
        "| probe | gain over init | sd of the gain over seeds | bootstrap 95% interval width | sd at init over seeds |",
        "|" + " --- |" * 5,
    ]
    noise_table += [
        f"| {PROBE_NAMES[n['probe']]} | {n['gain']:+.3f} | {n['sd_over_seeds']:.3f} | {n['boot_width']:.3f} "
        f"| {n['init_sd_over_seeds']:.3f} |"
        for n in noise
    ]
    choice = (
        f"The headline probe is the {PROBE_NAMES[chosen]}: among the probes on S it has the narrowest bootstrap "
        f"interval of its gain over init (seeds and test images resampled; table below). The paper's k / "
        f"per-class ratio ({20}/{5000}) gives k = {seeds[0]['scaled_k']} on this bank.\n"
    )
    return {
        "benign.lead": lead,
        "benign.findings": VERDICT_RULE + "\n\n" + _table(headline),
        "benign.seeds": "\n".join(per_seed) + "\n",
        "benign.probes": choice + "\n" + "\n".join(noise_table) + "\n\n" + _table(sensitivity),
    }


def _fig12_blocks(record: dict, probe: str) -> dict[str, str]:
    """Fig. 12 over seeds: DA against no augmentation at each label-noise level, and whether DA's advantage falls
    with the noise (the per-seed least-squares slope of the advantage against the noise fraction, tested < 0)."""
    seeds = [str(s) for s in record["seeds"]]
    probed = [record["per_seed"][s]["probed"] for s in seeds]
    m = next(iter(probed[0].values()))["test_size"]
    levels = sorted({float(k.split("/")[1]) for k in probed[0]})
    findings = []
    for p in (probe, "knn_all_k20"):
        acc = lambda aug, x: [r[f"{aug}/{x:g}"]["accuracy"]["trained"][p] for r in probed]  # noqa: E731
        bits = lambda aug, x: _outcomes([r[f"{aug}/{x:g}"]["probes"]["trained"][p] for r in probed], m)  # noqa: E731
        for x in levels:
            findings.append(
                Finding(
                    f"{PROBE_NAMES[p]}: DA > no augmentation at label noise {x:g}",
                    "greater",
                    tuple(acc("DA", x)),
                    tuple(acc("none", x)),
                    MARGIN,
                    (bits("DA", x), bits("none", x)),
                )
            )
        advantage = np.array([np.subtract(acc("DA", x), acc("none", x)) for x in levels])  # (levels, seeds)
        slopes = np.polyfit(levels, advantage, 1)[0]  # per seed
        findings.append(
            Finding(
                f"{PROBE_NAMES[p]}: DA's advantage falls with label noise (slope per unit noise)",
                "less",
                tuple(slopes),
                tuple(np.zeros_like(slopes)),
                MARGIN,
            )
        )
    rows = judge(findings)
    mean = lambda aug, x, which: np.mean([r[f"{aug}/{x:g}"]["accuracy"][which][probe] for r in probed])  # noqa: E731
    levels_table = "\n".join(
        [
            f"{PROBE_NAMES[probe]}, test accuracy, mean over seeds {', '.join(seeds)}:",
            "",
            "| label noise | DA | no augmentation | init |",
            "| --- | --- | --- | --- |",
            *(
                f"| {x:g} | {mean('DA', x, 'trained'):.3f} | {mean('none', x, 'trained'):.3f} | "
                f"{mean('DA', x, 'init'):.3f} |"
                for x in levels
            ),
        ]
    )
    return {"fig12.findings": VERDICT_RULE + "\n\n" + _table(rows), "fig12.levels": levels_table}


def _gradients_blocks(records: dict[str, dict]) -> dict[str, str]:
    """Stephenson et al.'s permuted-gradient measurement over seeds (bm gradients records by seed): per epoch, the
    permuted / clean ratio of the label term's and of the whole loss's summed gradient (mean over seeds, and the range)
    and the permuted images' fit; the claim that at initialization the permuted group's label-term gradient is the
    smaller (log ratio < 0, paired over seeds, TOST margin 0.1 in log ratio)."""
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
    for e in epochs:
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
    return {"gradients.table": "\n".join(lines), "gradients.findings": VERDICT_RULE + "\n\n" + _table(judge(findings))}


RENDERERS: dict[str, Callable[..., dict[str, str]]] = {"benign": _benign_blocks, "fig12": _fig12_blocks}


def render(results: Path = RESULTS) -> dict[str, str]:
    """Every generated block, by name (<scale>.<block>: mini.benign.findings, ...), from `results` alone. The probe
    the other presets' findings use is the headline probe the scale's benign record chooses (K-NN k = 20 on S
    where it has none)."""
    blocks = {}
    for scale in sorted(p for p in Path(results).iterdir() if p.is_dir()) if Path(results).is_dir() else []:
        records = {f.parent.name: _read(f) for f in sorted(scale.glob("*/result.json")) if f.parent.name in RENDERERS}
        probe = headline_probe(records["benign"])[0] if "benign" in records else "knn_k20"
        for preset, record in records.items():
            made = RENDERERS[preset](record) if preset == "benign" else RENDERERS[preset](record, probe)
            blocks.update({f"{scale.name}.{k}": v for k, v in made.items()})
        gradients = {f.parent.name: _read(f) for f in sorted(scale.glob("gradients/*/gradients.json"))}
        if len(gradients) >= 2:
            blocks.update({f"{scale.name}.{k}": v for k, v in _gradients_blocks(gradients).items()})
    return blocks


def _replaced(text: str, blocks: dict[str, str], path: Path) -> str:
    def sub(match: re.Match) -> str:
        name = match["name"]
        if name not in blocks:
            raise BMError(f"{path} quotes the block {name!r}, which the results do not give")
        return match.group(1) + blocks[name] + match.group(4)

    return BLOCK.sub(sub, text)


def write(files: list[Path], results: Path = RESULTS) -> list[Path]:
    """Rewrite every block of `files` from `results`; returns the files that changed."""
    blocks, changed = render(results), []
    for path in files:
        text = path.read_text(encoding="utf-8")
        new = _replaced(text, blocks, path)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def stale(files: list[Path], results: Path = RESULTS) -> list[str]:
    """The blocks of `files` whose text differs from what `results` gives (file: block)."""
    blocks, out = render(results), []
    for path in files:
        for match in BLOCK.finditer(path.read_text(encoding="utf-8")):
            if blocks.get(match["name"]) != match["body"]:
                out.append(f"{path}: {match['name']}")
    return out
