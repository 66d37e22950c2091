"""No write escapes its folder through a link, a full disk is one line, a killed writer's temp files are swept.

Each writer is tried with a link planted where it writes: the link's target (outside the folder) must keep its
bytes, nothing new may appear outside, and a refusal is one `bm: error:` line with exit 2."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from bm.errors import RunFolderError
from bm.runs import append_line, atomic_write, atomic_write_text, lock_folder
from tests.conftest import TINY_ARGS, run

DEEP = ["deep-train", "--preset", "smoke", "--width", "4", "--projector-width", "16", "--batch-size", "8"]


def _copy(workspace: Path, tmp_path: Path, what: str) -> Path:
    shutil.copytree(workspace / what, tmp_path / what, ignore=shutil.ignore_patterns(".bm.lock"))
    return tmp_path / what


def _outside(tmp_path: Path) -> tuple[Path, Path]:
    """(an existing file outside the folder, a path outside that must not come to exist)."""
    (tmp_path / "outside").mkdir()
    precious = tmp_path / "outside" / "precious"
    precious.write_text("precious\n")
    return precious, tmp_path / "outside" / "new"


def _argv(name: str, folder: Path, data: Path) -> list[str]:
    return {
        "probe": ["probe", str(folder), "--layers", "embedding", "--k", "3"],
        "rewind": ["rewind", str(folder), "--to-epoch", "1", "--layers", "1"],
        "geometry": ["geometry", str(folder), "--samples-per-class", "2", "--layers", "embedding"],
        "resume": [
            *DEEP,
            "--data-dir",
            str(data),
            "--out",
            str(folder),
            "--epochs",
            "3",
            "--snapshots",
            "1",
            "--resume",
        ],
        "toy-grid": ["toy-grid", "--out", str(folder), *TINY_ARGS],
        "deep-train": [*DEEP, "--data-dir", str(data), "--out", str(folder), "--epochs", "3", "--overwrite"],
        "convert-run": ["convert-run", str(folder), "--trust"],
        "capacity deep": ["capacity", "deep", "--data-dir", str(data), "--out", str(folder), "--n", "8"],
        "reproduce": ["reproduce", "benign", "--scale", "mini", "--data-dir", str(data), "--out", str(folder)],
    }[name]


def _lock_path(command: str, folder: Path) -> Path:
    """Where the command takes its lock: the folder, or for a preset its folder under OUT/<scale>/."""
    if command == "reproduce":
        (folder / "mini" / "benign").mkdir(parents=True)
        return folder / "mini" / "benign" / ".bm.lock"
    return folder / ".bm.lock"


WRITERS = [
    "probe",
    "rewind",
    "geometry",
    "resume",
    "deep-train",
    "toy-grid",
    "convert-run",
    "capacity deep",
    "reproduce",
]


@pytest.mark.parametrize("command", WRITERS)
@pytest.mark.parametrize("target", ["existing", "dangling"])
def test_a_linked_lock_is_refused_and_its_target_untouched(capsys, tmp_path, workspace, command, target):
    """Every command that writes takes the lock first; a lock that is a link is refused before anything is written."""
    if command in ("capacity deep", "reproduce"):
        folder = tmp_path / "out"
        folder.mkdir()
    else:
        folder = _copy(workspace, tmp_path, "grid" if command == "toy-grid" else "run")
    precious, new = _outside(tmp_path)
    _lock_path(command, folder).symlink_to(precious if target == "existing" else new)
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if not p.is_symlink()}
    code, _, err = run(capsys, _argv(command, folder, workspace / "data"))
    assert code == 2 and err.startswith("bm: error:") and err.count("\n") == 1, err
    assert "symbolic link" in err
    assert precious.read_text() == "precious\n" and not new.exists()
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*") if not p.is_symlink()} == before  # nothing written


def test_a_lock_that_is_a_folder_is_one_line(capsys, tmp_path, workspace):
    folder = _copy(workspace, tmp_path, "run")
    (folder / ".bm.lock").mkdir()
    code, _, err = run(capsys, _argv("probe", folder, workspace / "data"))
    assert code == 2 and err.count("\n") == 1 and ".bm.lock" in err, err


@pytest.mark.parametrize("name", [".probe.png.tmp", ".probe.pdf.tmp", "probe.png", "probe.json"])
def test_figures_and_records_are_never_written_through_a_link(capsys, tmp_path, workspace, name):
    folder = _copy(workspace, tmp_path, "run")
    precious, new = _outside(tmp_path)
    (folder / name).symlink_to(precious)
    (folder / f"{name}.dangling").symlink_to(new)
    code, _, err = run(capsys, _argv("probe", folder, workspace / "data"))
    assert code == 0, err
    assert precious.read_text() == "precious\n" and not new.exists()
    for written in ("probe.png", "probe.pdf", "probe.json"):
        assert (folder / written).is_file() and not (folder / written).is_symlink()


def test_metrics_behind_a_link_is_replaced_not_followed(capsys, tmp_path, workspace):
    """A resume rewrites metrics.jsonl (dropping rows past the checkpoint) by renaming a new file over the link, then
    appends to that file: the link's target keeps its bytes."""
    folder = _copy(workspace, tmp_path, "run")
    precious, _ = _outside(tmp_path)
    shutil.copyfile(folder / "metrics.jsonl", precious)
    before = precious.read_bytes()
    (folder / "metrics.jsonl").unlink()
    (folder / "metrics.jsonl").symlink_to(precious)
    code, _, err = run(capsys, _argv("resume", folder, workspace / "data"))
    assert code == 0, err
    assert precious.read_bytes() == before
    assert not (folder / "metrics.jsonl").is_symlink() and len((folder / "metrics.jsonl").read_text().splitlines()) == 4


def test_a_run_folder_that_is_a_link_is_refused(capsys, tmp_path, workspace):
    real = _copy(workspace, tmp_path, "run")
    linked = tmp_path / "linked"
    linked.symlink_to(real)
    before = {p.name: p.read_bytes() for p in real.iterdir() if p.is_file()}
    code, _, err = run(capsys, _argv("probe", linked, workspace / "data"))
    assert code == 2 and "symbolic link" in err and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in real.iterdir() if p.is_file()} == before


def test_append_line_refuses_links_and_non_files(tmp_path):
    precious, new = _outside(tmp_path)
    (tmp_path / "log").symlink_to(precious)
    (tmp_path / "dangling").symlink_to(new)
    (tmp_path / "fifo").mkdir()
    for name in ("log", "dangling", "fifo"):
        with pytest.raises(RunFolderError):
            append_line(tmp_path / name, "x\n")
    assert precious.read_text() == "precious\n" and not new.exists()
    append_line(tmp_path / "plain", "a\n")
    append_line(tmp_path / "plain", "b\n", sync=True)
    assert (tmp_path / "plain").read_text() == "a\nb\n"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_is_one_error_naming_the_file(tmp_path, monkeypatch, code):
    (tmp_path / "kept.json").write_text("old\n")

    def full(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(RunFolderError, match="kept.json.*no space left"):
        atomic_write_text(tmp_path / "kept.json", "new\n")
    assert (tmp_path / "kept.json").read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.json"]  # the temp file is gone
    with pytest.raises(RunFolderError, match="log.*no space left"):
        append_line(tmp_path / "log", "x\n", sync=True)


def test_a_killed_writers_temp_files_are_swept_on_the_next_lock(tmp_path):
    stale = tmp_path / ".checkpoint.pt.ab12cd34.tmp"
    stale.write_bytes(b"half a checkpoint")
    mine = tmp_path / ".notes.tmp"  # not a name atomic_write makes: left alone
    mine.write_text("keep")
    lock_folder(tmp_path)
    assert not stale.exists() and mine.exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs (a real full disk: torch.save reports it as its own RuntimeError); skipped where mounting is
    not allowed. Yields (mount point, a function that grows it to 16 MiB)."""
    import subprocess

    point = tmp_path / "small"
    point.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(point)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow mounting a small tmpfs")

    def grow():
        subprocess.run(["mount", "-o", "remount,size=16m", str(point)], check=True)

    try:
        yield point, grow
    finally:
        subprocess.run(["umount", "--lazy", str(point)], capture_output=True)  # the run's lock is held open until exit


def test_a_real_full_disk_mid_run_is_one_line_and_the_same_command_resumes(capsys, tmp_path, workspace, small_disk):
    """On a 512 KiB filesystem the run's first files fit and its checkpoint does not: one line naming the checkpoint,
    exit 2, no temporary file left; with room made, the same command finishes and logs what a run on a roomy disk
    logs (every number but the timings)."""
    import json

    point, grow = small_disk
    argv = [*DEEP, "--data-dir", str(workspace / "data"), "--epochs", "2"]
    code, _, err = run(capsys, [*argv, "--out", str(point / "run")])
    assert code == 2 and err.startswith("bm: error:") and err.count("\n") == 1, err
    assert "checkpoint.pt" in err and "no space left" in err
    assert not [p for p in (point / "run").iterdir() if p.name.endswith(".tmp")]
    grow()
    assert run(capsys, [*argv, "--out", str(point / "run")])[0] == 0
    assert run(capsys, [*argv, "--out", str(tmp_path / "roomy")])[0] == 0

    def logged(folder):
        rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
        return [{k: v for k, v in r.items() if k not in ("wall_s", "img_per_s")} for r in rows]

    assert logged(point / "run") == logged(tmp_path / "roomy") and len(logged(tmp_path / "roomy")) == 3


def test_a_full_disk_reported_as_another_error_is_still_one_line(tmp_path):
    """What torch.save does on a full disk (a RuntimeError raised while handling the OSError), injected."""

    def write(f):
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            raise RuntimeError("unexpected pos 42432 vs 42328")  # what torch.save does

    with pytest.raises(RunFolderError, match="w.pt.*no space left"):
        atomic_write(tmp_path / "w.pt", write)
    assert list(tmp_path.iterdir()) == []

    def other(f):
        raise RuntimeError("not a disk error")

    with pytest.raises(RuntimeError, match="not a disk error"):
        atomic_write(tmp_path / "w.pt", other)
