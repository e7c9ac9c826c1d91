"""What an RL lottery trainer shows while a unit trains: a bar on a terminal, one-line progress in the
unit's train.log, and tensorboard scalars."""

from __future__ import annotations

import shutil
import time

from torch.utils.tensorboard import SummaryWriter

import shared_mask as sm
from shared_mask.progress import every, progress_bar

LOG_EVERY = 10  # batches between tensorboard points
LOG_LINES = 10  # progress lines per attempt in train.log


class UnitLog:
    """Progress of one (seed, level, ticket): losses and the mean score of the episodes finished since
    the last point, every ``LOG_EVERY`` batches, in the unit's ``tb/`` folder (restarted when a unit
    is redone); about ``LOG_LINES`` lines per attempt in its ``train.log`` (appended to)."""

    def __init__(self, unit: sm.Unit, batches: int, score_name: str, progress: bool, header: str = ""):
        shutil.rmtree(unit.files.tb, ignore_errors=True)
        self.writer = SummaryWriter(str(unit.files.tb))
        name = f"seed {unit.seed} level {unit.level} {unit.ticket}"
        self.bar = progress_bar(progress, total=batches, desc=name, unit="batch", leave=False)
        self.log = unit.files.log.open("a", encoding="utf-8", buffering=1)
        self._line(f"{name}: training {batches} batches{header}")
        self.batches = batches
        self.score_name = score_name
        self.scores: list[float] = []
        self.recent = float("nan")
        self.start = time.perf_counter()

    def batch(self, batch: int, losses: dict[str, float], finished: list[float], steps: int) -> None:
        """Record batch number ``batch`` (1-based) after ``steps`` environment steps."""
        self.scores += finished
        if batch % every(self.batches, LOG_LINES) == 0 and batch != self.batches:
            self._line(f"batch {batch}/{self.batches}  {self._state(losses, steps)}")
        if batch % LOG_EVERY and batch != self.batches:
            return
        for name, value in losses.items():
            self.writer.add_scalar(f"loss/{name}", value, steps)
        if self.scores:
            self.recent = sum(self.scores) / len(self.scores)
            self.writer.add_scalar(f"episode/{self.score_name}", self.recent, steps)
            self.bar.set_postfix({self.score_name: f"{self.recent:.1f}"}, refresh=False)
            self.scores = []
        self.writer.add_scalar("perf/steps_per_second", steps / (time.perf_counter() - self.start), steps)
        self.bar.update(batch - self.bar.n)

    def close(self, ticket_reward: float | None, steps: int) -> None:
        """Close the bar, the log and the writer, with the ticket reward as the last scalar when training
        finished."""
        self.bar.close()
        seconds = time.perf_counter() - self.start
        if ticket_reward is not None:
            self.writer.add_scalar("ticket_reward", ticket_reward, steps)
            self._line(f"done: ticket_reward {ticket_reward:.4g}, {steps:,} steps in {seconds:.1f} s")
        else:
            self._line(f"stopped after {steps:,} steps in {seconds:.1f} s")
        self.log.close()
        self.writer.close()

    def _state(self, losses: dict[str, float], steps: int) -> str:
        seconds = time.perf_counter() - self.start
        shown = "  ".join(f"{name} {value:.4g}" for name, value in losses.items())
        return (
            f"steps {steps:,}  {self.score_name} {self.recent:.4g} (recent episodes)  {shown}  "
            f"{steps / max(seconds, 1e-9):,.0f} steps/s"
        )

    def _line(self, text: str) -> None:
        self.log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
