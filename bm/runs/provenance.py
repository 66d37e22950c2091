"""Where a result came from: bm's version, the git commit and state, the software and the machine."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from bm import __version__

__all__ = ["provenance"]


def _git(*args: str) -> str | None:
    """stdout of a git command in the checkout bm runs from (None outside one)."""
    try:
        out = subprocess.run(["git", *args], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _git_sha() -> str | None:
    """The commit of the checkout bm runs from, if it runs from one."""
    sha = _git("rev-parse", "HEAD")
    return sha.strip() or None if sha else None


def provenance(device: str | None = None) -> dict[str, Any]:
    """Where a result comes from: bm version, git commit, whether the tree differed from it (and the sha256 of
    `git diff HEAD`), Python / torch / CUDA versions, the device's name, torch's CPU threads (CPU results are
    bit-identical only at the same thread count: convolution reductions split by thread), the host and the start
    time (UTC)."""
    import hashlib
    import platform
    import socket
    import time

    import torch

    diff = _git("diff", "HEAD")
    name = platform.processor() or platform.machine()
    if device is not None and str(device).startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
    return {
        "bm_version": __version__,
        "git_sha": _git_sha(),
        "git_dirty": bool(diff) if diff is not None else None,
        "git_diff_sha256": hashlib.sha256(diff.encode()).hexdigest() if diff else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "device": str(device) if device is not None else None,
        "device_name": name,
        "cpu_threads": torch.get_num_threads(),
        "hostname": socket.gethostname(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
