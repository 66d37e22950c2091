"""Every CUDA path of bm in one command: throughput, bf16 agreement, device equality, toy grid, torchrun, Fig. 8's
projector, and one mini preset end to end. One JSON with every figure and pass/fail, a table, exit 1 if a check fails.

    python benchmarks/gpu_check.py --device cuda --out gpu.json [--data-dir ../shared/data/cifar-10-mini]
    python benchmarks/gpu_check.py --device cpu --out cpu.json     # the same checks, reduced, on a CPU (CI)

On a CPU the checks run at a reduced size, device-equality compares the CPU with itself, and no GPU figure is
measured (the JSON says so). Goals (CUDA): MFU >= 35% of the bf16 dense peak for ResNet18 (width 64) + projector
65536, batch 256, 32 x 32; tolerances below, per check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from train_step import measure_step  # noqa: E402

from bm.deep.augment import draw_uniforms, mixup, ssl_augment  # noqa: E402
from bm.deep.config import ModelConfig  # noqa: E402
from bm.deep.models import Network  # noqa: E402
from bm.deep.train import deep_train_bytes  # noqa: E402
from bm.deep.views import finite_views  # noqa: E402
from bm.memory import available_bytes  # noqa: E402
from bm.probe import knn_predict  # noqa: E402
from bm.theory import mse_decomposition  # noqa: E402

MFU_GOAL = 0.35
BF16_LOSS_RTOL, BF16_DECOMPOSITION_RTOL = 2e-2, 5e-2  # bf16 keeps 8 bits of mantissa: ~0.4% per op
AUGMENT_ATOL = 1e-5
# The toy grid on two devices: float32 reductions differ, and 2000 Adam steps amplify the difference into another
# trajectory (measured on an H200, results/gpu/: at init identical, CUDA bit-identical run to run, C_t equal, per-cell
# K-NN differences up to 0.11 with sd 0.020 against a seed-to-seed sd of 0.099). So a cell is not compared with a cell;
# the check asks what a reader of the heatmap needs: the same init, the same C_t, no systematic device difference
# (paired over cells, TOST at TOY_KNN_MARGIN) and a device-to-device spread below the seed-to-seed spread.
TOY_KNN_MARGIN = 0.01


def throughput(device: str, quick: bool) -> dict:
    """ResNet18 + projector, batch 256 (CPU: width 8, projector 512, batch 32): img/s, MFU, memory, +- compile."""
    cuda = device.startswith("cuda")
    size = (
        dict(width=64, projector_width=65536, batch=256, steps=20)
        if cuda
        else dict(width=8, projector_width=512, batch=32, steps=2)
    )
    eager = measure_step(device, bf16=True, **size)
    out = {"eager": eager}
    if cuda and not quick:
        out["compiled"] = measure_step(device, bf16=True, compile=True, **size)
    best = max(r["mfu"] for r in out.values())
    return {
        **out,
        "size": size,
        "passed": best >= MFU_GOAL if cuda else None,
        "criterion": f"MFU >= {MFU_GOAL:.0%} of the bf16 dense peak (CUDA only)",
    }


def bf16_agreement(device: str) -> dict:
    """Loss and Inv / Bias of one batch (64 images x 4 views) in fp32 and in bf16 autocast, same weights."""
    gen = torch.Generator().manual_seed(0)
    net = Network(ModelConfig(width=8, projector_width=512)).to(device).eval()
    images = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=gen)
    sample, view = torch.arange(64).repeat_interleave(4), torch.arange(4).repeat(64)
    x = finite_views(images, sample, view, seed=1).to(device)
    targets = torch.nn.functional.one_hot(torch.randint(0, 10, (64,), generator=gen), 10).float().to(device)
    values = {}
    for name, enabled in (("fp32", False), ("bf16", True)):
        with torch.no_grad(), torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=enabled):
            preds = net(x).float().reshape(64, 4, 10)
        d = mse_decomposition(preds, targets)
        values[name] = {"loss": float(d.loss), "inv": float(d.inv), "bias": float(d.bias)}
    rel = {k: abs(values["bf16"][k] / values["fp32"][k] - 1) for k in ("loss", "inv", "bias")}
    passed = rel["loss"] <= BF16_LOSS_RTOL and max(rel["inv"], rel["bias"]) <= BF16_DECOMPOSITION_RTOL
    return {
        **values,
        "relative_difference": rel,
        "passed": passed,
        "criterion": f"loss within {BF16_LOSS_RTOL:.0%}, Inv and Bias within {BF16_DECOMPOSITION_RTOL:.0%}",
    }


def device_equality(device: str) -> dict:
    """SSL augmentations, mixup, finite views and K-NN predictions on `device` against the CPU, same seeds."""
    gen = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (32, 3, 32, 32), dtype=torch.uint8, generator=gen)
    u = draw_uniforms(32, torch.Generator().manual_seed(1), "cpu")
    aug = {d: ssl_augment(images.to(d), u.to(d)) for d in ("cpu", device)}
    targets = torch.nn.functional.one_hot(torch.arange(32) % 10, 10).float()
    mixed = {d: mixup(aug[d], targets.to(d), torch.Generator().manual_seed(2)) for d in ("cpu", device)}  # CPU draws
    sample, view = torch.arange(32), torch.arange(32) % 4
    views = {d: finite_views(images.to(d), sample.to(d), view.to(d), seed=3) for d in ("cpu", device)}
    x, y = torch.randn(500, 64, generator=gen), torch.randint(0, 10, (500,), generator=gen)
    q = torch.randn(200, 64, generator=gen)
    knn = {d: knn_predict(x.to(d), y.to(d), q.to(d), k=20).labels.cpu() for d in ("cpu", device)}
    diff = {
        "ssl": float((aug["cpu"] - aug[device].cpu()).abs().max()),
        "finite_views": float((views["cpu"] - views[device].cpu()).abs().max()),
        "mixup_images": float((mixed["cpu"].images - mixed[device].images.cpu()).abs().max()),
    }
    same_knn = bool(torch.equal(knn["cpu"], knn[device]))
    return {
        "max_abs_difference": diff,
        "knn_predictions_identical": same_knn,
        "reference_only": not device.startswith("cuda"),
        "passed": same_knn and max(diff.values()) <= AUGMENT_ATOL,
        "criterion": f"augmentations within {AUGMENT_ATOL:g}; K-NN predictions identical",
    }


def toy_grid(device: str, quick: bool) -> dict:
    """The default toy grid (CPU or --quick: the quick grid) on the device and on the CPU: wall times, K-NN."""
    from bm.jsonfiles import read_json_file
    from bm.runs import read_csv_rows
    from bm.toy.grid import ToyGridConfig, run_grid
    from bm.toy.train import ToyTrainConfig

    config = (
        ToyGridConfig()
        if device.startswith("cuda") and not quick
        else ToyGridConfig(
            ns=(8, 32, 128), Bs=(1, 8, 64), seeds=(0,), capacity_repeats=2, train=ToyTrainConfig(steps=600)
        )
    )
    out, grids, capacities = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for d in dict.fromkeys(("cpu", device)):
            start = time.perf_counter()
            folder = run_grid(ToyGridConfig(**{**config.__dict__, "device": d}), Path(tmp) / d.replace(":", "_"))
            out[f"{d}_seconds"] = time.perf_counter() - start
            grids[d] = {(r["n"], r["B"], r["seed"]): r for r in read_csv_rows(folder / "grid.csv")}
            capacities[d] = read_json_file(folder / "capacity.json")["capacity"]
    return {**out, **toy_agreement(grids["cpu"], grids[device], capacities["cpu"], capacities[device])}


def toy_agreement(cpu: dict, other: dict, c_cpu: int, c_other: int) -> dict:
    """Two toy grids ((n, B, seed) -> row) of the same config on two devices, compared as TOY_KNN_MARGIN says."""
    from bm.stats import paired_t, tost

    cells = sorted(cpu)
    knn = {d: [float(g[c]["knn"]) for c in cells] for d, g in (("cpu", cpu), ("other", other))}
    init_gap = max(abs(float(cpu[c]["knn_init"]) - float(other[c]["knn_init"])) for c in cells)
    diff = paired_t(knn["other"], knn["cpu"])
    by_cell: dict[tuple, list[float]] = {}
    for c, v in zip(cells, knn["cpu"]):
        by_cell.setdefault(c[:2], []).append(v)
    seed_sd = float(np.mean([np.std(v, ddof=1) for v in by_cell.values() if len(v) > 1] or [np.nan]))
    equivalence = tost(knn["other"], knn["cpu"], TOY_KNN_MARGIN)
    return {
        "cells": len(cells),
        "init_knn_max_difference": init_gap,
        "capacity": [c_cpu, c_other],
        "knn_mean_difference": [diff.effect, diff.low, diff.high],
        "knn_tost_p": equivalence,
        "knn_difference_sd": diff.sd,
        "knn_seed_sd": seed_sd,
        "max_knn_difference": max(abs(a - b) for a, b in zip(knn["other"], knn["cpu"])),
        "passed": bool(
            init_gap == 0 and c_cpu == c_other and equivalence < 0.05 and (diff.sd < seed_sd or seed_sd != seed_sd)
        ),
        "criterion": f"K-NN at init identical, C_t equal, mean per-cell K-NN difference within +-{TOY_KNN_MARGIN} "
        "(TOST), its sd below the seed-to-seed sd",
    }


def torchrun_one_process(device: str) -> dict:
    """torchrun --nproc_per_node 1 (SyncBatchNorm on CUDA): one epoch, the same loss as a plain process."""
    from tests.deep.test_datasets import write_cifar10

    with tempfile.TemporaryDirectory() as tmp:
        write_cifar10(Path(tmp) / "data", per_batch=32)
        args = [
            "-m",
            "bm",
            "deep-train",
            "--preset",
            "smoke",
            "--data-dir",
            f"{tmp}/data",
            "--width",
            "4",
            "--projector-width",
            "64",
            "--epochs",
            "1",
            "--batch-size",
            "32",
            "--device",
            device,
        ]
        losses = {}
        for name, launcher in (
            ("plain", []),
            ("torchrun", ["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "1"]),
        ):
            cmd = [sys.executable, *launcher, *args, "--out", f"{tmp}/{name}"]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
            if done.returncode != 0:
                return {"passed": False, "error": done.stderr.strip().splitlines()[-1:]}
            rows = [json.loads(line) for line in Path(f"{tmp}/{name}/metrics.jsonl").read_text().splitlines()]
            losses[name] = rows[-1]["loss"]
    gap = abs(losses["plain"] / losses["torchrun"] - 1)
    return {**losses, "relative_difference": gap, "passed": gap <= 1e-5, "criterion": "loss within 1e-5"}


def fig8_projector(device: str) -> dict:
    """Fig. 8's per-sample row: projector Linear(65536, 50000) with Adam, on a ResNet18 of width 64, batch 256."""
    need = deep_train_bytes(ModelConfig(width=64, projector_width=65536, num_classes=50000), 256, 60000)
    free = available_bytes(device)
    out = {"needs_gb": need / 2**30, "free_gb": free / 2**30, "fits": need <= free}
    if not out["fits"]:  # the widest projector that fits, as the documented alternative for that row
        width = 65536
        while (
            width > 512
            and deep_train_bytes(ModelConfig(width=64, projector_width=width, num_classes=50000), 256, 60000) > free
        ):
            width //= 2
        out["alternative_projector_width"] = width
    if device.startswith("cuda") and out["fits"]:
        try:
            layer = torch.nn.Linear(65536, 50000, bias=False, device=device)
            opt = torch.optim.Adam(layer.parameters())
            layer(torch.randn(256, 65536, device=device)).square().mean().backward()
            opt.step()
            out["allocated_gb"] = torch.cuda.max_memory_allocated(device) / 2**30
            del layer, opt
            torch.cuda.empty_cache()
        except torch.OutOfMemoryError:
            out["fits"] = False
    alternative = out.get("alternative_projector_width")
    fits_alternative = (
        alternative is not None
        and deep_train_bytes(ModelConfig(width=64, projector_width=alternative, num_classes=50000), 256, 60000) <= free
    )
    return {
        **out,
        "passed": bool(out["fits"] or fits_alternative),
        "criterion": "fits, or the widest projector that does is named and fits",
    }


def reproduce_fig3(device: str, data_dir: Path | None) -> dict:
    """`bm reproduce fig3 --scale mini` end to end (needs cifar-10-mini): wall time."""
    if data_dir is None or not (data_dir / "cifar-10-batches-py").is_dir():
        return {"passed": None, "skipped": f"no cifar-10-batches-py under {data_dir}"}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bm",
                "reproduce",
                "fig3",
                "--scale",
                "mini",
                "--device",
                device,
                "--data-dir",
                str(data_dir),
                "--out",
                tmp,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "passed": done.returncode == 0, "tail": done.stdout.strip().splitlines()[-2:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("BM_CIFAR10_MINI", "")) or None)
    parser.add_argument("--quick", action="store_true", help="skip torch.compile and use the quick toy grid")
    parser.add_argument("--no-reproduce", dest="reproduce", action="store_false", help="skip the fig3 run")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("gpu_check: --device cuda but this machine has no CUDA; use --device cpu for the reduced checks")
    checks = {
        "throughput": lambda: throughput(args.device, args.quick),
        "bf16_vs_fp32": lambda: bf16_agreement(args.device),
        "device_equality": lambda: device_equality(args.device),
        "toy_grid": lambda: toy_grid(args.device, args.quick),
        "torchrun_1_process": lambda: torchrun_one_process(args.device),
        "fig8_projector": lambda: fig8_projector(args.device),
        "reproduce_fig3_mini": lambda: (
            reproduce_fig3(args.device, args.data_dir)
            if args.reproduce
            else {"passed": None, "skipped": "--no-reproduce"}
        ),
    }
    results = {
        "device": torch.cuda.get_device_name(args.device) if args.device.startswith("cuda") else "cpu",
        "gpu_figures_measured": args.device.startswith("cuda"),
        "torch": torch.__version__,
        "checks": {},
    }
    for name, check in checks.items():
        start = time.perf_counter()
        try:
            results["checks"][name] = {**check(), "check_seconds": time.perf_counter() - start}
        except Exception as e:  # a broken path is a failed check, reported with the rest
            results["checks"][name] = {"passed": False, "error": f"{type(e).__name__}: {e}"}
        r = results["checks"][name]
        status = {True: "pass", False: "FAIL", None: "n/a"}[r.get("passed")]
        print(f"{name:22s} {status:5s} {r.get('criterion', r.get('skipped', r.get('error', '')))}", flush=True)
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")  # after each: a cut run keeps some
    t = results["checks"]["throughput"]
    if "eager" in t:
        e = t["eager"]
        print(
            f"throughput: {e['img_per_s']:.0f} img/s, MFU {e['mfu']:.1%}, epoch of 50k {e['epoch_50k_s']:.1f} s"
            + (
                f"; compiled {t['compiled']['img_per_s']:.0f} img/s, MFU {t['compiled']['mfu']:.1%}"
                if "compiled" in t
                else ""
            )
        )
    if not results["gpu_figures_measured"]:
        print("no GPU figures were measured (CPU run, reduced sizes)")
    print(f"wrote {args.out}")
    sys.exit(1 if any(r.get("passed") is False for r in results["checks"].values()) else 0)


if __name__ == "__main__":
    main()
