"""`bm gradients`: the gradient of a run's permuted (randomized-label) examples against that of the others, per layer,
at every epoch with weights (Stephenson et al. 2021, Sec. 5: close to initialization the permuted examples'
contribution is small, so memorization waits).

At each epoch E with weights (0: init.pt, `--snapshots` epochs, the last), the network in training mode (batch
statistics, as it trains) takes the run's clean training images, in batches of the run's batch size, against their
training targets; the per-example loss is the training loss (squared error to the one-hot target, summed over
outputs), and each group's gradient is that of its summed loss (bm.theory.gradients). Groups: `permuted`, the images
whose labels the run randomized (labels.pt `randomized`), and `clean`, the others. Per parameterised layer and over
all parameters: both norms, per example, their ratio and each one's cosine with the full gradient; beside it the
accuracy of the network's output on the permuted images against their random labels (when they start being fitted).

Near initialization the output is nearly the same for every image, so the squared error's gradient is dominated by
a common-mode term, (f - mean target) times the Jacobian, that every example shares whatever its label. The label
term isolates what the labels ask for: the gradient of -2 f(x) . (y - mean target) summed over a group (the squared
error's gradient minus that of the same images against the mean target); for labels independent of the images it
sums like sqrt(m), for the true labels like m (bm.theory.gradients). Both are recorded: `total` / `layers` for the
loss, `label_total` / `label_layers` for its label term.
"""

from __future__ import annotations

from pathlib import Path

import torch

from bm.analyses.probing import load_run, run_data
from bm.deep.measure import PermutedImages, gradient_contributions
from bm.deep.models import Network, load_weights
from bm.deep.protocols import set_protocol
from bm.errors import BMError
from bm.runs import RunFolder

__all__ = ["gradient_lines", "gradients_of_run", "permuted_gradients"]


def permuted_gradients(path: Path, epochs: list[int] | None = None, device: str = "cpu") -> dict:
    """The record `bm gradients` writes (gradients.json): per epoch, per layer and in total, the permuted and clean
    groups' summed-gradient norms, per example, their ratio and cosines with the full gradient; the permuted images'
    fit to their random labels; the group sizes."""
    run, cfg, _ = load_run(path)
    if set_protocol(cfg.augment) is not None:
        raise BMError(f"{run.path} trains on a fixed set ({cfg.augment}); bm gradients needs a run on its clean images")
    labels = run.labels(("labels", "randomized", "num_classes"))
    train = run_data(cfg)[0]
    randomized = labels["randomized"].bool()
    if not bool(randomized.any()) or bool(randomized.all()):
        raise BMError(f"{run.path} has {'no' if not randomized.any() else 'only'} randomized labels: no two groups")
    found = run.weight_files()
    chosen = sorted(found) if epochs is None else epochs
    missing = [e for e in chosen if e not in found]
    if missing:
        raise BMError(
            f"{run.path} has no weights for epoch(s) {', '.join(map(str, missing))}; it has {', '.join(map(str, found))}"
        )
    targets = torch.nn.functional.one_hot(labels["labels"].long(), int(labels["num_classes"])).float().to(device)
    groups = PermutedImages(train.images.to(device), labels["labels"].long().to(device), targets, randomized.to(device))
    counts = {"permuted": int(randomized.sum()), "clean": int((~randomized).sum())}
    record: dict = {"run": str(run.path), "counts": counts, "epochs": {}}
    for epoch in chosen:
        net = Network(cfg.model).to(device)
        load_weights(net, run.weights(epoch, found), str(found[epoch]))
        record["epochs"][str(epoch)] = gradient_contributions(net, groups, cfg.batch_size)
    return record


def gradients_of_run(path: Path, epochs: list[int] = ()) -> dict:
    """A gradients record (as permuted_gradients) of a run trained with `gradient_probe`: each probe's measurement from
    its metrics.jsonl, and `epochs` computed from the run's saved weights (its snapshots: the early epochs a probe
    cadence misses); epochs in order."""
    run = RunFolder(path)
    measured = {int(r["epoch"]): r["gradients"] for r in run.iter_metrics() if "gradients" in r}
    if not measured:
        raise BMError(f"{run.path} has no gradient measurements: train it with --gradient-probe")
    record = permuted_gradients(path, list(epochs)) if epochs else {"run": str(run.path), "epochs": {}}
    record["epochs"] = {
        str(e): v for e, v in sorted(({int(e): v for e, v in record["epochs"].items()} | measured).items())
    }
    return record


def gradient_lines(record: dict) -> list[str]:
    """A gradients record as text: per epoch, the total ratio, per-example norms and the permuted images' fit."""
    return [
        f"epoch {e:>5}: |g_permuted| / |g_clean| {r['total']['ratio']:.3f}, label term {r['label_total']['ratio']:.3f} "
        f"(per example {r['label_total']['per_example_permuted']:.3g} vs {r['label_total']['per_example_clean']:.3g}); "
        f"permuted images fitted {r['permuted_fit']:.3f}"
        for e, r in record["epochs"].items()
    ]
