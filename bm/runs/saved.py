"""torch files bm writes and reads: atomic saves, and a checked reader that never unpickles (weights_only)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bm.errors import RunFolderError
from bm.runs.files import atomic_write

__all__ = ["atomic_save", "convert_saved", "read_saved"]


def atomic_save(path: Path, obj: Any) -> None:
    """torch.save, atomically (checkpoints, weights, labels)."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))


def read_saved(path: Path, keys: tuple[str, ...] = (), device: str = "cpu", mmap: bool = True) -> dict:
    """A dict saved with torch.save in a run folder (checkpoint.pt, init.pt, snapshot_E.pt, labels.pt, a feature
    dump), holding `keys`, read with `torch.load(weights_only=True)` only: tensors, dicts, lists, tuples, numbers and
    strings, nothing that can run code. A file that needs more (a pickle of other objects, a payload) is refused
    unexecuted; a missing, truncated, corrupt or foreign file is one RunFolderError naming it. Tensors are mapped
    (copy on write), not read, until used: a look at a checkpoint's epoch reads no weights, and a restore reads each
    tensor once, into the module it is loaded into (`mmap=False`: read them now)."""
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise RunFolderError(f"{path} is missing")
    try:
        obj = torch.load(path, map_location=device, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as e:
        foreign = re.search(r"Unsupported global: GLOBAL (\S+)", str(e))
        if foreign is None:
            raise RunFolderError(
                f"{path} is truncated or corrupt (UnpicklingError); restore it or rerun the run"
            ) from None
        raise RunFolderError(
            f"{path} holds objects other than tensors, dicts, lists, numbers and strings ({foreign[1]}"
            f"), which bm does not load (they can run code); if you trust its source, convert it with "
            f"`bm convert-run {path.parent} --trust`"
        ) from None
    except Exception as e:  # noqa: BLE001 - torch.load raises many types on damaged bytes; each is the same error here
        raise RunFolderError(
            f"{path} is truncated or corrupt ({type(e).__name__}); restore it or rerun the run"
        ) from None
    missing = [k for k in keys if not isinstance(obj, dict) or k not in obj]
    if missing:
        raise RunFolderError(f"{path} is not a bm file of this kind (no {', '.join(missing)})")
    return obj


def convert_saved(path: Path) -> bool:
    """Rewrite one torch.save file so that it loads with weights_only=True, UNPICKLING IT FULLY first (only for a
    file the user trusts): numpy arrays become tensors, numpy scalars Python numbers, tuples stay tuples. Returns
    whether the file changed; an object with no data-only form is refused by type."""
    import numpy as np
    import torch

    def plain(x):
        if isinstance(x, torch.Tensor) or x is None or isinstance(x, (bool, int, float, str, bytes)):
            return x
        if isinstance(x, np.ndarray):
            return torch.from_numpy(np.ascontiguousarray(x))
        if isinstance(x, np.generic):
            return x.item()
        if isinstance(x, dict):
            return {plain(k): plain(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return type(x)(plain(v) for v in x)
        if isinstance(x, torch.Size):
            return tuple(x)
        raise RunFolderError(f"{path} holds a {type(x).__module__}.{type(x).__qualname__}, which has no data-only form")

    try:
        read_saved(path)
        return False
    except RunFolderError:
        pass
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)  # the user vouched for this file (--trust)
    except Exception as e:  # noqa: BLE001
        raise RunFolderError(f"{path} cannot be read even trusted ({type(e).__name__})") from None
    atomic_save(path, plain(obj))
    read_saved(path)  # now loads safely
    return True
