"""One writer per folder: an exclusive OS lock on FOLDER/.bm.lock, released by the kernel when the process ends."""

from __future__ import annotations

import fcntl
import os
import stat
from pathlib import Path

from bm.errors import RunFolderError
from bm.runs.files import TEMP, _why

__all__ = ["lock_folder"]

LOCK = ".bm.lock"


_held: dict[Path, int] = {}  # folders this process holds, their lock files' descriptors (kept open until exit)


def lock_folder(folder: Path) -> None:
    """Make this process the folder's only writer: an exclusive OS lock on FOLDER/.bm.lock, released by the
    kernel when the process ends (kill -9 included), so a lock is never stale. A second writer is refused at
    once with the holder's pid; taking a folder this process already holds is a no-op. A folder that is a symbolic
    link, or a lock that is not a regular file (a link, a folder), is refused: no write follows a link out of the
    folder. Temporary files a killed writer left (.NAME.*.tmp of atomic_write) are swept once the lock is held."""
    given = Path(folder)
    if given.is_symlink():
        raise RunFolderError(f"{given} is a symbolic link; give the folder it points to")
    folder = given.resolve()
    if folder in _held:
        return
    try:
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise RunFolderError(f"cannot lock {folder / LOCK}: {_why(e)}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RunFolderError(f"{folder / LOCK} is not a regular file; remove it")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise RunFolderError(
            f"{folder} is in use by another bm process (pid {holder}); wait for it to finish or choose another folder"
        ) from None
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    except OSError as e:
        os.close(fd)
        raise RunFolderError(f"cannot write {folder / LOCK}: {_why(e)}") from None
    _held[folder] = fd
    for stale in folder.glob(".*.tmp"):  # ours alone hold the lock: a temp file here is a killed writer's
        if stale.is_file() and not stale.is_symlink() and TEMP.fullmatch(stale.name):
            stale.unlink(missing_ok=True)
