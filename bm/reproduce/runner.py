"""`bm reproduce`: list presets with their cost, print their commands, or run (resume) them and write the outputs.

Layout under OUT: <scale>/runs/<run> (deep-train run folders, shared between presets) and
<scale>/<preset>/ holding config.json, result.json (what `bm report` reads), table.csv,
table.md and the figure (PNG + PDF). result.json is written last, atomically: a preset folder
without it is unfinished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bm import __version__
from bm.configs import to_dict
from bm.deep.config import TRAIN_SIZES
from bm.deep.datasets import DatasetError, load_dataset
from bm.deep.train import train_or_resume
from bm.errors import BMError
from bm.reproduce.outputs import Result, over_seeds, save
from bm.reproduce.plan import Plan, deep_train_command, steps_per_epoch
from bm.reproduce.presets import PRESETS, Preset
from bm.reproduce.scales import scale_for
from bm.runs import RunFolder, prepare_run_folder, provenance, read_json, write_json

__all__ = ["commands", "estimate_seconds", "make_plan", "reproduce", "status"]


def make_plan(
    name: str,
    scale: str,
    data_dir: Path,
    out: Path,
    device: str = "cpu",
    datasets: tuple[str, ...] | None = None,
    recipe: str | None = None,
    seeds: tuple[int, ...] | None = None,
) -> tuple[Preset, Plan]:
    if name not in PRESETS:
        raise BMError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)} (bm reproduce --list)")
    recipe = recipe or ("table6" if scale == "full" else None)
    chosen = scale_for(scale, recipe)
    if datasets and not PRESETS[name].by_dataset:
        raise BMError(
            f"--datasets selects rows of {', '.join(p.name for p in PRESETS.values() if p.by_dataset)}; {name} has none"
        )
    if seeds is not None and (not seeds or len(set(seeds)) < len(seeds) or min(seeds) < 0):
        raise BMError(f"--seeds needs distinct seeds >= 0, got {','.join(map(str, seeds)) or 'none'}")
    if seeds and PRESETS[name].seeds == "none":
        raise BMError(f"{name} has seeds of its own (the scale's); --seeds is for the presets that train deep runs")
    plan = Plan(chosen, Path(data_dir), Path(out), device, datasets, recipe, seeds)
    if not PRESETS[name].all_runs(plan) and PRESETS[name].command is None:
        raise BMError(f"{name}: no rows left for --datasets {','.join(datasets or ())}")
    return PRESETS[name], plan


def estimate_seconds(preset: Preset, plan: Plan) -> float:
    """Training images processed / the scale's throughput (scaled by pixels), plus the preset's other work."""
    total = preset.extra_seconds(plan) * (len(plan.seeds) if preset.seeds == "each" and plan.seeds else 1)
    for run in preset.all_runs(plan):
        cfg = run.config
        images = steps_per_epoch(cfg, TRAIN_SIZES[cfg.dataset]) * cfg.batch_size  # at most one batch too many
        total += cfg.epochs * images * (cfg.model.image_size / 32) ** 2 / plan.scale.images_per_second
    return total


def commands(preset: Preset, plan: Plan) -> list[str]:
    """One shell line per job: `bm deep-train ... --skip-finished` per run, or the preset's own command."""
    if preset.command is not None and preset.seeds == "each" and plan.seeds and len(plan.seeds) > 1:
        return [preset.command(plan.for_seed(s), plan.root / preset.name / f"seed{s}") for s in plan.seeds]
    if preset.command is not None:
        return [preset.command(plan, plan.root / preset.name)]
    return [deep_train_command(run.config, plan.folder(run)) for run in preset.all_runs(plan)]


def _needed(preset: Preset, plan: Plan) -> list[str]:
    names = [r.config.dataset for r in preset.all_runs(plan)] + list(preset.extra_datasets)
    names += ["cifar10"] if preset.name == "fig5" else []
    return list(dict.fromkeys(names))


def reproduce(
    name: str,
    scale: str,
    data_dir: Path,
    out: Path,
    device: str = "cpu",
    datasets: tuple[str, ...] | None = None,
    download: bool = False,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
    recipe: str | None = None,
    jobs=None,
    seeds: tuple[int, ...] | None = None,
    command: str | None = None,
) -> dict:
    """Run (or resume) every run of the preset, skipping finished ones, then write its outputs; returns result.json
    (with `command`, the command line that asked for it, where the caller has one).

    `jobs` (bm.jobs.Jobs): debug / local run the unfinished runs as jobs (local: at most `max_parallel` at once)
    before the outputs are written; slurm submits them as one array and returns {"submitted": job ids} (rerun
    without a launcher once they finished, to write the outputs)."""
    preset, plan = make_plan(name, scale, data_dir, out, device, datasets, recipe, seeds)
    recipe = plan.recipe
    plan.progress, plan.jobs = progress, jobs
    for dataset in _needed(preset, plan):  # every data set is checked before anything trains
        try:
            plan.data[dataset] = tuple(load_dataset(dataset, data_dir, split, download) for split in ("train", "test"))
        except DatasetError as e:
            raise DatasetError(
                f"{e}{'; or keep the rows you have data for with --datasets' if preset.by_dataset else ''}"
            ) from None
    runs = preset.all_runs(plan)
    folder = plan.root / preset.name
    if preset.command is None:  # fig5 / fig13: their own job creates the folder and guards it
        # the folder holds outputs derived from the runs (which guard themselves): a preset whose run list changed (a
        # newer bm) or whose data moved rewrites them, and config.json records the change
        prepare_run_folder(
            folder,
            {
                "preset": name,
                "scale": scale,
                "recipe": recipe,
                "data_dir": str(data_dir),
                "device": device,
                "datasets": list(datasets) if datasets else None,
                "runs": [r.name for r in runs],
                "seeds": list(plan.seeds) if plan.seeds else None,
            },
            runtime=("data_dir", "device", "runs", "seeds"),
        )
    start = time.perf_counter()
    done = {r.name: RunFolder(plan.folder(r)).finished_epochs() for r in runs}
    todo = [r for r in runs if done[r.name] < r.config.epochs]
    if jobs is not None and todo:
        from bm.deep.task import TrainTask
        from bm.launch import launch

        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "launcher": jobs.launcher,
            "max_parallel": jobs.max_parallel,
            "runs": [r.name for r in todo],
            **({"slurm": to_dict(jobs.slurm)} if jobs.launcher == "slurm" else {}),
        }
        write_json(folder / "jobs.json", record)  # what was asked, before it runs
        tasks = [TrainTask(r.config, plan.folder(r), folder / "tasks.jsonl") for r in todo]
        ids = launch(tasks, jobs, folder / "jobs", wait=jobs.launcher != "slurm")
        if jobs.launcher == "slurm":
            record["job_ids"] = dict(zip(record["runs"], ids))
            write_json(folder / "jobs.json", record)
            return {"submitted": ids, "folder": str(folder)}
        done = {r.name: RunFolder(plan.folder(r)).finished_epochs() for r in runs}  # the jobs trained them
    for i, run in enumerate(runs, 1):
        advance = progress(f"{name} run {i}/{len(runs)} {run.name}", run.config.epochs) if progress else None
        if advance:
            advance(min(done[run.name], run.config.epochs))
        train_or_resume(
            run.config,
            plan.folder(run),
            plan.data[run.config.dataset],
            on_epoch=(lambda row: advance(1)) if advance else None,
        )
    result = _finish(preset, plan, runs, folder)
    outputs = save(result, folder)
    record = {
        "preset": name,
        "scale": scale,
        "recipe": recipe,
        "folder": str(folder),
        "title": preset.title,
        "kind": preset.kind,
        "what": preset.what,
        "summary": result.summary,
        "outputs": outputs,
        "table_md": (folder / "table.md").read_text(),
        "runs": {r.name: r.config.to_json() for r in runs},
        "seconds": round(time.perf_counter() - start, 1),
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": command,
        "provenance": provenance(plan.device),
        "bm_version": __version__,
        **result.extra,
    }
    write_json(folder / "result.json", record)
    return record


def _finish(preset: Preset, plan: Plan, runs: list, folder: Path) -> Result:
    """The preset's result: as it is for one seed (or a preset that reads its seeds itself), else each seed's in
    seed<k>/ and their mean +- std (over_seeds)."""
    if preset.seeds != "each" or not plan.seeds or len(plan.seeds) == 1:
        return preset.finish(plan, runs, folder)
    per_seed = {}
    for seed in plan.seeds:
        one = plan.for_seed(seed)
        (folder / f"seed{seed}").mkdir(parents=True, exist_ok=True)
        per_seed[seed] = preset.finish(one, preset.runs(one), folder / f"seed{seed}")
        save(per_seed[seed], folder / f"seed{seed}")
    return over_seeds(per_seed)


def status(
    name: str,
    scale: str,
    data_dir: Path,
    out: Path,
    recipe: str | None = None,
    datasets: tuple[str, ...] | None = None,
    seeds: tuple[int, ...] | None = None,
) -> list[dict]:
    """Per run of the preset: finished / running / failed / cut short / pending (bm.launch.run_status), with the
    SLURM state of each run's job where the last launch was `slurm` and sacct answers; then the runs its own jobs
    have started so far (a C_t search's, fig5's: <job>/runs/<run>, their events in <job>/tasks.jsonl where they ran
    as jobs), named by their path in the preset's folder (a search adds its next round's runs as it goes)."""
    from bm.launch import run_status, slurm_states

    preset, plan = make_plan(name, scale, data_dir, out, datasets=datasets, recipe=recipe, seeds=seeds)
    runs = preset.all_runs(plan)
    folder = plan.root / preset.name
    asked = read_json(folder / "jobs.json") if (folder / "jobs.json").exists() else {}
    scheduler = slurm_states(folder / "jobs", asked["job_ids"]) if "job_ids" in asked else None
    rows = run_status(
        {r.name: plan.folder(r) for r in runs},
        {r.name: r.config.epochs for r in runs},
        folder / "tasks.jsonl",
        scheduler,
    )
    for held in sorted(p for p in folder.glob("**/runs") if p.is_dir()) if folder.is_dir() else []:
        own = sorted(f for f in held.iterdir() if (f / "config.json").is_file())
        target = {f.name: int(RunFolder(f).raw_config()["epochs"]) for f in own}
        for row in run_status({f.name: f for f in own}, target, held.parent / "tasks.jsonl"):
            rows.append({**row, "run": str((held / row["run"]).relative_to(folder))})
    return rows
