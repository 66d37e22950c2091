"""Every bad input of every command, one row each: the command, its exit code (2), one line on stderr that says
what is wrong (no traceback), and what must not be left behind.

Placeholders: {data} a written CIFAR-10 folder, {run} a fresh copy of a finished deep run (2 epochs, snapshot at 1),
{grid} a fresh copy of a finished toy grid, {tmp} the row's own folder. `damage` acts on the copies first.
"""

from __future__ import annotations

import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TINY_ARGS, run


@dataclass(frozen=True)
class Row:
    argv: str  # the command line after `bm`, split as a shell would
    needle: str  # part of the one stderr line
    absent: tuple[str, ...] = ()  # paths under {tmp} that must not exist afterwards
    damage: tuple[tuple[str, str], ...] = ()  # (action, path under {tmp}): truncate | remove | text:CONTENT |
    # payload (a malicious pickle, torch.save format for .pt) | cifar:CHANGE (a CIFAR batch with one field wrong)
    unchanged: tuple[str, ...] = ()  # paths under {tmp} whose bytes must be the same afterwards


TOY = "toy-grid --out {tmp}/o " + " ".join(TINY_ARGS)
DEEP = "deep-train --preset smoke --data-dir {data} --out {tmp}/o --width 4 --projector-width 16 --epochs 2"
RESUME = "deep-train --preset smoke --data-dir {data} --width 4 --projector-width 16 --epochs 3 --batch-size 8 --snapshots 1 --resume"
HALF = "truncate"
PAYLOAD = "payload"
DATA_BATCH = "data/cifar-10-batches-py/data_batch_1"


class Payload:
    """Unpickling this calls open(marker, "w"): the file appears if a reader ran it."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def _write_payload(path: Path, marker: Path) -> None:
    import pickle

    import torch

    obj = {"model": Payload(marker), "epoch": 1, "data": Payload(marker), "labels": [0], "label_names": ["a"] * 10}
    if path.suffix == ".pt":
        torch.save(obj, path)
    else:
        path.write_bytes(pickle.dumps(obj))


def _damage_cifar(path: Path, change: str) -> None:
    """Rewrite a CIFAR batch (4 rows) with one field wrong."""
    import pickle

    import numpy as np

    rows = np.random.default_rng(0).integers(0, 256, (4, 3072), dtype=np.uint8)
    labels = [0, 1, 2, 3]
    if change == "labels=11":
        labels[2] = 11
    elif change == "dtype=float32":
        rows = rows.astype(np.float32)
    elif change == "labels=short":
        labels = labels[:3]
    elif change == "rows=2":
        rows, labels = rows[:2], labels[:2]
    path.write_bytes(pickle.dumps({"data": rows, "labels": labels}))


def _edit(path: Path, action: str) -> None:
    """set:a.b=JSON (a JSON file's field), bytes:HEX (the file's bytes), csv:COLUMN=VALUE (the first row's field),
    pt:epoch=three / pt:model={} / pt:shapes (a checkpoint's field; shapes: its first tensor 3 long)."""
    import json

    kind, _, what = action.partition(":")
    if kind == "bytes":
        path.write_bytes(bytes.fromhex(what))
    elif kind == "set":
        key, _, value = what.partition("=")
        record = json.loads(path.read_text())
        *parents, last = key.split(".")
        node = record
        for k in parents:
            node = node[k]
        node[last] = json.loads(value)
        path.write_text(json.dumps(record))
    elif kind == "csv":
        column, _, value = what.partition("=")
        lines = path.read_text().splitlines()
        header = lines[0].split(",")
        fields = lines[1].split(",")
        fields[header.index(column)] = value
        path.write_text("\n".join([lines[0], ",".join(fields), *lines[2:]]) + "\n")
    else:
        import torch

        state = torch.load(path, weights_only=True)
        if what == "epoch=three":
            state["epoch"] = "three"
        elif what == "model={}":
            state["model"] = {}
        else:
            key = next(iter(state["model"]))
            state["model"][key] = torch.zeros(3)
        torch.save(state, path)


ROWS = {
    # toy-grid: numbers and flags
    "toy lr nan": Row(f"{TOY} --lr nan", "lr must be a finite number", ("o",)),
    "toy lr inf": Row(f"{TOY} --lr inf", "lr must be a finite number", ("o",)),
    "toy sigma nan": Row(f"{TOY} --sigma nan", "sigma must be a finite number", ("o",)),
    "toy init-scale inf": Row(f"{TOY} --init-scale inf", "init_scale must be a finite number", ("o",)),
    "toy label-noise nan": Row(f"{TOY} --label-noise nan", "label_noise must be a finite number", ("o",)),
    "toy label-noise 1.5": Row(f"{TOY} --label-noise 1.5", "noise", ("o",)),
    "toy n 0": Row(f"{TOY} --ns 0", "n must be", ("o",)),
    "toy steps -5: the setting and its value": Row(f"{TOY} --steps -5", "steps must be >= 1; got -5", ("o",)),
    "toy sigma 0: the setting and its value": Row(f"{TOY} --sigma 0", "sigma must be > 0; got 0.0", ("o",)),
    "deep lr -0.1: the setting and its value": Row(f"{DEEP} --lr -0.1", "lr must be > 0; got -0.1", ("o",)),
    "toy B negative": Row(f"{TOY} --Bs -2", "B must be", ("o",)),
    "toy ns not integers": Row(f"{TOY} --ns 8,x", "comma-separated", ("o",)),
    "toy k too large": Row(f"{TOY} --k 501", "k=501", ("o",)),
    "toy steps not a number": Row(f"{TOY} --steps abc", "--steps", ("o",)),
    "toy unknown augment": Row(f"{TOY} --augment rotate", "augment", ("o",)),
    "toy unknown optimizer": Row(f"{TOY} --optimizer sgdm", "optimizer", ("o",)),
    "toy unknown device": Row(f"{TOY} --device tpu:0", "device", ("o",)),
    "toy negative threads": Row(f"{TOY} --threads -1", "--threads must lie in [0, 1024]", ("o",)),
    "toy n of a billion: memory": Row(f"{TOY} --ns 1000000000", "GB available", ("o",)),
    "toy out is a file": Row(
        "toy-grid --out {tmp}/f.txt " + " ".join(TINY_ARGS), "not a folder", damage=(("text:x", "f.txt"),)
    ),
    "toy other config on a grid": Row("toy-grid --out {grid} " + " ".join(TINY_ARGS) + " --lr 0.5", "--overwrite"),
    # deep-train
    "deep lr nan": Row(f"{DEEP} --lr nan", "lr must be a finite number", ("o",)),
    "deep lr inf": Row(f"{DEEP} --lr inf", "lr must be a finite number", ("o",)),
    "deep label-noise inf": Row(f"{DEEP} --label-noise inf", "label noise must lie in [0, 1]", ("o",)),
    "deep width 100000: memory": Row(f"{DEEP} --width 100000", "GB available", ("o",)),
    "deep projector a billion: memory": Row(f"{DEEP} --projector-width 1000000000", "GB available", ("o",)),
    "deep projector 1e9 not an integer": Row(f"{DEEP} --projector-width 1e9", "valid integer", ("o",)),
    "deep views without finite/iid": Row(f"{DEEP} --views 8 --augment ssl", "applies to augment finite or iid", ("o",)),
    "deep snapshot past the end": Row(f"{DEEP} --snapshots 99", "snapshots must lie in [1, epochs = 2]", ("o",)),
    "deep unknown dataset": Row(f"{DEEP} --dataset mnist", "unknown dataset", ("o",)),
    "deep unknown preset": Row(f"{DEEP} --preset huge", "unknown preset", ("o",)),
    "deep preset and recipe": Row(f"{DEEP} --recipe released", "--preset or --recipe, not both", ("o",)),
    "deep partial config, wrong type": Row(
        f'{DEEP} --config \'{{{{"model": {{{{"width": 2.5}}}}}}}}\'', "width", ("o",)
    ),
    "deep config missing": Row("deep-train --config {tmp}/none.json --out {tmp}/o", "cannot read config", ("o",)),
    "deep config not json": Row("deep-train --config {{x --out {tmp}/o", "not valid JSON", ("o",)),
    "deep config unknown key": Row(
        "deep-train --config '{{\"bogus\":1}}' --out {tmp}/o", "unknown key(s) bogus", ("o",)
    ),
    "toy config and quick": Row("toy-grid --config {tmp}/none.json --quick --out {tmp}/o", "not both", ("o",)),
    "deep unknown augment": Row(f"{DEEP} --augment cutout", "augment", ("o",)),
    "deep zero epochs": Row(f"{DEEP} --epochs 0", "epochs", ("o",)),
    "deep random classes not a number": Row(
        f"{DEEP} --random-classes x", "random classes must be a positive integer or 'per-sample', got 'x'", ("o",)
    ),
    "deep train-acc-every 0": Row(f"{DEEP} --train-acc-every 0", "train_acc_every", ("o",)),
    "deep unknown model": Row(f"{DEEP} --model resnet50", "unknown model", ("o",)),
    "deep image size 4": Row(f"{DEEP} --image-size 4", "image_size", ("o",)),
    "deep unknown knn bank": Row(f"{DEEP} --knn-bank some", "knn_bank", ("o",)),
    "deep resume without checkpoint": Row(f"{DEEP} --resume", "no checkpoint", ("o",)),
    "deep overwrite with resume": Row(f"{DEEP} --overwrite --resume", "cannot be combined", ("o",)),
    "deep cuda without cuda": Row(f"{DEEP} --device cuda", "CUDA", ("o",)),
    "deep missing data": Row("deep-train --data-dir {tmp}/nowhere --out {tmp}/o", "cifar-10-batches-py", ("o",)),
    # capacity
    "capacity deep lr nan": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --lr nan", "lr must be a finite number", ("o",)
    ),
    "capacity deep width 100000: memory": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --n 8 --width 100000", "GB available", ("o",)
    ),
    "capacity deep n 1: the setting and its value": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --n 1", "n must be >= 2; got 1", ("o",)
    ),
    "capacity deep old --repeats": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --repeats 2", "No such option", ("o",)
    ),
    "capacity toy bad Bs": Row("capacity toy --out {tmp}/o --Bs 1,x", "comma-separated", ("o",)),
    # augment-grid
    "augment-grid a million rows": Row(
        "augment-grid --data-dir {data} --out {tmp}/g --rows 1000000", "[1, 64]", ("g.png", "g.pdf")
    ),
    "augment-grid 6000 columns": Row(
        "augment-grid --data-dir {data} --out {tmp}/g --cols 6000", "[1, 64]", ("g.png", "g.pdf")
    ),
    "augment-grid missing folder": Row("augment-grid --data-dir {data} --out {tmp}/no/g", "does not exist", ("no",)),
    "augment-grid unwritable": Row(
        "augment-grid --data-dir {data} --out /sys/bm-grid", "cannot write /sys/bm-grid.png"
    ),
    "augment-grid missing data": Row("augment-grid --data-dir {tmp}/nowhere --out {tmp}/g", "--download", ("g.png",)),
    # probe / geometry / rewind on damaged run files
    "probe without run": Row("probe", "give a run folder"),
    "probe truncated checkpoint": Row(
        "probe {run} --k 3", "checkpoint.pt", ("run/probe.json",), ((HALF, "run/checkpoint.pt"),)
    ),
    "probe corrupt init": Row("probe {run} --init --k 3", "init.pt", ("run/probe.json",), ((HALF, "run/init.pt"),)),
    "probe missing labels": Row("probe {run} --k 3", "labels.pt", ("run/probe.json",), (("remove", "run/labels.pt"),)),
    "geometry truncated checkpoint": Row(
        "geometry {run} --layers embedding", "checkpoint.pt", ("run/geometry.json",), ((HALF, "run/checkpoint.pt"),)
    ),
    "geometry corrupt init": Row(
        "geometry {run} --layers embedding --epochs 0", "init.pt", ("run/geometry.json",), ((HALF, "run/init.pt"),)
    ),
    "geometry one sample per class": Row(
        "geometry {run} --samples-per-class 1", "--samples-per-class", ("run/geometry.json",)
    ),
    "geometry not a folder": Row("geometry {tmp}/none", "not a folder"),
    "rewind truncated checkpoint": Row(
        "rewind {run} --to-epoch 0", "checkpoint.pt", ("run/rewind.json",), ((HALF, "run/checkpoint.pt"),)
    ),
    "rewind corrupt init": Row("rewind {run} --to-epoch 0", "init.pt", ("run/rewind.json",), ((HALF, "run/init.pt"),)),
    "rewind missing labels": Row(
        "rewind {run} --to-epoch 0", "labels.pt", ("run/rewind.json",), (("remove", "run/labels.pt"),)
    ),
    "rewind epoch without snapshot": Row("rewind {run} --to-epoch 7", "snapshot", ("run/rewind.json",)),
    # report / reproduce
    "report corrupt result": Row(
        "report {tmp}/out", "result.json", ("out/report.md",), (("text:{not json", "out/mini/fig3/result.json"),)
    ),
    "report result not a dict": Row(
        "report {tmp}/out", "result.json", ("out/report.md",), (("text:[1, 2]", "out/mini/fig3/result.json"),)
    ),
    "report result without fields": Row(
        "report {tmp}/out",
        "result.json",
        ("out/report.md",),
        (('text:{"preset": "fig3"}', "out/mini/fig3/result.json"),),
    ),
    "reproduce full scale on a CPU": Row("reproduce fig3 --out {tmp}/o", "no CUDA", ("o",)),
    "reproduce empty datasets": Row(
        "reproduce table2 --scale mini --datasets '' --out {tmp}/o", "--datasets is empty", ("o",)
    ),
    "reproduce unknown preset": Row("reproduce fig99 --scale mini --out {tmp}/o", "fig99", ("o",)),
    "reproduce recipe at mini scale": Row(
        "reproduce fig3 --scale mini --recipe released --out {tmp}/o", "recipe", ("o",)
    ),
    "reproduce slurm option without slurm": Row(
        "reproduce fig7 --scale mini --launcher local --slurm-partition gpu --out {tmp}/o",
        "--slurm-* options apply to --launcher slurm",
        ("o",),
    ),
    "reproduce launcher for an own-job preset": Row(
        "reproduce fig13 --scale mini --launcher local --out {tmp}/o", "one job of its own", ("o",)
    ),
    "reproduce unknown launcher": Row(
        "reproduce fig7 --scale mini --launcher kubernetes --data-dir {data} --out {tmp}/o", "unknown launcher", ("o",)
    ),
    "toy slurm option without slurm": Row(TOY + " --launcher debug --slurm-time 60", "--slurm-* options apply", ("o",)),
    "toy slurm extra without =": Row(TOY + " --launcher slurm --slurm-extra h100", "KEY=VALUE", ("o",)),
    "capacity deep slurm option without launcher": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --slurm-account x", "--slurm-* options apply", ("o",)
    ),
    "capacity deep max parallel 0": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --launcher local --max-parallel 0",
        "--max-parallel must be >= 1",
        ("o",),
    ),
    "geometry negative min rank": Row("geometry {run} --min-rank -1", "min_rank >= 0", ("run/geometry.json",)),
    "unknown command": Row("nope", "No such command"),
    # malicious files (a payload that would create {tmp}/PWNED when unpickled): refused by name, never run
    "deep-train malicious CIFAR batch": Row(DEEP, "asks for io.open", ("o",), ((PAYLOAD, DATA_BATCH),)),
    "deep-train malicious CIFAR meta": Row(
        DEEP, "asks for io.open", ("o",), ((PAYLOAD, "data/cifar-10-batches-py/batches.meta"),)
    ),
    "deep-train --resume malicious checkpoint": Row(
        "deep-train --config {run} --out {run} --resume",
        "checkpoint.pt",
        damage=((PAYLOAD, "run/checkpoint.pt"),),
        unchanged=("run/config.json", "run/metrics.jsonl"),
    ),
    "deep-train --skip-finished malicious checkpoint": Row(
        "deep-train --config {run} --out {run} --skip-finished",
        "checkpoint.pt",
        damage=((PAYLOAD, "run/checkpoint.pt"),),
        unchanged=("run/config.json", "run/metrics.jsonl"),
    ),
    "probe malicious init": Row(
        "probe {run} --init --k 3",
        "init.pt holds objects other than tensors, dicts, lists, numbers and strings (io.open)",
        ("run/probe.json",),
        ((PAYLOAD, "run/init.pt"),),
    ),
    "probe malicious checkpoint": Row(
        "probe {run} --k 3", "checkpoint.pt", ("run/probe.json",), ((PAYLOAD, "run/checkpoint.pt"),)
    ),
    "probe malicious labels": Row("probe {run} --k 3", "labels.pt", ("run/probe.json",), ((PAYLOAD, "run/labels.pt"),)),
    "probe malicious feature dump": Row(
        "probe {run} --k 3 --features {tmp}/f.pt", "f.pt", ("run/probe.json",), ((PAYLOAD, "f.pt"),)
    ),
    "geometry malicious checkpoint": Row(
        "geometry {run} --layers embedding", "checkpoint.pt", ("run/geometry.json",), ((PAYLOAD, "run/checkpoint.pt"),)
    ),
    "geometry malicious snapshot": Row(
        "geometry {run} --layers embedding --epochs 1",
        "snapshot_1.pt",
        ("run/geometry.json",),
        ((PAYLOAD, "run/snapshot_1.pt"),),
    ),
    "rewind malicious snapshot": Row(
        "rewind {run} --to-epoch 1", "snapshot_1.pt", ("run/rewind.json",), ((PAYLOAD, "run/snapshot_1.pt"),)
    ),
    "rewind malicious labels": Row(
        "rewind {run} --to-epoch 0", "labels.pt", ("run/rewind.json",), ((PAYLOAD, "run/labels.pt"),)
    ),
    "capacity deep malicious CIFAR batch": Row(
        "capacity deep --data-dir {data} --out {tmp}/o --steps 2 --n 4",
        "asks for io.open",
        ("o",),
        ((PAYLOAD, DATA_BATCH),),
    ),
    "reproduce malicious CIFAR batch": Row(
        "reproduce fig3 --scale mini --data-dir {data} --out {tmp}/o",
        "asks for io.open",
        ("o/mini/runs",),
        ((PAYLOAD, DATA_BATCH),),
    ),
    "reproduce status malicious checkpoint": Row(
        "reproduce fig6 --scale mini --data-dir {data} --out {tmp}/o --status",
        "checkpoint.pt",
        damage=((PAYLOAD, "o/mini/runs/cifar10-resnet18-w4096-noise1-ssl-seed0/checkpoint.pt"),),
    ),
    "convert-run without --trust": Row("convert-run {run}", "--trust", unchanged=("run/checkpoint.pt",)),
    "CIFAR labels out of range": Row(DEEP, "labels outside [0, 10)", ("o",), (("cifar:labels=11", DATA_BATCH),)),
    "CIFAR data not uint8": Row(DEEP, "'data' must be uint8 rows", ("o",), (("cifar:dtype=float32", DATA_BATCH),)),
    "CIFAR fewer labels than rows": Row(DEEP, "3 labels for 4 images", ("o",), (("cifar:labels=short", DATA_BATCH),)),
    "CIFAR batches of different sizes": Row(
        DEEP, "different numbers of images", ("o",), (("cifar:rows=2", DATA_BATCH),)
    ),
    "metrics record not an object": Row(
        "results {run} --csv {tmp}/r.csv",
        "metrics.jsonl",
        ("r.csv",),
        (('text:{"epoch": 0}\n[1, 2]\n{"epoch": 2}\n', "run/metrics.jsonl"),),
    ),
    "result seconds not a number": Row(
        "report {tmp}/out",
        "'seconds'",
        ("out/report.md",),
        (
            (
                'text:{"preset": "fig3", "title": "t", "scale": "mini", "what": "w", "summary": [], "table_md": "", '
                '"outputs": [], "runs": {}, "finished": "now", "seconds": "soon", "bm_version": "0"}',
                "out/mini/fig3/result.json",
            ),
        ),
    ),
    # hostile and malformed files (issue 33): one line, exit 2, nothing written
    "resume config.json config a string": Row(
        f"{RESUME} --out {{run}}", "holds no config object", (), (('set:config="x"', "run/config.json"),)
    ),
    "resume config.json a list": Row(
        f"{RESUME} --out {{run}}", "holds no config object", (), (("text:[]", "run/config.json"),)
    ),
    "resume config.json not UTF-8": Row(
        f"{RESUME} --out {{run}}", "not UTF-8", (), (("bytes:ffff", "run/config.json"),)
    ),
    "resume config.json nested deeply": Row(
        f"{RESUME} --out {{run}}", "nested too deeply", (), (("text:" + "[" * 5000 + "]" * 5000, "run/config.json"),)
    ),
    "skip-finished config.json a 5000-digit integer": Row(
        f"{RESUME.replace('--resume', '--skip-finished')} --out {{run}}",
        "an integer of 5000 digits",
        (),
        (('text:{"config": {"epochs": ' + "9" * 5000 + "}}", "run/config.json"),),
    ),
    "results config.json config a list": Row(
        "results {run}", "'config' is not a JSON object", (), (("set:config=[1]", "run/config.json"),)
    ),
    "results config.json not UTF-8": Row("results {run}", "not a run folder", (), (("bytes:ff", "run/config.json"),)),
    "results grid.csv n not a number": Row(
        "results {grid}", "n is not an integer", (), (("csv:n=abc", "grid/grid.csv"),)
    ),
    "toy rerun grid.csv n not a number": Row(
        "toy-grid --out {grid} " + " ".join(TINY_ARGS), "n is not an integer", (), (("csv:n=abc", "grid/grid.csv"),)
    ),
    "toy rerun capacity.json of another type": Row(
        "toy-grid --out {grid} " + " ".join(TINY_ARGS),
        "'capacity' is missing",
        (),
        (('text:{"capacity": "big"}', "grid/capacity.json"),),
    ),
    "rewind a snapshot that is not bm's and a checkpoint epoch 'three'": Row(
        "rewind {run} --to-epoch 1 --layers 1",
        "'epoch' is not a count",
        ("run/rewind.json",),
        (("bytes:00", "run/snapshot_x.pt"), ("pt:epoch=three", "run/checkpoint.pt")),
    ),
    "skip-finished checkpoint epoch 'three'": Row(
        f"{RESUME.replace('--resume', '--skip-finished')} --out {{run}}",
        "'epoch' is not a count",
        (),
        (("pt:epoch=three", "run/checkpoint.pt"),),
    ),
    "probe checkpoint model {}": Row(
        "probe {run} --k 3", "does not hold weights", ("run/probe.json",), (("pt:model={}", "run/checkpoint.pt"),)
    ),
    "rewind checkpoint model {}": Row(
        "rewind {run} --to-epoch 1 --layers 1",
        "does not hold weights",
        ("run/rewind.json",),
        (("pt:model={}", "run/checkpoint.pt"),),
    ),
    "geometry checkpoint model {}": Row(
        "geometry {run} --samples-per-class 2",
        "does not hold weights",
        ("run/geometry.json",),
        (("pt:model={}", "run/checkpoint.pt"),),
    ),
    "probe checkpoint wrong shapes": Row(
        "probe {run} --k 3", "does not hold weights", ("run/probe.json",), (("pt:shapes", "run/checkpoint.pt"),)
    ),
    "resume checkpoint wrong shapes": Row(
        f"{RESUME} --out {{run}}", "is from another model", (), (("pt:shapes", "run/checkpoint.pt"),)
    ),
    "deep config a 5000-digit integer inline": Row(
        'deep-train --config \'{{"epochs": ' + "9" * 5000 + "}}' --out {tmp}/o", "an integer of 5000 digits", ("o",)
    ),
    "deep config epochs 2.5": Row(
        "deep-train --config {run} --out {tmp}/o",
        "epochs must be an integer",
        ("o",),
        (("set:config.epochs=2.5", "run/config.json"),),
    ),
    "deep config epochs 1e308": Row(
        "deep-train --config {run} --out {tmp}/o",
        "epochs must be an integer",
        ("o",),
        (("set:config.epochs=1e308", "run/config.json"),),
    ),
    "deep config width 8.5": Row(
        "deep-train --config {run} --out {tmp}/o",
        "model.width must be an integer",
        ("o",),
        (("set:config.model.width=8.5", "run/config.json"),),
    ),
    "deep seed 2**64": Row(f"{DEEP} --seed {2**64}", "seed must be an integer", ("o",)),
    "deep epochs 2**63": Row(f"{DEEP.replace('--epochs 2', '')} --epochs {2**63}", "epochs must be an integer", ("o",)),
    "deep width 10**12": Row(f"{DEEP} --width {10**12}", "width must lie in [1, 1000000]", ("o",)),
    "deep finite views 10**7: memory": Row(f"{DEEP} --augment finite --views 10000000", "GB available", ("o",)),
    "deep decomposition views 10**7: memory": Row(f"{DEEP} --decomposition-views 10000000", "GB available", ("o",)),
    "toy threads 10**6": Row(f"{TOY} --threads 1000000", "--threads must lie in [0, 1024]", ("o",)),
    "toy duplicate n": Row(TOY.replace("--ns 4,8", "--ns 8,8"), "every n must be given once", ("o",)),
}


def test_every_malicious_file_row_carries_a_payload_and_checks_it():
    payloads = [name for name, row in ROWS.items() if any(action == PAYLOAD for action, _ in row.damage)]
    commands = {ROWS[name].argv.split()[0] for name in payloads}
    assert commands == {"deep-train", "probe", "geometry", "rewind", "capacity", "reproduce"}


@pytest.mark.parametrize("name", list(ROWS))
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(capsys, tmp_path, workspace, name):
    row = ROWS[name]
    subs = {"data": str(workspace / "data"), "tmp": str(tmp_path)}
    damaged = {rel.split("/")[0] for _, rel in row.damage}
    for key in ("run", "grid", "data"):
        if "{" + key + "}" in row.argv and (key != "data" or "data" in damaged):  # the shared data only when damaged
            shutil.copytree(workspace / key, tmp_path / key, ignore=shutil.ignore_patterns(".bm.lock"))
            subs[key] = str(tmp_path / key)
    if "o" in damaged and "--status" in row.argv:  # a preset's run folder to look at
        shutil.copytree(
            workspace / "run",
            tmp_path / "o/mini/runs/cifar10-resnet18-w4096-noise1-ssl-seed0",
            ignore=shutil.ignore_patterns(".bm.lock"),
        )
    marker = tmp_path / "PWNED"
    for action, rel in row.damage:
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if action == "remove":
            path.unlink()
        elif action == HALF:
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        elif action == PAYLOAD:
            _write_payload(path, marker)
        elif action.startswith("cifar:"):
            _damage_cifar(path, action.removeprefix("cifar:"))
        elif action.startswith(("set:", "bytes:", "csv:", "pt:")):
            _edit(path, action)
        else:
            path.write_text(action.removeprefix("text:"))
    before = {rel: (tmp_path / rel).read_bytes() for rel in row.unchanged}
    code, _, err = run(capsys, [a.format(**subs) for a in shlex.split(row.argv)])
    assert code == 2, err
    assert err.startswith("bm: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    assert row.needle in err, err
    for rel in row.absent:
        assert not (tmp_path / rel).exists(), f"{rel} was left behind"
    for rel, content in before.items():
        assert (tmp_path / rel).read_bytes() == content, f"{rel} was changed"
    assert not marker.exists(), "a payload ran"
    assert not Path("/sys/bm-grid.png").exists()
