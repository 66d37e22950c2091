"""What a run measures while it trains: memorization of its trained items, and at probe epochs the K-NN under each
memory bank, Inv / Bias (Lemma B.1) and the normalized invariance per layer (Eq. 2), and, where the config asks
(`gradient_probe`), the summed gradients of the permuted and of the clean images (Stephenson et al. 2021, Sec. 5);
`Measurements` is the callback the loop calls after every epoch, at the config's cadence."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bm.deep.config import DeepTrainConfig
from bm.deep.datasets import ImageSet
from bm.deep.items import TrainingItems
from bm.deep.models import Network
from bm.probe import gaussian_sketch, knn_accuracy
from bm.theory import InvarianceAccumulator, class_grouped_bias, mse_decomposition, online_estimates
from bm.theory.gradients import compare_groups, group_gradients

__all__ = ["Measurements", "PermutedImages", "embed", "gradient_contributions", "memorized_accuracy", "probe"]


@torch.no_grad()
def embed(
    net: Network, images: torch.Tensor, names: list[str], pool: bool = False, batch: int = 512, sketch: int = 0
) -> dict[str, torch.Tensor]:
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


def probe(net: Network, items: TrainingItems, banks: dict[str, ImageSet], test: ImageSet, cfg: DeepTrainConfig) -> dict:
    """K-NN clean-test accuracy of the embedding under each memory bank (`knn`: the config's), Inv/Bias
    (Lemma B.1, plug-in) on B fixed views of the first training items, normalized invariance per layer (Eq. 2)."""
    unique = list({id(b): b for b in banks.values()}.values())
    emb = embed(net, torch.cat([b.images for b in unique] + [test.images]), ["embedding"])["embedding"]
    parts = dict(zip(map(id, unique), emb[: -len(test)].split([len(b) for b in unique])))
    knn = {
        name: knn_accuracy(parts[id(b)], b.labels, emb[-len(test) :], test.labels, k=min(cfg.probe_k, len(b)))
        for name, b in banks.items()
    }  # a bank smaller than k (a tiny i.i.d. set) votes with all its points
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
    return row | {
        "inv": float(d.inv),
        "bias": float(d.bias),
        "inv_unbiased": float(online.inv),
        "bias_unbiased": float(online.bias),
        "bias_split": {
            "centroid": float(split.centroid),
            "between_true": float(split.between_true),
            "within": float(split.within),
        },
        "invariance": {name: acc.result() for name, acc in accs.items()},
    }


@torch.no_grad()
def memorized_accuracy(
    net: Network, items: TrainingItems, indices: torch.Tensor | None = None, batch: int = 512
) -> float:
    """Eval-mode accuracy of the network's own output on exactly the items it trains on (those of `indices`, (N,);
    default every one), against their training labels (the paper's "memorization" and train accuracy)."""
    if indices is None:
        indices = torch.arange(items.n_memorized, device=items.anchor_targets.device)
    was_training = net.training
    net.eval()
    hits = 0
    for s in range(0, len(indices), batch):
        x, y = items.memorized(indices[s : s + batch])
        hits += int((net(x).argmax(1) == y).sum())
    net.train(was_training)
    return hits / len(indices)


@dataclass(frozen=True)
class PermutedImages:
    """The two groups of Stephenson et al.'s measurement: a run's clean training images (n, 3, H, W) uint8, their
    training labels (n,) and targets (n, C), and which of the labels the run permuted (n,) bool."""

    images: torch.Tensor
    labels: torch.Tensor
    targets: torch.Tensor
    permuted: torch.Tensor


GRADIENT_NAMES = {"norm_a": "norm_permuted", "norm_b": "norm_clean", "per_example_a": "per_example_permuted"}
GRADIENT_NAMES |= {
    "per_example_b": "per_example_clean",
    "cos_a_full": "cos_permuted_full",
    "cos_b_full": "cos_clean_full",
}


def _unit_of(key: str) -> str:
    """A parameter's layer: encoder.stages.layer1.0.conv1.weight -> layer1 (the unit `bm rewind` counts)."""
    return key.split(".")[2]


def gradient_contributions(net: Network, data: PermutedImages, batch: int) -> dict:
    """One record of the permuted and clean images' gradients at the network's weights: the network in training mode
    (batch statistics, as it trains) takes the images in batches of `batch`; per parameterised layer and over all
    parameters, each group's summed-gradient norm, per example, their ratio and each one's cosine with the full
    gradient, of the squared error (`total`, `layers`) and of its label term -2 f(x) . (y - mean target) (`label_total`,
    `label_layers`; bm.analyses.gradients says why); and `permuted_fit`, the eval-mode accuracy on the permuted images
    against their labels. The network's buffers (batch-norm statistics) and mode are restored: training is unchanged."""
    buffers = {k: b.clone() for k, b in net.named_buffers()}
    was_training = net.training
    params = [(k, p) for k, p in net.named_parameters() if p.requires_grad]
    groups = {"permuted": data.permuted, "clean": ~data.permuted}
    mean_target = data.targets.mean(0)
    summed = {(kind, g): [torch.zeros_like(p) for _, p in params] for kind in ("loss", "label") for g in groups}
    net.train()
    for s in range(0, len(data.images), batch):
        out, t = net(data.images[s : s + batch].float() / 255).float(), data.targets[s : s + batch]
        losses = {"loss": (out - t).square().sum(1), "label": -2 * (out * (t - mean_target)).sum(1)}
        for kind, loss in losses.items():
            part = group_gradients(loss, [p for _, p in params], {g: m[s : s + batch] for g, m in groups.items()})
            for g in groups:
                summed[kind, g] = [a + b for a, b in zip(summed[kind, g], part[g])]
    with torch.no_grad():
        net.load_state_dict(buffers, strict=False)
        net.eval()
        fitted = torch.cat(
            [net(data.images[s : s + 512].float() / 255).argmax(1) for s in range(0, len(data.images), 512)]
        )
    net.train(was_training)
    counts = {g: int(m.sum()) for g, m in groups.items()}
    row: dict = {}
    for kind, prefix in (("loss", ""), ("label", "label_")):
        a, b = summed[kind, "permuted"], summed[kind, "clean"]
        row[f"{prefix}layers"] = {}
        for unit in dict.fromkeys(_unit_of(k) for k, _ in params):
            idx = [i for i, (k, _) in enumerate(params) if _unit_of(k) == unit]
            c = compare_groups([a[i] for i in idx], [b[i] for i in idx], counts["permuted"], counts["clean"])
            row[f"{prefix}layers"][unit] = {GRADIENT_NAMES.get(k, k): v for k, v in c.items()}
        total = compare_groups(a, b, counts["permuted"], counts["clean"])
        row[f"{prefix}total"] = {GRADIENT_NAMES.get(k, k): v for k, v in total.items()}
    row["permuted_fit"] = float((fitted[data.permuted] == data.labels[data.permuted]).float().mean())
    return row


@dataclass
class Measurements:
    """The end-of-epoch measurements: memorization every `train_acc_every` epochs, with the probes every
    `probe_every` epochs and at the last; `__call__(epoch)` returns what was measured ({} when nothing is due)."""

    net: Network
    cfg: DeepTrainConfig
    items: TrainingItems
    banks: dict[str, ImageSet]
    test: ImageSet
    permuted: PermutedImages | None = None  # given: each probe also measures gradient_contributions

    def measure(self, probing: bool) -> dict:
        """Memorization (accuracy on the trained items, their training labels) and, when probing, the probes."""
        row = {"train_acc": memorized_accuracy(self.net, self.items)}
        if probing and self.items.anchors >= 2:  # probes need two samples
            row.update(probe(self.net, self.items, self.banks, self.test, self.cfg))
        if probing and self.permuted is not None:
            row["gradients"] = gradient_contributions(self.net, self.permuted, self.cfg.batch_size)
        return row

    def __call__(self, epoch: int) -> dict:
        probing = epoch % self.cfg.probe_every == 0 or epoch == self.cfg.epochs
        return self.measure(probing) if probing or epoch % self.cfg.train_acc_every == 0 else {}
