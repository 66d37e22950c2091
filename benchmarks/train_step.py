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

from bm.deep.models import ModelConfig, Network
from bm.deep.views import augment_batch

BF16_PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def cpu_peak_tflops() -> float:
    mhz = max(float(line.split(":")[1]) for line in open("/proc/cpuinfo") if line.startswith("cpu MHz"))
    return os.cpu_count() * mhz * 1e6 * 32 / 1e12


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
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    net = Network(ModelConfig(width=args.width, projector_width=args.projector_width)).to(dev)
    if cuda:
        net = net.to(memory_format=torch.channels_last)
    model = torch.compile(net) if args.compile else net
    opt = torch.optim.Adam(net.parameters(), lr=4e-3)
    images = torch.randint(0, 256, (args.batch * 4, 3, 32, 32), dtype=torch.uint8, device=dev)
    targets = torch.nn.functional.one_hot(torch.randint(0, 10, (args.batch * 4,), device=dev), 10).float()
    gen = torch.Generator(device=dev).manual_seed(0)

    def step(i: int) -> None:
        idx = torch.arange(i * args.batch, (i + 1) * args.batch, device=dev) % images.shape[0]
        x, t, _ = augment_batch("ssl", images[idx], gen, targets[idx])
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
            loss = (model(x).float() - t).square().sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    with FlopCounterMode(display=False) as counter:
        step(0)
    flops = counter.get_total_flops()
    step(1)  # warm-up
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(args.steps):
        step(i)
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.steps
    if args.peak_tflops:
        peak = args.peak_tflops
    elif cuda:
        name = torch.cuda.get_device_name(dev)
        peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if k in name), float("nan"))
    else:
        peak = cpu_peak_tflops()
    achieved = flops / seconds / 1e12
    print(f"device {torch.cuda.get_device_name(dev) if cuda else 'cpu'}; ResNet18 width {args.width} + projector "
          f"{args.projector_width}, batch {args.batch}, 32x32")
    print(f"{flops / 1e9:.1f} GFLOP per step, {seconds * 1e3:.1f} ms per step, {args.batch / seconds:.0f} img/s")
    print(f"achieved {achieved:.3f} TFLOP/s of {peak:.3f} peak: MFU {100 * achieved / peak:.1f}%")
    print(f"an epoch of 50k images: {50000 / args.batch * seconds:.1f} s")


if __name__ == "__main__":
    main()
