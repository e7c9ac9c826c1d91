"""run.json: what ran in a run folder, one entry per invocation of a lottery command (appended): the
versions of the package and its main libraries, the source's git commit, the command line, the host,
threads and workers, start and end times and how it ended. `lth-status` reads it to tell a live run
from a stopped one."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import torch

from .files import write_json
from .run_folder import RunFolder

PACKAGES = ("lth-nlp-rl", "torch", "fairseq", "fairseq-fixed", "envpool", "ray", "numpy")
SOURCE = Path(__file__).resolve().parents[1]  # the repository (or site-packages) holding shared_mask


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def versions() -> dict[str, str]:
    """The installed versions of :data:`PACKAGES` (those not installed are left out)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def git_commit() -> dict | None:
    """The source tree's commit and whether it has uncommitted changes; None outside a git checkout."""
    if not (SOURCE / ".git").exists():
        return None
    try:
        commit = _git("rev-parse", "HEAD")
        changed = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "uncommitted_changes": bool(changed)}


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(SOURCE), *args], capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()


def read_invocations(run: RunFolder) -> list[dict]:
    """The invocations recorded in ``run``'s run.json (none when it is missing or unreadable)."""
    try:
        return list(json.loads(run.provenance.read_text(encoding="utf-8"))["invocations"])
    except (OSError, ValueError, KeyError, TypeError):
        return []


def start_invocation(run: RunFolder, workers=None) -> int:
    """Append this process's entry to run.json; return its index (for :func:`end_invocation`)."""
    entry = {
        "start": now(),
        "end": None,
        "outcome": "running",
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "cwd": os.getcwd(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "workers": dataclasses.asdict(workers) if dataclasses.is_dataclass(workers) else None,
        "versions": versions(),
        "git": git_commit(),
    }
    invocations = [*read_invocations(run), entry]
    write_json(run.provenance, {"invocations": invocations})
    return len(invocations) - 1


def end_invocation(run: RunFolder, index: int, outcome: str) -> None:
    """Record the end time and ``outcome`` (finished, failed: ..., stopped: ...) of invocation ``index``."""
    invocations = read_invocations(run)
    if index < len(invocations):
        invocations[index].update(end=now(), outcome=outcome)
        write_json(run.provenance, {"invocations": invocations})
