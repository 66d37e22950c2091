"""What several presets share: the conditions of Tables 2 and 3, the random-label runs with and without DA, probes
of a finished run's embedding and output, Definition 4.1's probe records, and a preset without runs."""

from __future__ import annotations

from bm.analyses.probing import embedding_probe, network_at, probe_layers
from bm.deep.items import memory_bank
from bm.reproduce.plan import Plan, Run
from bm.runs import RunFolder


def embedding_probe_of(
    plan: Plan, run: Run, weights: str = RunFolder.CHECKPOINT, linear: bool = False, target: str | None = None
) -> float:
    """Embedding probe (K-NN, or linear) of a finished run's weights (init.pt: at initialization) on the data in
    memory: the run's own training images and test set, or data set `target` resized to the run's images."""
    cfg = run.config
    net = network_at(cfg, plan.folder(run) / weights, plan.device)
    train, test = plan.data[target or cfg.dataset]
    train = train if target else memory_bank(cfg, train)
    train, test = train.resized(cfg.model.image_size), test.resized(cfg.model.image_size)
    return embedding_probe(net, train, test, cfg.probe_k, linear)


def own_test_accuracy(plan: Plan, run: Run) -> dict:
    """The trained network's own output on the test set: accuracy against the true labels (its generalization, for a
    run trained on clean labels) and against uniformly random test labels of the run's random classes, drawn by
    another seed (chance, for every network: the reference a memorized random labeling cannot beat)."""
    from bm.deep.measure import embed
    from bm.labels import LabelConfig, assign_labels

    cfg = run.config
    net = network_at(cfg, plan.folder(run) / RunFolder.CHECKPOINT, plan.device)
    test = plan.data[cfg.dataset][1].resized(cfg.model.image_size)
    guess = embed(net, test.images.to(plan.device), ["O"])["O"].argmax(1).cpu()
    random = assign_labels(
        test.labels, len(test.classes), LabelConfig(1.0, cfg.random_classes), cfg.seed + 1_000_003
    ).labels
    return {
        "test_acc_true": float((guess == test.labels.cpu()).float().mean()),
        "test_acc_random": float((guess == random).float().mean()),
    }


CONDITIONS = (
    ("clean", 0.0, False),
    ("clean+DA", 0.0, True),
    ("random", 1.0, False),
    ("random+DA", 1.0, True),
)  # DA: augmented


def condition(plan: Plan, dataset: str, model: str, noise: float, da: bool) -> Run:
    return (
        plan.augmented(dataset, model, label_noise=noise)
        if da
        else plan.run(dataset, model, label_noise=noise, augment="none")
    )


def random_no_da(plan: Plan) -> list[Run]:
    return [plan.run(label_noise=1.0, augment="none")]


def random_da(plan: Plan) -> list[Run]:
    return [plan.augmented(label_noise=1.0)]


def definition_probes_of(plan: Plan, run: Run) -> dict:
    """bm.analyses.def41's probes of a finished run (accuracies and packed per-test outcomes, trained and init), kept in
    the run folder (definition_probes.json, a record results/ keeps: findings need no weights)."""
    from bm.analyses.def41 import probes_of_run

    return probes_of_run(plan.folder(run), plan.data[run.config.dataset], plan.device)


def no_runs(plan: Plan) -> list[Run]:
    return []


def layer_probes(plan: Plan, run: Run, fits: tuple[str, ...], weights: str | None = None, init: bool = True) -> dict:
    """bm.analyses.probing.probe_layers of a finished run (or its `weights` file, a snapshot) at the scale's pooling
    and sketch, on the data in memory: Fig. 3, Table 1 and the benign preset's per-layer probes."""
    return probe_layers(
        plan.folder(run) / weights if weights else plan.folder(run),
        None,
        fits,
        init=init,
        pool=plan.scale.probe_pool,
        sketch=plan.scale.probe_sketch,
        device=plan.device,
        data=plan.data[run.config.dataset],
    )
