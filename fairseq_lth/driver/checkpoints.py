"""Checkpoint files of a fairseq run: the latest ones, their average (the scored weights), and a copy without
optimizer state."""

from __future__ import annotations

import logging
import os
import pickle
import re
import shutil
from pathlib import Path

from shared_mask.files import atomic_write

from ..plugin.checkpoint_compat import load_checkpoint, save_checked

logger = logging.getLogger(__name__)
_INTERVAL = re.compile(r"^checkpoint_\d+_(\d+)\.pt$")
_EPOCH = re.compile(r"^checkpoint(\d+)\.pt$")


def last_checkpoints(save_dir: str | os.PathLike, k: int) -> list[Path]:
    """The ``k`` latest of the update (checkpoint_E_U.pt) and epoch (checkpointE.pt) checkpoints, by update
    count, else checkpoint_last.pt.

    fairseq writes no update checkpoint at the end of an epoch, so with --no-epoch-checkpoints the
    latest update checkpoints can skip saves and reach far back: keep epoch checkpoints (bounded by
    --keep-last-epochs) when averaging.
    """
    save_dir = Path(save_dir)
    if k < 1:
        raise ValueError(f"the number of checkpoints to average must be at least 1, got {k}")
    found = []
    for path in save_dir.glob("checkpoint*.pt"):
        if m := _INTERVAL.match(path.name):
            found.append((int(m.group(1)), path))
        elif _EPOCH.match(path.name):
            found.append((checkpoint_updates(path), path))
    if found:
        return [p for _, p in sorted(found, reverse=True)[:k]]
    last = save_dir / "checkpoint_last.pt"
    if not last.is_file():
        raise FileNotFoundError(f"no checkpoint in {save_dir}")
    return [last]


def usable_last_checkpoint(save_dir: str | os.PathLike) -> Path | None:
    """``save_dir``'s checkpoint_last.pt once it can be loaded, else None (training starts over).

    fairseq writes a checkpoint atomically but copies it to checkpoint_last.pt in place, so a run
    killed during the copy leaves a truncated file. It is replaced by the latest checkpoint that
    loads: fairseq-train resumed from an earlier point replays the same updates (the plugin makes its
    resume exact, see :mod:`fairseq_lth.plugin.tasks.lottery_task`).
    """
    save_dir = Path(save_dir)
    last = save_dir / "checkpoint_last.pt"
    problem = _problem(last) if last.exists() else None
    if problem is None:
        return last if last.exists() else None
    intact = [
        (checkpoint_updates(p), p)
        for p in save_dir.glob("checkpoint*.pt")
        if p != last and (_INTERVAL.match(p.name) or _EPOCH.match(p.name)) and _problem(p) is None
    ]
    if not intact:
        logger.warning("%s does not load (%s): deleted, the unit trains from its start", last, problem)
        last.unlink()
        return None
    source = max(intact)[1]
    logger.warning("%s does not load (%s): replaced by %s, the unit resumes from there", last, problem, source.name)
    atomic_write(last, lambda tmp: shutil.copyfile(source, tmp))
    return last


def _problem(path: Path) -> str | None:
    """Why ``path`` does not load (truncated, empty, or refused by the safe loader), or None. A file cut
    short inside its zip container fails to map (OSError: Invalid argument)."""
    try:
        load_checkpoint(path, mmap=True)
        return None
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as error:
        return (str(error).strip().splitlines() or [type(error).__name__])[0]


def checkpoint_updates(path: Path) -> int:
    """The number of updates a fairseq checkpoint was saved after."""
    return load_checkpoint(path, mmap=True)["optimizer_history"][-1]["num_updates"]


def model_checkpoint(path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Write ``path`` without its optimizer state: the weights, loadable by fairseq-generate."""
    state = load_checkpoint(path)
    state["last_optimizer_state"] = None
    save_checked(state, out)
    return Path(out)


def average_checkpoints(paths: list[Path], out: str | os.PathLike) -> Path:
    """Average the weights of ``paths`` (in float64) into a checkpoint at ``out`` without optimizer state.

    Entries that are zero in every input stay exactly zero, so an averaged ticket is as sparse as its
    checkpoints.
    """
    total, state = None, None
    for path in paths:
        state = load_checkpoint(path)
        model = state["model"]
        if total is None:
            total = {k: v.double() if v.is_floating_point() else v for k, v in model.items()}
        else:
            if model.keys() != total.keys():
                raise ValueError(f"{path} holds other parameters than {paths[0]}")
            for k, v in model.items():
                if v.is_floating_point():
                    total[k] += v.double()
    state["model"] = {
        k: (v / len(paths)).to(state["model"][k].dtype) if v.is_floating_point() else v for k, v in total.items()
    }
    state["last_optimizer_state"] = None
    save_checked(state, out)
    return Path(out)


def scored_checkpoint(save_dir: str | os.PathLike, k: int, final: Path, out: Path) -> Path:
    """The weights a unit's metric is computed from, written to ``out``: the average of the last ``k``
    checkpoints of ``save_dir``, or a hard link to ``final`` when that is one checkpoint at ``final``'s update
    (the same weights, without a second copy on disk).

    Kept in the unit folder (``lth-export --weights scored``) rather than averaged again at export time: the
    checkpoints are deleted once the unit is scored (unless --keep-checkpoints), and the file written
    atomically with its checksum is exactly what the scorer read.
    """
    paths = last_checkpoints(save_dir, k)
    if len(paths) > 1 or checkpoint_updates(paths[0]) != checkpoint_updates(final):
        return average_checkpoints(paths, out)
    try:
        atomic_write(out, lambda tmp: os.link(final, tmp))
    except OSError:  # a file system without hard links
        atomic_write(out, lambda tmp: shutil.copyfile(final, tmp))
    return out
