"""Training a deep network on (random) labels with augmentation (Table 6 defaults), into a run folder.

Run folder: config.json, labels.pt (training labels, which were randomized, true labels),
init.pt (weights at initialization, for probing at init), metrics.jsonl (one JSON object per
epoch), checkpoint.pt (model, optimizer, generator and RNG states, epoch; written atomically every
`checkpoint_every` epochs and when SIGTERM/SIGINT arrive) and snapshot_E.pt at chosen epochs.
`resume=True` continues from checkpoint.pt; a kill -9 loses at most `checkpoint_every` epochs.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from bm.deep.config import KNN_BANKS, RUNTIME_FIELDS, DeepTrainConfig
from bm.deep.datasets import ImageSet, load_dataset
from bm.deep.distributed import setup
from bm.deep.models import Network
from bm.deep.augment import SSLAugment
from bm.deep.protocols import randaugment_setting
from bm.deep.views import AugmentOptions, augment_batch, finite_labels, finite_views, iid_views
from bm.errors import BMError
from bm.labels import LabelConfig, assign_labels
from bm.memory import deep_train_bytes, require_memory
from bm.probe import gaussian_sketch, knn_accuracy
from bm.runs import RunFolder, atomic_save, atomic_write_text, prepare_run_folder, read_saved
from bm.tensorboard import EventSink
from bm.theory import InvarianceAccumulator, class_grouped_bias, mse_decomposition, online_estimates

__all__ = ["DivergedError", "Interrupted", "TrainingItems", "augment_options", "embed", "iid_table", "memorized_accuracy",
           "memory_bank",
           "train", "train_or_resume", "training_items"]



class DivergedError(BMError):
    """The loss became NaN or inf; the last good checkpoint is kept."""


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR2)  # SIGUSR2: a scheduler's time limit (submitit)


class Interrupted(BMError):
    """SIGTERM, SIGINT or SIGUSR2 arrived; a checkpoint of the exact position was written and the run can be resumed.
    Exit code 128 + the signal's number, the shell convention: 143 for SIGTERM, 130 for SIGINT."""

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


def iid_table(cfg: DeepTrainConfig, train: ImageSet) -> torch.Tensor:
    """augment iid: the (s, B) data-set indices of the anchors' views in the whole training set `train`."""
    return iid_views(train.labels, cfg.iid_subset, cfg.views, cfg.seed).views.to(train.images.device)


def memory_bank(cfg: DeepTrainConfig, train: ImageSet, bank: str | None = None) -> ImageSet:
    """A K-NN memory bank (default: cfg.knn_bank) out of the whole training set: "train", the images the run trains
    on (its first `subset`; iid: the s B views), Definition 4.1's S; or "all", every training image."""
    if (bank or cfg.knn_bank) == "all":
        return train
    return train.take(iid_table(cfg, train).reshape(-1)) if cfg.augment == "iid" else train.first(cfg.subset)


def augment_options(cfg: DeepTrainConfig) -> AugmentOptions:
    """What the config tells an online protocol (RandAugment's setting, the SSL set, mixup's choices)."""
    setting = randaugment_setting(cfg.randaugment_mapping, cfg.randaugment_strength, cfg.randaugment_magnitude)
    return AugmentOptions(setting, SSLAugment(), cfg.mixup_options())


@torch.no_grad()
def embed(net: Network, images: torch.Tensor, names: list[str], pool: bool = False, batch: int = 512,
          sketch: int = 0) -> dict[str, torch.Tensor]:
    """Activations of the named layers for uint8 images (N, 3, H, W), in eval mode, flattened (N, -1) in float32;
    `pool`: convolutional maps (N, C, H, W) are global-average-pooled to (N, C) first; `sketch` k: flattened layers
    wider than k are sent through a fixed Gaussian projection to k dimensions (bm.probe.gaussian_sketch)."""
    was_training = net.training
    net.eval()
    parts: dict[str, list[torch.Tensor]] = {n: [] for n in names}
    for s in range(0, images.shape[0], batch):
        feats = net.features(images[s : s + batch].float() / 255, names)
        for n in names:
            f = feats[n].float()
            f = (f.mean(dim=(2, 3)) if pool and f.ndim == 4 else f).flatten(1)
            parts[n].append(gaussian_sketch(f, sketch) if sketch and f.shape[1] > sketch else f)
    net.train(was_training)
    return {n: torch.cat(v) for n, v in parts.items()}


def _probe(net: Network, items: "TrainingItems", banks: dict[str, ImageSet], test: ImageSet,
           cfg: DeepTrainConfig) -> dict:
    """K-NN clean-test accuracy of the embedding under each memory bank (`knn`: the config's), Inv/Bias
    (Lemma B.1, plug-in) on B fixed views of the first training items, normalized invariance per layer (Eq. 2)."""
    unique = list({id(b): b for b in banks.values()}.values())
    emb = embed(net, torch.cat([b.images for b in unique] + [test.images]), ["embedding"])["embedding"]
    parts = dict(zip(map(id, unique), emb[: -len(test)].split([len(b) for b in unique])))
    knn = {name: knn_accuracy(parts[id(b)], b.labels, emb[-len(test):], test.labels, k=min(cfg.probe_k, len(b)))
           for name, b in banks.items()}  # a bank smaller than k (a tiny i.i.d. set) votes with all its points
    row = {"knn": knn[cfg.knn_bank], "knn_banks": knn}
    s, B = min(cfg.decomposition_samples, items.anchors), min(cfg.decomposition_views, items.max_views)
    if B < 3:  # i.i.d. sets of fewer than 3 images: no Inv, Bias or invariance
        return row
    net.eval()
    accs = {name: InvarianceAccumulator() for name in net.layer_names}
    outs = []
    with torch.no_grad():
        for start in range(0, s, 64):
            views = items.views(torch.arange(start, min(s, start + 64), device=test.images.device), B)  # view 0 clean
            feats = net.features(views, net.layer_names)
            for name, f in feats.items():
                f = f.float().reshape(-1, B, *f.shape[1:])
                accs[name].update(f[:, 1:], f[:, 0])
            outs.append(feats["O"].float().reshape(-1, B, feats["O"].shape[-1]))
    net.train()
    preds, targets = torch.cat(outs)[:, 1:], items.anchor_targets[:s].float()  # (s, B - 1, C), (s, C)
    d, online = mse_decomposition(preds, targets), online_estimates(preds, targets)
    split = class_grouped_bias(preds, targets.argmax(1), items.anchor_true[:s])
    return row | {"inv": float(d.inv), "bias": float(d.bias), "inv_unbiased": float(online.inv),
                  "bias_unbiased": float(online.bias),
                  "bias_split": {"centroid": float(split.centroid), "between_true": float(split.between_true),
                                 "within": float(split.within)},
                  "invariance": {name: acc.result() for name, acc in accs.items()}}


def train(cfg: DeepTrainConfig, out: Path, resume: bool = False, data: tuple[ImageSet, ImageSet] | None = None,
          on_epoch: Callable[[dict], None] | None = None, overwrite: bool = False, tensorboard: bool = False) -> Path:
    """Train (or resume) the run in `out`; returns out. `data` overrides loading (tests); `overwrite` empties a
    folder holding another run first (not with `resume`); `tensorboard` mirrors metrics.jsonl into event files
    beside it (bm.tensorboard). Under torchrun every rank trains its slice of each global batch; rank 0 writes."""
    out, run = Path(out), RunFolder(out)
    _refuse_bad_start(cfg, run, resume, overwrite)
    ddp = setup(cfg.device)
    device = ddp.device
    saved = _read_checkpoint(run, device) if resume else None  # a refused checkpoint leaves the folder untouched
    cfg, train_set, banks, test_set, labels = _inputs(cfg, data)
    on_device = len(test_set) + sum(len(b) for b in {id(b): b for b in (train_set, *banks.values())}.values())
    require_memory(deep_train_bytes(cfg.model, cfg.batch_size, on_device), device, "this run")
    if ddp.main:  # a resumed run may be extended: --epochs raised continues it
        prepare_run_folder(out, cfg.to_json(), extendable=("epochs",) if resume else (), results=(RunFolder.CHECKPOINT,),
                           overwrite=overwrite, runtime=RUNTIME_FIELDS if resume else ())
    ddp.barrier()
    torch.manual_seed(cfg.seed)
    net = Network(cfg.model).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.999), weight_decay=0.0)
    gen = torch.Generator(device=device).manual_seed(cfg.seed)
    epoch, position = _restore(run, saved, net, opt, gen) if resume else (0, None)
    if not resume and ddp.main:
        atomic_save(run / RunFolder.LABELS, {"labels": labels.labels, "randomized": labels.randomized,
                                             "true": train_set.labels.cpu(), "num_classes": labels.num_classes})
        atomic_save(run / RunFolder.INIT, {"model": net.state_dict()})
    began, offset = time.perf_counter(), 0.0
    if ddp.main:
        offset = _truncate_metrics(run, epoch if resume else -1)  # a fresh start keeps no rows

    def clock() -> float:
        return offset + time.perf_counter() - began

    sink = EventSink(out, purge_step=epoch + 1 if resume else None) if tensorboard and ddp.main else None

    def notify(row: dict) -> None:
        if sink is not None:
            sink(row)
        if on_epoch is not None:
            on_epoch(row)

    moved = {id(b): b.to(device) for b in (train_set, *banks.values(), test_set)}  # each set once
    banks, test_set = {name: moved[id(b)] for name, b in banks.items()}, moved[id(test_set)]
    targets = torch.nn.functional.one_hot(labels.labels, labels.num_classes).float().to(device)  # (n, C)
    items = training_items(cfg, moved[id(train_set)], labels, targets, gen)
    sets = (items, banks, test_set)
    if ddp.main and not resume:  # epoch 0: the probes at initialization
        _append(out, {"epoch": 0, **_measure(net, cfg, *sets, True)}, sink, clock)
    model = _wrapped(net, cfg, ddp)
    stop = {"signal": None}
    previous = {s: signal.signal(s, lambda num, _: stop.update(signal=num)) for s in STOP_SIGNALS}

    def checkpoint(done: int, position: dict | None = None) -> None:
        if ddp.main:
            atomic_save(run / RunFolder.CHECKPOINT, {"model": net.state_dict(), "optimizer": opt.state_dict(), "epoch": done,
                                               "position": position, "generator": gen.get_state(),
                                               "torch_rng": torch.get_rng_state()})

    try:
        n, fetch = items.n, items.fetch
        while epoch < cfg.epochs:
            start = time.perf_counter()
            if position is None:
                position = {"order": torch.randperm(n, generator=gen, device=device), "offset": 0,
                            "total": 0.0, "seen": 0}
            total, seen = _epoch(model, opt, fetch, n, position, cfg, ddp, epoch, stop, checkpoint, run)
            position = None
            epoch += 1
            if ddp.main:  # rank 0 measures, writes and probes; the others wait at the barrier
                _end_of_epoch(net, out, cfg, epoch, total / seen, seen / (time.perf_counter() - start), sets,
                              notify, clock)
            ddp.barrier()
            stopping = ddp.any(stop["signal"] is not None)
            if epoch % cfg.checkpoint_every == 0 or epoch == cfg.epochs or stopping:
                checkpoint(epoch)
            if stopping:
                raise Interrupted(f"stopped by signal {stop['signal']} after epoch {epoch}; continue with --resume",
                                  stop["signal"])
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if sink is not None:
            sink.close()
    return out


def _refuse_bad_start(cfg: DeepTrainConfig, run: RunFolder, resume: bool, overwrite: bool) -> None:
    if torch.device(cfg.device).type == "cuda" and not torch.cuda.is_available():
        raise BMError(f"device {cfg.device!r} requested but CUDA is not available here")
    if resume and not (run / RunFolder.CHECKPOINT).exists():
        raise BMError(f"--resume: no checkpoint.pt in {run.path}")
    if resume and overwrite:
        raise BMError("--overwrite empties the run folder; it cannot be combined with --resume")
    if not resume and not overwrite and (run / RunFolder.CHECKPOINT).exists():
        raise BMError(f"{run.path} already holds a run; pass --resume to continue it, choose another --out, or pass "
                      "--overwrite to empty it")


def _inputs(cfg: DeepTrainConfig, data: tuple[ImageSet, ImageSet] | None):
    """(cfg with num_classes resolved, train set, K-NN banks by name (KNN_BANKS), test set, all at the run's image
    size, labels). An i.i.d. set the data cannot hold is refused here, before anything is written."""
    train_set, test_set = data or (load_dataset(cfg.dataset, cfg.data_dir, "train"),
                                   load_dataset(cfg.dataset, cfg.data_dir, "test"))
    full, test_set = train_set.resized(cfg.model.image_size), test_set.resized(cfg.model.image_size)
    train_set, banks = full.first(cfg.subset), {name: memory_bank(cfg, full, name) for name in KNN_BANKS}
    labels = assign_labels(train_set.labels, len(train_set.classes), LabelConfig(cfg.label_noise, cfg.random_classes),
                           cfg.seed)
    if cfg.model.num_classes == 0:  # resolve "from the labels" before the config is written
        cfg = replace(cfg, model=replace(cfg.model, num_classes=labels.num_classes))
    if labels.num_classes != cfg.model.num_classes:
        raise BMError(f"the labels have {labels.num_classes} classes but the model outputs {cfg.model.num_classes}")
    return cfg, train_set, banks, test_set, labels


def _read_checkpoint(run: RunFolder, device: torch.device) -> dict:
    return read_saved(run / RunFolder.CHECKPOINT, ("model", "optimizer", "epoch", "position", "generator", "torch_rng"),
                      device)


def _restore(run: RunFolder, state: dict, net: Network, opt: torch.optim.Optimizer, gen: torch.Generator
             ) -> tuple[int, dict | None]:
    """Load a read checkpoint into net, opt, gen and torch's RNG; returns (epochs done, position inside an epoch:
    its order, the next batch's offset, the running loss sum and count; None at an epoch's end)."""
    try:
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
    except (RuntimeError, KeyError, ValueError) as e:
        raise BMError(f"{run / RunFolder.CHECKPOINT} is from another model: {e}") from None
    gen.set_state(state["generator"].to(gen.get_state().device))
    torch.set_rng_state(state["torch_rng"])
    return state["epoch"], state["position"]


def _wrapped(net: Network, cfg: DeepTrainConfig, ddp) -> torch.nn.Module:
    """The module the loop calls: channels-last on CUDA, DDP (SyncBatchNorm on CUDA) under torchrun, compiled."""
    model = net
    if ddp.device.type == "cuda":
        net.to(memory_format=torch.channels_last)
    if ddp.world > 1:
        if ddp.device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[ddp.device] if ddp.device.type == "cuda"
                                                          else None)
    return torch.compile(model) if cfg.compile else model


def _epoch(model: torch.nn.Module, opt: torch.optim.Optimizer, fetch, n: int, position: dict, cfg: DeepTrainConfig,
           ddp, epoch: int, stop: dict, checkpoint: Callable, run: RunFolder) -> tuple[float, int]:
    """The batches of one epoch from `position` on; returns (summed squared error, items seen). A signal between
    batches checkpoints the exact position and raises Interrupted."""
    device = ddp.device
    autocast = device.type == "cuda" and cfg.bf16
    order = position["order"].to(device)
    total, seen = position["total"], position["seen"]
    for s in range(position["offset"], n, cfg.batch_size):
        if ddp.any(stop["signal"] is not None):  # between batches: the state is exactly resumable
            checkpoint(epoch, {"order": order.cpu(), "offset": s, "total": total, "seen": seen})
            raise Interrupted(f"stopped by signal {stop['signal']} in epoch {epoch + 1}; continue with --resume",
                              stop["signal"])
        idx = order[s : s + cfg.batch_size]
        x, t = fetch(idx)
        if device.type == "cuda":
            x = x.contiguous(memory_format=torch.channels_last)
        x, t = x[ddp.rank :: ddp.world], t[ddp.rank :: ddp.world]  # this rank's slice of the global batch
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=autocast):
            pred = model(x)
        local = (pred.float() - t).square().sum()
        loss = local * (ddp.world / idx.numel())  # DDP averages over ranks: the global batch mean
        if not math.isfinite(ddp.sum(local.item())):
            raise DivergedError(f"loss became {loss.item()} at epoch {epoch + 1}; the last good checkpoint "
                                f"is {run / RunFolder.CHECKPOINT}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += ddp.sum(local.item())
        seen += idx.numel()
    return total, seen


def train_or_resume(cfg: DeepTrainConfig, out: Path, data: tuple[ImageSet, ImageSet] | None = None,
                    on_epoch: Callable[[dict], None] | None = None, tensorboard: bool = False) -> Path:
    """Train the run in `out`, resume it if it was cut short, or leave it if it is finished."""
    run = RunFolder(out)
    if run.finished_epochs() >= cfg.epochs:
        classes = cfg.model.num_classes or int(run.labels(("num_classes",))["num_classes"])
        prepare_run_folder(run.path, replace(cfg, model=replace(cfg.model, num_classes=classes)).to_json(),
                           runtime=RUNTIME_FIELDS)
        return run.path
    return train(cfg, out, resume=(run / RunFolder.CHECKPOINT).exists(), data=data, on_epoch=on_epoch,
                 tensorboard=tensorboard)


@dataclass(frozen=True)
class TrainingItems:
    """What a run trains on, and what "memorized" scores: exactly those items against their training labels.

    n items per epoch, fetch(indices) -> (float images in [0, 1], targets (k, C)) as trained; memorized(indices of
    range(n_memorized)) -> (float images, training labels (k,)) of the fixed items (online protocols: the clean
    images; finite: the n B views with their own labels; iid: the s B views with their anchor's label); views(anchor
    indices (k,), B) -> (k B, 3, H, W) views of each anchor, view 0 the anchor itself (Inv / Bias and invariance),
    anchor_targets (anchors, C) their training targets, anchor_true (anchors,) their true classes; max_views the
    most views an anchor has.
    """

    n: int
    fetch: Callable
    n_memorized: int
    memorized: Callable
    anchors: int
    views: Callable
    anchor_targets: torch.Tensor
    max_views: int
    anchor_true: torch.Tensor


def training_items(cfg: DeepTrainConfig, data: ImageSet, labels, targets: torch.Tensor, gen: torch.Generator
                   ) -> TrainingItems:
    """The protocol's training items. Online protocols draw fresh augmentations of the n images; `finite` trains on
    the n B fixed views (item i = view i mod B of sample i div B); `iid` on s anchors with B same-class images each
    (item i = image i mod B of anchor i div B, with the anchor's label)."""
    B = cfg.views

    def ssl_views(anchor, k):  # the SSL views the probes use (seed + 1: not the training views)
        return finite_views(data.images, anchor.repeat_interleave(k), torch.arange(k, device=anchor.device).repeat(
            anchor.numel()), seed=cfg.seed + 1)

    if cfg.augment == "finite":
        per_view = finite_labels(labels.labels, B, cfg.preserve_labels, labels.num_classes, cfg.seed + 2)
        per_view = per_view.reshape(-1).to(targets.device)
        view_targets = torch.nn.functional.one_hot(per_view, labels.num_classes).float()

        def fetch(idx):
            return finite_views(data.images, idx // B, idx % B, cfg.seed), view_targets[idx]

        def memorized(idx):
            return fetch(idx)[0], per_view[idx]

        return TrainingItems(len(data) * B, fetch, len(data) * B, memorized, len(data), ssl_views, targets,
                             cfg.decomposition_views, data.labels)
    if cfg.augment == "iid":
        table = iid_table(cfg, data)
        flat, anchor_labels = table.reshape(-1), labels.labels.to(targets.device)[table[:, 0]]

        def fetch(idx):
            return data.images[flat[idx]].float() / 255, targets[table[:, 0][idx // B]]

        def memorized(idx):
            return data.images[flat[idx]].float() / 255, anchor_labels[idx // B]

        def iid(anchor, k):
            return data.images[table[anchor, :k].reshape(-1)].float() / 255

        return TrainingItems(table.numel(), fetch, table.numel(), memorized, table.shape[0], iid,
                             targets[table[:, 0]], B, data.labels[table[:, 0]])
    options = augment_options(cfg)
    y = labels.labels.to(targets.device)

    def fetch(idx):
        x, t, _ = augment_batch(cfg.augment, data.images[idx], gen, targets[idx], options)
        return x, t

    def clean(idx):
        return data.images[idx].float() / 255, y[idx]

    return TrainingItems(len(data), fetch, len(data), clean, len(data), ssl_views, targets, cfg.decomposition_views,
                         data.labels)


@torch.no_grad()
def memorized_accuracy(net: Network, items: TrainingItems, batch: int = 512) -> float:
    """Eval-mode accuracy of the network's own output on exactly the items it trains on, against their training
    labels (the paper's "memorization" and train accuracy)."""
    was_training = net.training
    net.eval()
    hits = 0
    for s in range(0, items.n_memorized, batch):
        x, y = items.memorized(torch.arange(s, min(items.n_memorized, s + batch), device=items.anchor_targets.device))
        hits += int((net(x).argmax(1) == y).sum())
    net.train(was_training)
    return hits / items.n_memorized


def _measure(net: Network, cfg: DeepTrainConfig, items: TrainingItems, banks: dict[str, ImageSet], test_set: ImageSet,
             probing: bool) -> dict:
    """Memorization (accuracy on the trained items, their training labels) and, when probing, the probes."""
    row = {"train_acc": memorized_accuracy(net, items)}
    if probing and items.anchors >= 2:  # probes need two samples
        row.update(_probe(net, items, banks, test_set, cfg))
    return row


def _append(out: Path, row: dict, on_epoch: Callable[[dict], None] | None, clock: Callable[[], float]) -> None:
    """Append one metrics row, stamped with the run's wall time so far (`wall_s`, summed over resumes)."""
    row["wall_s"] = round(clock(), 3)
    with open(RunFolder(out) / RunFolder.METRICS, "a") as f:  # one whole record per write, on disk before the next epoch
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())
    if on_epoch is not None:
        on_epoch(row)


def _end_of_epoch(net: Network, out: Path, cfg: DeepTrainConfig, epoch: int, loss: float, rate: float,
                  sets: tuple, on_epoch: Callable[[dict], None] | None, clock: Callable[[], float]) -> None:
    """Append the epoch's metrics (and probes every cfg.probe_every epochs); keep a snapshot if asked."""
    row = {"epoch": epoch, "loss": loss, "img_per_s": rate}
    probing = epoch % cfg.probe_every == 0 or epoch == cfg.epochs
    if probing or epoch % cfg.train_acc_every == 0:
        row.update(_measure(net, cfg, *sets, probing))
    _append(out, row, on_epoch, clock)
    if epoch in cfg.snapshots:
        atomic_save(RunFolder(out).snapshot(epoch), {"model": net.state_dict(), "epoch": epoch})


def _truncate_metrics(run: RunFolder, epoch: int) -> float:
    """Drop metric rows after `epoch` (written after the checkpoint a resumed run starts from) and a torn
    last line (said on stderr); returns the wall time the kept rows reached."""
    rows = [r for r in run.metrics(say_torn=True) if r["epoch"] <= epoch]
    if (run / RunFolder.METRICS).exists():
        atomic_write_text(run / RunFolder.METRICS, "".join(json.dumps(r) + "\n" for r in rows))
    return float(rows[-1].get("wall_s", 0.0)) if rows else 0.0
