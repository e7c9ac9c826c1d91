"""Every path of a run folder: the one place that knows the layout of docs/design.md ("The run folder").

    RUN/config.json, results.csv, transfer.json, run.json, summary.md
    RUN/seed_<s>/init<suffix>, rewind<suffix>, transfer_rewind<suffix>
    RUN/seed_<s>/level_<kk>/mask.safetensors, transfer_mask.safetensors
    RUN/seed_<s>/level_<kk>/<ticket>/                  a unit's folder (:class:`UnitFolder`)
    RUN/stability.csv, RUN/seed_<s>/stability_start_<k><suffix>, RUN/seed_<s>/level_00/stability/replay_<k>/
    RUN/seed_<s>/level_<kk>/stability/k_<k>/child_<c>/ (units), line/, line.json
    RUN/seed_<s>/level_<kk>/early_bird_draws/<step>.safetensors, early_bird.json, early_bird_mask.safetensors

Code elsewhere asks this module for a path and never joins one itself, so a new file is one edit here.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

Key = tuple[int, int, str]  # (seed, level, ticket): one unit of a lottery

_SEED = re.compile(r"^seed_(\d+)$")
_LEVEL = re.compile(r"^level_(\d+)$")


@dataclass(frozen=True)
class UnitFolder:
    """The files of one unit, RUN/seed_<s>/level_<kk>/<ticket>/ (the fairseq driver's extras included)."""

    dir: Path

    def final(self, suffix: str) -> Path:
        """The trained weights (``.safetensors``, or a fairseq checkpoint ``.pt``)."""
        return self.dir / f"final{suffix}"

    def finals(self) -> list[Path]:
        """The trained weights present, whatever their suffix (readers that know no trainer)."""
        return sorted(self.dir.glob("final.*"))

    @property
    def metrics(self) -> Path:
        """Written last, atomically: its presence means the unit is done."""
        return self.dir / "metrics.json"

    @property
    def tb(self) -> Path:
        return self.dir / "tb"

    @property
    def log(self) -> Path:
        """What the unit's training wrote (fairseq-train's output; RL progress lines), appended to on reruns."""
        return self.dir / "train.log"

    @property
    def failure(self) -> Path:
        """The error of the unit's last attempt, while it has not finished (removed when it starts again)."""
        return self.dir / "failure.json"

    def rank_log(self, rank: int) -> Path:
        """The log of rank ``rank`` > 0 of a data-parallel fairseq unit (rank 0 writes :attr:`log`)."""
        return self.dir / f"train.rank{rank}.log"

    @property
    def lock(self) -> Path:
        return self.dir / ".lock"

    @property
    def checkpoints(self) -> Path:
        """fairseq-train's save dir (kept until the unit is scored)."""
        return self.dir / "checkpoints"

    @property
    def scores(self) -> Path:
        """A fairseq unit's scores, saved before its checkpoints are deleted."""
        return self.dir / "scores.json"

    @property
    def scored(self) -> Path:
        """A fairseq unit's scored weights: the average of its last checkpoints (a hard link to final.pt when
        that is its last checkpoint alone), what ``lth-export --weights scored`` exports."""
        return self.dir / "scored.pt"

    @property
    def early_bird_spec(self) -> Path:
        """A fairseq dense unit's early-bird draws, as the plugin reads them (``--lth-early-bird``)."""
        return self.dir / "early_bird_draws.json"

    @property
    def lr_rewind_start(self) -> Path:
        """A fairseq lr_rewind unit's start: the rewind checkpoint with the pruned trained weights."""
        return self.dir / "lr_rewind_start.pt"

    @property
    def ticket_start(self) -> Path:
        """A fairseq unit's start changed by its kind: derived start weights, fine-tuning's trained weights
        at update 0, or the supermask's masked start (scored as it is)."""
        return self.dir / "ticket_start.pt"


@dataclass(frozen=True)
class RunFolder:
    """The paths of the run folder ``root``; ``suffix`` is the trainer's weights-file suffix."""

    root: Path
    suffix: str = ".safetensors"

    def __post_init__(self):
        object.__setattr__(self, "root", Path(self.root))

    @property
    def name(self) -> str:
        return self.root.resolve().name

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def results(self) -> Path:
        return self.root / "results.csv"

    @property
    def driver_lock(self) -> Path:
        """Held by the one driver running this folder (:mod:`shared_mask.driver_lock`)."""
        return self.root / ".driver.lock"

    @property
    def provenance(self) -> Path:
        """run.json: what ran in this folder (versions, commit, command line, host, times), per invocation."""
        return self.root / "run.json"

    @property
    def summary(self) -> Path:
        """summary.md: the run's table, rewritten at the end of every invocation."""
        return self.root / "summary.md"

    @property
    def transfer(self) -> Path:
        """Which source a transfer came from and which tensors it did not take."""
        return self.root / "transfer.json"

    @property
    def stability_csv(self) -> Path:
        """seed, level, fraction_pruned, k, a, metric, value of every evaluated line (stability analysis)."""
        return self.root / "stability.csv"

    @property
    def stability_settings(self) -> Path:
        """The trainer's evaluation settings that the stability lines were evaluated with."""
        return self.root / "stability.json"

    def seed_dir(self, seed: int) -> Path:
        return self.root / f"seed_{seed}"

    def init(self, seed: int) -> Path:
        """W_0 of ``seed``."""
        return self.seed_dir(seed) / f"init{self.suffix}"

    def rewind(self, seed: int) -> Path:
        """W_j, the late-rewinding point (a copy of W_0 when j = 0)."""
        return self.seed_dir(seed) / f"rewind{self.suffix}"

    def transfer_rewind(self, seed: int) -> Path:
        """The source run's W_j fitted to this seed's model."""
        return self.seed_dir(seed) / f"transfer_rewind{self.suffix}"

    def level_dir(self, seed: int, level: int) -> Path:
        return self.seed_dir(seed) / f"level_{level:02d}"

    def mask(self, seed: int, level: int) -> Path:
        return self.level_dir(seed, level) / "mask.safetensors"

    def transfer_mask(self, seed: int, level: int) -> Path:
        """The source run's mask of ``level`` fitted to this model."""
        return self.level_dir(seed, level) / "transfer_mask.safetensors"

    def stability_start(self, seed: int, point: str) -> Path:
        """W_k of ``seed`` for the stability point ``point`` (k neither 0 nor the rewind point)."""
        return self.seed_dir(seed) / f"stability_start_{point}{self.suffix}"

    def stability_line(self, seed: int, level: int, point: str) -> Path:
        """The evaluated points of the line between the two children of (seed, level, k)."""
        return self.level_dir(seed, level) / "stability" / f"k_{point}" / "line.json"

    def stability_lines(self) -> list[Path]:
        return sorted(self.root.glob("seed_*/level_*/stability/k_*/line.json"))

    def early_bird_draws(self, seed: int, level: int) -> Path:
        """The dense run's one-shot masks of ``level``'s density, drawn as it trains: <step>.safetensors."""
        return self.level_dir(seed, level) / "early_bird_draws"

    def early_bird_record(self, seed: int, level: int) -> Path:
        """The draws' steps and distances and where the early-bird ticket emerged (or that it never did)."""
        return self.level_dir(seed, level) / "early_bird.json"

    def early_bird_mask(self, seed: int, level: int) -> Path:
        return self.level_dir(seed, level) / "early_bird_mask.safetensors"

    def early_bird_records(self) -> list[Path]:
        return sorted(self.root.glob("seed_*/level_*/early_bird.json"))

    def unit(self, key: Key) -> UnitFolder:
        seed, level, ticket = key
        return UnitFolder(self.level_dir(seed, level) / ticket)

    def final(self, key: Key) -> Path:
        return self.unit(key).final(self.suffix)

    def metrics_files(self) -> list[Path]:
        """Every finished unit's metrics.json."""
        return sorted(self.root.glob("seed_*/level_*/*/metrics.json"))

    def mask_files(self) -> dict[tuple[int, int], Path]:
        """{(seed, level): path} of the level masks present."""
        found = {}
        for path in self.root.glob("seed_*/level_*/mask.safetensors"):
            seed, level = _SEED.match(path.parent.parent.name), _LEVEL.match(path.parent.name)
            if seed and level:
                found[int(seed.group(1)), int(level.group(1))] = path
        return found

    def levels_with_masks(self, seed: int) -> list[int]:
        """The levels of ``seed`` whose mask exists, in order."""
        return sorted(level for s, level in self.mask_files() if s == seed)

    def leftovers(self) -> list[Path]:
        """Half-written files of a killed run (see :func:`shared_mask.files.atomic_write`)."""
        return list(self.root.rglob(".*.tmp*"))


def locate_unit(path: str | os.PathLike) -> tuple[RunFolder, Key]:
    """The run folder and key of the unit folder ``path`` (RUN/seed_<s>/level_<kk>/<ticket>); ValueError
    naming the path when it is not one."""
    path = Path(path)
    seed, level = _SEED.match(path.parent.parent.name), _LEVEL.match(path.parent.name)
    run = RunFolder(path.parent.parent.parent)
    if not (seed and level and run.config.is_file()):
        raise ValueError(f"{path} is not a lottery unit folder (RUN/seed_<s>/level_<kk>/<ticket> with RUN/config.json)")
    return run, (int(seed.group(1)), int(level.group(1)), path.name)


def locate_seed(path: str | os.PathLike) -> tuple[RunFolder, int, int | None]:
    """The run folder, seed and level (None for the whole seed) of RUN/seed_<s>[/level_<kk>]; ValueError
    when ``path`` is neither."""
    path = Path(path)
    level = _LEVEL.match(path.name)
    seed_dir = path.parent if level else path
    seed = _SEED.match(seed_dir.name)
    run = RunFolder(seed_dir.parent)
    if not (seed and run.config.is_file()):
        raise ValueError(f"{path}: expected RUN/seed_<s>/level_<kk> or RUN/seed_<s> of a run folder")
    return run, int(seed.group(1)), int(level.group(1)) if level else None


def find_runs(path: str | os.PathLike) -> list[Path]:
    """The run folders at or under ``path``: ``path`` itself when it holds config.json, else every folder
    below it that does (not looking inside run folders), in path order; ``[path]`` when there are none (a
    reader then says what is wrong with it)."""
    path = Path(path)
    return [path] if (path / "config.json").is_file() else _runs_below(path) or [path]


def _runs_below(path: Path) -> list[Path]:
    if not path.is_dir():
        return []
    found = []
    for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found += [child] if (child / "config.json").is_file() else _runs_below(child)
    return found
