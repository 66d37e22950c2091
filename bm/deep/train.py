"""Training a deep network on (random) labels with augmentation (Table 6 defaults), into a run folder: the room that
puts the others together (config: bm.deep.config; training items: bm.deep.items; the loop and its checkpoints:
bm.deep.loop; measurements: bm.deep.measure; metric sinks: bm.deep.sinks).

Run folder: config.json, labels.pt (training labels, which were randomized, true labels),
init.pt (weights at initialization, for probing at init), metrics.jsonl (one JSON object per
epoch), checkpoint.pt (model, optimizer, generator and RNG states, epoch; written atomically every
`checkpoint_every` epochs and when SIGTERM/SIGINT arrive) and snapshot_E.pt at chosen epochs.
`resume=True` continues from checkpoint.pt; a kill -9 loses at most `checkpoint_every` epochs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import torch

from bm.deep.config import KNN_BANKS, RUNTIME_FIELDS, DeepTrainConfig
from bm.deep.datasets import ImageSet, load_dataset
from bm.deep.distributed import setup
from bm.deep.items import memory_bank, training_items
from bm.deep.loop import Interrupted, RunState, Stop, train_epoch, wrapped
from bm.deep.measure import Measurements, PermutedImages
from bm.deep.models import Network
from bm.deep.protocols import set_protocol
from bm.deep.sinks import EpochCallback, MetricsFile, Sink, truncate_metrics
from bm.errors import BMError
from bm.labels import LabelConfig, assign_labels
from bm.memory import F32, PER_PARAMETER, require_memory
from bm.runs import RunFolder, atomic_save, prepare_run_folder
from bm.tensorboard import EventSink
from bm.threads import using_threads

__all__ = ["deep_train_bytes", "train", "train_or_resume"]


def train(
    cfg: DeepTrainConfig,
    out: Path,
    resume: bool = False,
    data: tuple[ImageSet, ImageSet] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    overwrite: bool = False,
    tensorboard: bool = False,
) -> Path:
    """Train (or resume) the run in `out`; returns out. `data` overrides loading (tests); `on_epoch` is called with
    each trained epoch's metrics row; `overwrite` empties a folder holding another run first (not with `resume`);
    `tensorboard` mirrors metrics.jsonl into event files beside it (bm.tensorboard). Under torchrun every rank trains
    its slice of each global batch; rank 0 measures and writes. Runs on `cfg.cpu_threads` CPU threads, so that its
    numbers depend on its config alone, not on what launched it."""
    with using_threads(cfg.cpu_threads):
        return _train(cfg, out, resume, data, on_epoch, overwrite, tensorboard)


def _train(
    cfg: DeepTrainConfig,
    out: Path,
    resume: bool,
    data: tuple[ImageSet, ImageSet] | None,
    on_epoch: Callable[[dict], None] | None,
    overwrite: bool,
    tensorboard: bool,
) -> Path:
    out, run = Path(out), RunFolder(out)
    _refuse_bad_start(cfg, run, resume, overwrite)
    ddp = setup(cfg.device)
    device = ddp.device
    saved = RunState.read(run, device) if resume else None  # a refused checkpoint leaves the folder untouched
    cfg, train_set, banks, test_set, labels = run_inputs(cfg, data)
    on_device = len(test_set) + sum(len(b) for b in {id(b): b for b in (train_set, *banks.values())}.values())
    spec = set_protocol(cfg.augment)  # a fixed set's items are built as images: n B views, s B images
    on_device += spec.items(cfg, len(train_set)) if spec is not None else 0
    decomposition = min(cfg.decomposition_samples, len(train_set)) * cfg.decomposition_views
    require_memory(deep_train_bytes(cfg.model, cfg.batch_size, on_device, decomposition), device, "this run")
    if ddp.main:  # a resumed run may be extended: --epochs raised continues it
        prepare_run_folder(
            out,
            cfg.to_json(),
            extendable=("epochs",) if resume else (),
            results=(RunFolder.CHECKPOINT,),
            overwrite=overwrite,
            runtime=RUNTIME_FIELDS if resume else (),
        )
    ddp.barrier()
    torch.manual_seed(cfg.seed)
    net = Network(cfg.model).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.999), weight_decay=0.0)
    state = RunState(run, net, opt, torch.Generator(device=device).manual_seed(cfg.seed), ddp.main)
    if resume:
        state.restore(saved)
    elif ddp.main:
        atomic_save(
            run / RunFolder.LABELS,
            {
                "labels": labels.labels,
                "randomized": labels.randomized,
                "true": train_set.labels.cpu(),
                "num_classes": labels.num_classes,
            },
        )
        atomic_save(run / RunFolder.INIT, {"model": net.state_dict()})
    sinks = _sinks(run, state.epoch, resume, on_epoch, tensorboard) if ddp.main else []
    moved = {id(b): b.to(device) for b in (train_set, *banks.values(), test_set)}  # each set once
    targets = torch.nn.functional.one_hot(labels.labels, labels.num_classes).float().to(device)  # (n, C)
    items = training_items(cfg, moved[id(train_set)], labels, targets, state.gen)
    permuted = (
        PermutedImages(moved[id(train_set)].images, labels.labels.to(device), targets, labels.randomized.to(device))
        if cfg.gradient_probe
        else None
    )
    banks_on = {name: moved[id(b)] for name, b in banks.items()}
    measure = Measurements(net, cfg, items, banks_on, moved[id(test_set)], permuted)
    if ddp.main and not resume:  # epoch 0: the probes at initialization
        _write(sinks, {"epoch": 0, **measure.measure(True)})
    model = wrapped(net, cfg, ddp)
    stop = Stop()
    try:
        while state.epoch < cfg.epochs:
            start = time.perf_counter()
            if state.position is None:
                state.position = {
                    "order": torch.randperm(items.n, generator=state.gen, device=device),
                    "offset": 0,
                    "total": 0.0,
                    "seen": 0,
                }
            total, seen = train_epoch(state, model, items.fetch, items.n, cfg, ddp, stop)
            state.position, state.epoch = None, state.epoch + 1
            if ddp.main:  # rank 0 measures, writes and probes; the others wait at the barrier
                _write(
                    sinks,
                    {
                        "epoch": state.epoch,
                        "loss": total / seen,
                        "img_per_s": seen / (time.perf_counter() - start),
                        **measure(state.epoch),
                    },
                )
                if state.epoch in cfg.snapshots:
                    atomic_save(run.snapshot(state.epoch), {"model": net.state_dict(), "epoch": state.epoch})
            ddp.barrier()
            stopping = ddp.any(stop.signum is not None)
            if state.epoch % cfg.checkpoint_every == 0 or state.epoch == cfg.epochs or stopping:
                state.checkpoint()
            if stopping:
                raise Interrupted(
                    f"stopped by signal {stop.signum} after epoch {state.epoch}; continue with --resume", stop.signum
                )
    finally:
        stop.close()
        for sink in sinks:
            sink.close()
    return out


def _sinks(
    run: RunFolder, epoch: int, resume: bool, on_epoch: Callable[[dict], None] | None, tensorboard: bool
) -> list[Sink]:
    """metrics.jsonl (a resumed run's rows after its checkpoint dropped, a fresh start's all), then TensorBoard and
    the caller's callback where asked for."""
    sinks: list[Sink] = [MetricsFile(run, truncate_metrics(run, epoch if resume else -1))]
    if tensorboard:
        sinks.append(EventSink(run.path, purge_step=epoch + 1 if resume else None))
    if on_epoch is not None:
        sinks.append(EpochCallback(on_epoch))
    return sinks


def _write(sinks: list[Sink], row: dict) -> None:
    for sink in sinks:
        sink(row)


def _refuse_bad_start(cfg: DeepTrainConfig, run: RunFolder, resume: bool, overwrite: bool) -> None:
    if torch.device(cfg.device).type == "cuda" and not torch.cuda.is_available():
        raise BMError(f"device {cfg.device!r} requested but CUDA is not available here")
    if resume and not (run / RunFolder.CHECKPOINT).exists():
        raise BMError(f"--resume: no checkpoint.pt in {run.path}")
    if resume and overwrite:
        raise BMError("--overwrite empties the run folder; it cannot be combined with --resume")
    if not resume and not overwrite and (run / RunFolder.CHECKPOINT).exists():
        raise BMError(
            f"{run.path} already holds a run; pass --resume to continue it, choose another --out, or pass "
            "--overwrite to empty it"
        )


def run_inputs(cfg: DeepTrainConfig, data: tuple[ImageSet, ImageSet] | None):
    """A run's inputs from its config: (cfg with num_classes resolved, train set, K-NN banks by name (KNN_BANKS), test
    set, all at the run's image size, labels). An i.i.d. set the data cannot hold is refused here, before anything is written."""
    train_set, test_set = data or (
        load_dataset(cfg.dataset, cfg.data_dir, "train"),
        load_dataset(cfg.dataset, cfg.data_dir, "test"),
    )
    full, test_set = train_set.resized(cfg.model.image_size), test_set.resized(cfg.model.image_size)
    train_set, banks = (
        full.subset(cfg.subset, cfg.subset_order),
        {name: memory_bank(cfg, full, name) for name in KNN_BANKS},
    )
    labels = assign_labels(
        train_set.labels, len(train_set.classes), LabelConfig(cfg.label_noise, cfg.random_classes), cfg.seed
    )
    if cfg.model.num_classes == 0:  # resolve "from the labels" before the config is written
        cfg = replace(cfg, model=replace(cfg.model, num_classes=labels.num_classes))
    if labels.num_classes != cfg.model.num_classes:
        raise BMError(f"the labels have {labels.num_classes} classes but the model outputs {cfg.model.num_classes}")
    return cfg, train_set, banks, test_set, labels


def train_or_resume(
    cfg: DeepTrainConfig,
    out: Path,
    data: tuple[ImageSet, ImageSet] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    tensorboard: bool = False,
) -> Path:
    """Train the run in `out`, resume it if it was cut short, or leave it if it is finished."""
    run = RunFolder(out)
    if run.finished_epochs() >= cfg.epochs:
        classes = cfg.model.num_classes or int(run.labels(("num_classes",))["num_classes"])
        prepare_run_folder(
            run.path,
            replace(cfg, model=replace(cfg.model, num_classes=classes)).to_json(),
            runtime=RUNTIME_FIELDS,
            record=False,  # nothing runs: the config keeps the data path and device it ran with
        )
        return run.path
    return train(
        cfg, out, resume=(run / RunFolder.CHECKPOINT).exists(), data=data, on_epoch=on_epoch, tensorboard=tensorboard
    )


def deep_train_bytes(model_config, batch_size: int, images_on_device: int, float_images: int = 0) -> int:
    """Training memory of a `bm.deep.models.Network`: 16 bytes per parameter, twice the leaf modules' outputs
    for `batch_size` images (kept for the backward pass, then their gradients), `images_on_device` uint8 images
    of the configured size (data sets, banks, a finite set's views) and `float_images` float32 ones built at once
    (the decomposition's views). The network is built on the meta device, in eval mode (BatchNorm on a 1 x 1 map of
    one image is refused in training mode): no memory is touched."""
    with torch.device("meta"):
        net = Network(model_config)
        outputs = []
        hooks = [
            m.register_forward_hook(lambda m, i, o: outputs.append(o.numel()))
            for m in net.modules()
            if not list(m.children())
        ]
        net.eval()(torch.empty(1, 3, model_config.image_size, model_config.image_size))
        for h in hooks:
            h.remove()
    parameters = sum(p.numel() for p in net.parameters())
    pixels = 3 * model_config.image_size**2
    return (
        PER_PARAMETER * parameters
        + 2 * F32 * batch_size * sum(outputs)
        + images_on_device * pixels
        + F32 * float_images * pixels
    )
