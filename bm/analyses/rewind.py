"""`bm rewind` (Stephenson et al. 2021): the last k parameterised layers of a deep run put back to their weights at an
earlier epoch, the rest kept from the end; what that does to the K-NN, the network's own test accuracy and its
memorization of the randomized examples."""

from __future__ import annotations

from pathlib import Path

from bm.analyses.config import RewindConfig
from bm.analyses.probing import load_run, run_data
from bm.deep.measure import embed
from bm.deep.models import Network, load_weights
from bm.errors import BMError
from bm.probe import knn_accuracy

__all__ = ["rewind", "rewind_lines"]


def _units(net: Network) -> list[str]:
    """Layer names that hold parameters, last first (the units `rewind` counts)."""
    owners = {key.split(".")[2] for key, _ in net.named_parameters()}
    return [n for n in reversed(net.layer_names) if n in owners]


def _prefix(net: Network, name: str) -> str:
    return f"{'projector' if name in net.projector.names else 'encoder'}.stages.{name}."


def rewind(
    path: Path,
    to_epochs: list[int],
    last_ks: list[int] = RewindConfig.layers,
    k: int = RewindConfig.k,
    device: str = RewindConfig.device,
) -> dict:
    """Replace the last k parameterised layers by their weights at epoch E, the rest from the end.

    For every (E, k): clean-test K-NN accuracy of the embedding, the network's own test accuracy
    (against true classes) and its train accuracy on the randomized examples (against their random
    labels): the record `bm rewind` writes as rewind.json (write_rewind adds its plot).
    """
    run, cfg, _ = load_run(path)
    bank, test = run_data(cfg, bank=True)  # the run's K-NN memory bank; its first images are the trained ones
    labels = run.labels(("labels", "randomized"))
    found = run.weight_files()
    final_epoch = max(found)
    final = run.weights(final_epoch, found)
    net = Network(cfg.model).to(device)
    units = _units(net)
    if any(not 0 <= kk <= len(units) for kk in last_ks):
        raise BMError(
            f"--layers must lie in [0, {len(units)}] (this model's parameterised layers, last first: "
            f"{', '.join(units)})"
        )
    randomized = labels["randomized"]
    rows = []
    for epoch in to_epochs:
        earlier = run.weights(epoch, found)
        for kk in last_ks:
            swap = tuple(_prefix(net, n) for n in units[:kk])
            mixed = {key: earlier.get(key) if key.startswith(swap) else value for key, value in final.items()}
            load_weights(net, mixed, f"{run.path} (epoch {epoch} and the end)")
            f_tr = embed(net, bank.images.to(device), ["embedding", "O"])
            f_te = embed(net, test.images.to(device), ["embedding", "O"])
            own = f_te["O"].argmax(1).cpu()
            trained = f_tr["O"][: len(randomized)].argmax(1).cpu()
            rows.append(
                {
                    "epoch": epoch,
                    "layers": kk,
                    "rewound": list(units[:kk]),
                    "knn_clean_test": knn_accuracy(f_tr["embedding"], bank.labels, f_te["embedding"], test.labels, k=k),
                    "output_test_acc": float((own == test.labels.cpu()).float().mean()),
                    "randomized_train_acc": float((trained[randomized] == labels["labels"][randomized]).float().mean())
                    if bool(randomized.any())
                    else float("nan"),
                }
            )
    return {"run": str(run.path), "final_epoch": final_epoch, "units_last_first": units, "rows": rows}


def rewind_lines(record: dict) -> list[str]:
    """A rewind record as text, one line per (E, k)."""
    return [
        f"epoch {r['epoch']:4d}  last {r['layers']} ({','.join(r['rewound']) or '-'}): knn {r['knn_clean_test']:.3f}  "
        f"output test acc {r['output_test_acc']:.3f}  randomized train acc {r['randomized_train_acc']:.3f}"
        for r in record["rows"]
    ]
