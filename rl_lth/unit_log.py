"""What an RL lottery trainer shows while a unit trains: a tqdm bar and tensorboard scalars."""

from __future__ import annotations

import shutil
import time

from torch.utils.tensorboard import SummaryWriter
from tqdm.auto import tqdm

import shared_mask as sm

LOG_EVERY = 10  # batches between tensorboard points


class UnitLog:
    """Progress of one (seed, level, ticket): losses and the mean score of the episodes finished since
    the last point, every ``LOG_EVERY`` batches, in the unit's ``tb/`` folder (restarted when a unit
    is redone)."""

    def __init__(self, unit: sm.Unit, batches: int, score_name: str, progress: bool):
        shutil.rmtree(unit.files.tb, ignore_errors=True)
        self.writer = SummaryWriter(str(unit.files.tb))
        self.bar = tqdm(
            total=batches,
            desc=f"seed {unit.seed} level {unit.level} {unit.ticket}",
            unit="batch",
            leave=False,
            disable=not progress,
        )
        self.batches = batches
        self.score_name = score_name
        self.scores: list[float] = []
        self.start = time.perf_counter()

    def batch(self, batch: int, losses: dict[str, float], finished: list[float], steps: int) -> None:
        """Record batch number ``batch`` (1-based) after ``steps`` environment steps."""
        self.scores += finished
        if batch % LOG_EVERY and batch != self.batches:
            return
        for name, value in losses.items():
            self.writer.add_scalar(f"loss/{name}", value, steps)
        if self.scores:
            mean = sum(self.scores) / len(self.scores)
            self.writer.add_scalar(f"episode/{self.score_name}", mean, steps)
            self.bar.set_postfix({self.score_name: f"{mean:.1f}"}, refresh=False)
            self.scores = []
        self.writer.add_scalar("perf/steps_per_second", steps / (time.perf_counter() - self.start), steps)
        self.bar.update(batch - self.bar.n)

    def close(self, ticket_reward: float | None, steps: int) -> None:
        """Close the bar and the writer, with the ticket reward as the last scalar when training finished."""
        self.bar.close()
        if ticket_reward is not None:
            self.writer.add_scalar("ticket_reward", ticket_reward, steps)
        self.writer.close()
