"""How long an RL ticket trains and how it is scored (the paper's N, M and L)."""

from __future__ import annotations

from dataclasses import dataclass, field

import shared_mask as sm


@dataclass(frozen=True)
class Budget:
    """``epochs`` (N) of ``batches_per_epoch`` (M) training batches; the ticket reward is the mean
    episodic score of the last ``last_episodes`` (L) episodes."""

    epochs: int = field(metadata={"help": "N: epochs each ticket trains"})
    batches_per_epoch: int = field(metadata={"help": "M: training batches per epoch"})
    last_episodes: int = field(metadata={"help": "L: episodes averaged into the ticket reward"})

    def __post_init__(self):
        if min(self.epochs, self.batches_per_epoch, self.last_episodes) < 1:
            raise ValueError(
                f"a budget needs positive epochs, batches per epoch and last episodes; got "
                f"{self.epochs}, {self.batches_per_epoch}, {self.last_episodes}"
            )

    @property
    def batches(self) -> int:
        return self.epochs * self.batches_per_epoch

    def batches_at(self, step: sm.Step) -> int:
        """The batches trained at ``step`` (whether or not training gets there)."""
        return step.amount * (self.batches_per_epoch if step.unit == "ep" else 1)

    def rewind_batch(self, step: sm.Step) -> int:
        """The batch count after which W_j is captured; ValueError if training never gets there."""
        batches = self.batches_at(step)
        if batches > self.batches:
            raise ValueError(f"rewind point {step} is after the end of training ({self.batches} batches)")
        return batches
