"""Definition 4.1's probes of a run's embedding, at its trained weights and at init, with every test image's outcome.

Definition 4.1 probes on S, the images the run trained on, with their true labels, and scores the held-out test set.
The paper's S holds 5000 images per class and its K-NN takes k = 20 (k / per-class count = 0.004); on a bank of
~13 images per class a 20-vote cannot be won by a small class, so the probes here are: K-NN at k scaled to the bank
(`scaled_k`), a sweep k in KS, a linear probe on S (l2 chosen by 5-fold cross-validation on S, Table 3's probe),
and the released code's K-NN (k = 20, bank = every training image). Each probe's per-test-image outcomes are kept
(packed bits) so that findings can resample test images as well as seeds (bm.stats.crossed_bootstrap).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bm.analyses.probing import load_run
from bm.deep.datasets import ImageSet, load_dataset
from bm.deep.items import memory_bank
from bm.deep.measure import embed
from bm.deep.models import Network, load_weights
from bm.probe.knn import knn_predict
from bm.probe.linear import linear_probe_cv
from bm.runs import RunFolder, read_saved, run_record

__all__ = ["KS", "PAPER_K_RATIO", "RECORD", "definition_probes", "pack", "probes_of_run", "scaled_k", "unpack"]

RECORD = "definition_probes.json"  # a run folder's record of these probes, for its final epoch

KS = (1, 5, 10, 20)
PAPER_K_RATIO = 20 / 5000  # the paper's k over its bank's images per class (CIFAR-10, Def. 4.1)


def scaled_k(per_class: int) -> int:
    """The paper's k / per-class ratio applied to a bank with `per_class` images of its smallest class (at least 1)."""
    return max(1, round(PAPER_K_RATIO * per_class))


def pack(correct: torch.Tensor) -> str:
    """Per-item outcomes (m,) bool as a hex string (np.packbits)."""
    return np.packbits(correct.cpu().numpy().astype(bool)).tobytes().hex()


def unpack(bits: str, m: int) -> np.ndarray:
    """The (m,) bool outcomes `pack` wrote."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(bits), dtype=np.uint8), count=m).astype(bool)


def _outcomes(
    emb_s: torch.Tensor,
    s: ImageSet,
    emb_all: torch.Tensor,
    every: ImageSet,
    emb_t: torch.Tensor,
    test: ImageSet,
    k_scaled: int,
) -> tuple[dict[str, torch.Tensor], float]:
    truth = test.labels.to(emb_t.device)
    ks = [k for k in sorted({*KS, k_scaled}) if k <= len(s)]  # a bank smaller than k has no such probe
    out = {f"knn_k{k}": knn_predict(emb_s, s.labels, emb_t, k=k).labels == truth for k in ks}
    out["knn_all_k20"] = knn_predict(emb_all, every.labels, emb_t, k=20).labels == truth
    out["linear"], l2 = linear_probe_cv(emb_s.double(), s.labels, emb_t.double(), test.labels)
    return out, l2


def definition_probes(path: Path, data: tuple[ImageSet, ImageSet] | None = None, device: str = "cpu") -> dict:
    """The probes of the module doc at the run's final weights ("trained") and at init: per probe the test accuracy
    and the packed per-test-image outcomes; the bank's class counts; the scaled k. `data`: the whole training and
    test sets where the caller holds them."""
    run, cfg, weights = load_run(path)
    full, test = data or tuple(load_dataset(cfg.dataset, cfg.data_dir, split) for split in ("train", "test"))
    size = cfg.model.image_size
    s, every, test = memory_bank(cfg, full, "train").resized(size), full.resized(size), test.resized(size)
    counts = torch.bincount(s.labels, minlength=len(s.classes))
    k_scaled = scaled_k(int(counts.min()))
    net = Network(cfg.model).to(device)
    record: dict = {
        "run": run.path.name,
        "bank_counts": counts.tolist(),
        "scaled_k": k_scaled,
        "test_size": len(test),
        "probes": {},
        "accuracy": {},
        "linear_l2": {},
    }
    for which, file in (("trained", weights), ("init", run / RunFolder.INIT)):
        load_weights(net, read_saved(file, ("model",), device)["model"], file)
        emb = {
            name: embed(net, images.images.to(device), ["embedding"])["embedding"]
            for name, images in (("s", s), ("all", every), ("test", test))
        }
        outcomes, l2 = _outcomes(emb["s"], s, emb["all"], every, emb["test"], test, k_scaled)
        record["probes"][which] = {name: pack(c) for name, c in outcomes.items()}
        record["accuracy"][which] = {name: float(c.double().mean()) for name, c in outcomes.items()}
        record["linear_l2"][which] = l2
    return record


def probes_of_run(path: Path, data: tuple[ImageSet, ImageSet] | None = None, device: str = "cpu") -> dict:
    """`definition_probes` of a finished run, read from its RECORD when that holds the run's final epoch (written
    there otherwise, under the run's lock)."""
    return run_record(path, RECORD, VERSION, lambda: definition_probes(path, data, device))


VERSION = 2  # of the probes' definition: a record of another version is measured again (2: S of a set protocol is
# the images it trains on, e.g. the i.i.d. protocol's s B images, not the run's `subset`)
