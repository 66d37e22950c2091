"""Deep training step: images/s and model FLOPs utilization (MFU) of augment + forward + backward + Adam.

ResNet18 (CIFAR form) + projector of width 65536, batch 256, 32x32 inputs, random labels, SSL
augmentations on the batch's device, MSE. FLOPs of one step are counted with
torch.utils.flop_counter (forward + backward matmuls and convolutions); MFU = achieved FLOP/s over
the device's peak: on CUDA the dense bf16 peak of the card (H100 SXM / H200: 989 TFLOP/s; give
--peak-tflops for others), on a CPU the fp32 FMA peak cores x GHz x 32 (AVX2: two 8-wide FMA units).

    python benchmarks/train_step.py [--device cuda] [--steps 20] [--width 64] [--projector-width 65536]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from bm.deep.config import ModelConfig
from bm.deep.models import Network
from bm.deep.views import augment_batch

BF16_PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def cpu_peak_tflops() -> float:
    mhz = max(float(line.split(":")[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz"))
    return os.cpu_count() * mhz * 1e6 * 32 / 1e12


def measure_step(
    device: str = "cpu",
    width: int = 64,
    projector_width: int = 65536,
    batch: int = 256,
    steps: int = 3,
    compile: bool = False,
    bf16: bool = True,
    peak_tflops: float | None = None,
) -> dict:
    """Time `steps` training steps (after one counted for FLOPs and one warm-up): img/s, TFLOP/s, MFU, peak memory.
    `bf16`: bfloat16 autocast (on either device); channels-last on CUDA."""
    dev = torch.device(device)
    cuda = dev.type == "cuda"
    net = Network(ModelConfig(width=width, projector_width=projector_width)).to(dev)
    if cuda:
        net = net.to(memory_format=torch.channels_last)
        torch.cuda.reset_peak_memory_stats(dev)
    model = torch.compile(net) if compile else net
    opt = torch.optim.Adam(net.parameters(), lr=4e-3)
    images = torch.randint(0, 256, (batch * 4, 3, 32, 32), dtype=torch.uint8, device=dev)
    targets = torch.nn.functional.one_hot(torch.randint(0, 10, (batch * 4,), device=dev), 10).float()
    gen = torch.Generator(device=dev).manual_seed(0)

    def step(i: int, module: torch.nn.Module) -> None:
        idx = torch.arange(i * batch, (i + 1) * batch, device=dev) % images.shape[0]
        x, t, _ = augment_batch("ssl", images[idx], gen, targets[idx])
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = (module(x).float() - t).square().sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    with FlopCounterMode(display=False) as counter:  # counted on the eager module: the same FLOPs, and no
        step(0, net)  # dispatch mode around a compiled graph
    flops = counter.get_total_flops()
    step(1, model)  # warm-up (and compilation)
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(steps):
        step(i, model)
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    if peak_tflops is None:
        name = torch.cuda.get_device_name(dev) if cuda else "cpu"
        peak_tflops = (
            next((v for k, v in BF16_PEAK_TFLOPS.items() if k in name), float("nan")) if cuda else cpu_peak_tflops()
        )
    achieved = flops / seconds / 1e12
    return {
        "img_per_s": batch / seconds,
        "ms_per_step": seconds * 1e3,
        "gflop_per_step": flops / 1e9,
        "tflops": achieved,
        "peak_tflops": peak_tflops,
        "mfu": achieved / peak_tflops,
        "epoch_50k_s": 50000 / batch * seconds,
        "peak_memory_gb": torch.cuda.max_memory_allocated(dev) / 2**30 if cuda else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--projector-width", type=int, default=65536)
    parser.add_argument("--peak-tflops", type=float, default=None)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    r = measure_step(
        args.device,
        args.width,
        args.projector_width,
        args.batch,
        args.steps,
        args.compile,
        bf16=args.device != "cpu",
        peak_tflops=args.peak_tflops,
    )
    name = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else "cpu"
    print(f"device {name}; ResNet18 width {args.width} + projector {args.projector_width}, batch {args.batch}, 32x32")
    print(f"{r['gflop_per_step']:.1f} GFLOP per step, {r['ms_per_step']:.1f} ms per step, {r['img_per_s']:.0f} img/s")
    print(f"achieved {r['tflops']:.3f} TFLOP/s of {r['peak_tflops']:.3f} peak: MFU {100 * r['mfu']:.1f}%")
    print(f"an epoch of 50k images: {r['epoch_50k_s']:.1f} s")


if __name__ == "__main__":
    main()
