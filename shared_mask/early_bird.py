"""Early-bird tickets (You et al., ICLR 2020): the dense run's masks drawn as it trains, their distances,
the early-bird rule, and the ``early_bird`` ticket kind that trains under the mask the rule picks.

While the dense unit trains, :class:`Draws` draws the pruning strategy's one-shot mask at every level's
density every ``early_bird_every`` (bit-packed files, ``RunFolder.early_bird_draws``). Once the dense
unit is done, :func:`settle` computes the normalised Hamming distance between consecutive draws and
the early-bird draw: the first draw that completes ``early_bird_window`` consecutive distances below
``early_bird_threshold``. A density whose draws never settle is recorded as such (no mask), and its
``early_bird`` unit is marked done without training, so the report can say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .files import write_json
from .mask import Mask
from .pruning import PRUNING
from .run_folder import RunFolder
from .steps import Step, parse_step
from .tickets import TICKETS, Start, TicketKind

EARLY_BIRD = "early_bird"


class EarlyBird(TicketKind):
    """The early-bird mask of the level's density, trained from the rewind weights like the winning ticket."""

    name, label, color, linestyle = EARLY_BIRD, "early-bird ticket", "tab:cyan", "-"
    start, mask_of = Start.REWIND, "early_bird_mask"


TICKETS.register(EarlyBird())


@dataclass(kw_only=True)
class EarlyBirdSettings:
    """When the dense run's masks are drawn and when their distance counts as settled."""

    early_bird_every: str = field(
        default="1ep",
        metadata={
            "help": "with the early_bird ticket: draw the dense run's one-shot mask of every level's density this "
            "often (<N>ep, or <N>it / <N>batches / <N>updates)"
        },
    )
    early_bird_threshold: float = field(
        default=0.1,
        metadata={"help": "normalised Hamming distance between consecutive draws that counts as settled, in (0, 1)"},
    )
    early_bird_window: int = field(
        default=5, metadata={"help": "consecutive settled distances after which the early-bird mask is drawn"}
    )

    def check_early_bird(self) -> None:
        step = parse_step(self.early_bird_every)
        if step.is_zero:
            raise ValueError("--early-bird-every must be a positive interval, e.g. 1ep or 50it")
        self.early_bird_every = str(step)
        if not 0 < self.early_bird_threshold < 1:
            raise ValueError(f"the early-bird threshold must be in (0, 1), got {self.early_bird_threshold}")
        if isinstance(self.early_bird_window, bool) or not isinstance(self.early_bird_window, int):
            raise ValueError(f"the early-bird window is a number of draws, got {self.early_bird_window!r}")
        if self.early_bird_window < 1:
            raise ValueError(f"the early-bird window must be at least 1 draw, got {self.early_bird_window}")


@dataclass(frozen=True)
class Draws:
    """What the dense unit of one seed draws as it trains (picklable: names and paths, no tensors)."""

    every: Step
    pruning: str
    dense_mask: Path  # level 0's mask: what is prunable
    densities: dict[int, float]  # level -> density
    folders: dict[int, Path]  # level -> RunFolder.early_bird_draws

    def spec(self) -> dict:
        """JSON-able, for a process that draws in another program (the fairseq plugin)."""
        return {
            "every": str(self.every),
            "pruning": self.pruning,
            "dense_mask": str(self.dense_mask),
            "levels": {str(level): [density, str(self.folders[level])] for level, density in self.densities.items()},
        }

    @classmethod
    def from_spec(cls, spec: dict) -> Draws:
        levels = {int(level): value for level, value in spec["levels"].items()}
        return cls(
            parse_step(spec["every"]),
            spec["pruning"],
            Path(spec["dense_mask"]),
            {level: float(density) for level, (density, _) in levels.items()},
            {level: Path(folder) for level, (_, folder) in levels.items()},
        )

    def draw(self, model, step: int, epoch: float | None) -> None:
        """Draw every level's mask from ``model`` after ``step`` training steps (``epoch`` epochs, None
        where the trainer does not know the fraction of an epoch)."""
        dense, strategy = Mask.load(self.dense_mask, model), PRUNING[self.pruning]
        for level, density in self.densities.items():
            folder = self.folders[level]
            strategy.prune_to_density(model, dense, density).save(folder / f"{step:09d}.safetensors")
            index = _read_index(folder)
            index[str(step)] = epoch
            write_json(folder / "index.json", index)


def _read_index(folder: Path) -> dict:
    path = folder / "index.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def stored_draws(folder: Path) -> list[tuple[int, float | None, Path]]:
    """(step, epoch, mask file) of every stored draw, in training order."""
    index = _read_index(folder)
    return sorted(
        (int(step), None if epoch is None else float(epoch), folder / f"{int(step):09d}.safetensors")
        for step, epoch in index.items()
    )


def early_bird_draw(distances: list[float], threshold: float, window: int) -> int | None:
    """The index of the early-bird draw: ``distances[i - 1]`` is the distance of draw i to draw i - 1, and
    the answer is the first i whose last ``window`` distances are all below ``threshold`` (None if none is)."""
    run = 0
    for i, distance in enumerate(distances, start=1):
        run = run + 1 if distance < threshold else 0
        if run >= window:
            return i
    return None


def settle(run: RunFolder, seed: int, level: int, settings: EarlyBirdSettings) -> dict:
    """The record of ``level``'s draws (steps, epochs, distances, the early-bird draw or none), and its mask
    saved when there is one; written to ``run.early_bird_record``. Reads one draw at a time beside the last."""
    draws = stored_draws(run.early_bird_draws(seed, level))
    distances, previous = [], None
    for _, _, path in draws:
        mask = Mask.load(path)
        if previous is not None:
            distances.append(mask.hamming(previous))
        previous = mask
    chosen = early_bird_draw(distances, settings.early_bird_threshold, settings.early_bird_window)
    record = {
        "seed": seed,
        "level": level,
        "steps": [step for step, _, _ in draws],
        "epochs": [epoch for _, epoch, _ in draws],
        "distances": distances,
        "threshold": settings.early_bird_threshold,
        "window": settings.early_bird_window,
        "converged": chosen is not None,
        "step": draws[chosen][0] if chosen is not None else None,
        "epoch": draws[chosen][1] if chosen is not None else None,
    }
    if chosen is not None:
        Mask.load(draws[chosen][2]).save(run.early_bird_mask(seed, level))
    write_json(run.early_bird_record(seed, level), record)
    return record


def read_record(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: unreadable early-bird record ({error})") from error


_UNCONVERGED = "early_bird"  # the key that marks such a metrics.json


def write_unconverged(metrics: Path, key: tuple[int, int, str], density: float) -> None:
    """The metrics.json of an early-bird unit whose density never converged: done, with no metric."""
    seed, level, ticket = key
    record = {"seed": seed, "level": level, "ticket": ticket, "density": density, "fraction_pruned": 1 - density}
    write_json(metrics, {**record, "metrics": {}, _UNCONVERGED: "never converged (see early_bird.json)"})


def is_unconverged(metrics: dict) -> bool:
    """Whether a unit's metrics.json (read) is the one :func:`write_unconverged` writes."""
    return _UNCONVERGED in metrics
