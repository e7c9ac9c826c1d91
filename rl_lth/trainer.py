"""The RL lottery trainer: trains one ticket of one level of one seed with a registered algorithm."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

import shared_mask as sm

from .algorithms import ALGORITHMS
from .budget import Budget
from .envs import STEPS_PER_SECOND
from .evaluate import Evaluation, evaluate_policy
from .unit_log import UnitLog


@dataclass(frozen=True)
class Runtime:
    """How the trainer uses this machine; not part of the experiment (config.json leaves it out)."""

    threads: int = field(
        default=1,
        metadata={
            "help": "torch threads (0: torch's default); one is fastest for the classic-control networks; on a small "
            "CPU more than one competes with envpool's threads: slower for small networks, faster for the "
            "paper's Atari network (1.4x with 2 threads on 2 cores)"
        },
    )
    device: str = field(default="cpu", metadata={"help": "torch device of the networks: cpu or cuda (elf)"})
    progress: bool = field(default=True, metadata={"help": "progress bars"})

    def __post_init__(self):
        if self.threads < 0:
            raise ValueError(f"threads must be 0 (torch's default) or positive, got {self.threads}")
        if self.device.split(":")[0] not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {self.device!r}: use cpu, cuda or cuda:N")


class RLTrainer(sm.Trainer):
    """Trains each unit with the registered algorithm ``algo`` (``settings``: its config; None: its
    defaults) on ``env_id`` for ``budget.batches`` batches; its ticket reward is the mean score of the
    last ``budget.last_episodes`` training episodes.

    Every ticket of a seed sees the same environment and action-sampling seeds, so winning and random
    tickets differ only in their network.
    """

    studies = frozenset({"stability", "early_bird"})
    line_metric = ("eval_reward", True)

    def __init__(
        self,
        env_id: str,
        algo: str,
        budget: Budget,
        settings=None,
        runtime: Runtime = Runtime(),
        evaluation_settings: Evaluation | None = None,
    ):
        self.env_id = env_id
        self.algorithm = ALGORITHMS[algo](env_id, settings, runtime.device)
        self.budget = budget
        self.runtime = runtime
        self.evaluation_settings = evaluation_settings or Evaluation()

    def config(self) -> dict:
        return {
            "experiment": self.env_id,
            "metric": "ticket_reward",
            "algo": self.algorithm.name,
            **asdict(self.budget),
            **self.algorithm.config_entries(),
        }

    def unit_work(self) -> str:
        steps = self.algorithm.steps_per_batch()
        return f"{self.budget.batches:,} batches" + (f" ({self.budget.batches * steps:,} steps)" if steps else "")

    def expected_unit_seconds(self) -> tuple[float, str] | None:
        speed, steps = STEPS_PER_SECOND.get(self.env_id), self.algorithm.steps_per_batch()
        if not (speed and steps and self.algorithm.name == "a2c"):
            return None
        return self.budget.batches * steps / speed, f"{self.env_id}'s measured ~{speed:,} steps/s with A2C"

    def build_model(self, seed: int) -> nn.Module:
        return self.algorithm.build_model(seed)

    def rewind_batch(self, step: sm.Step) -> int:
        return self.budget.rewind_batch(step)

    def train(self, unit: sm.Unit) -> dict[str, float]:
        with torch_threads(self.runtime.threads):
            return self._train(unit)

    def batch_losses(self, model: nn.Module, count: int, seed: int):
        """The algorithm's training losses of ``count`` batches acted by ``model`` (snip, grasp)."""
        return self.algorithm.batch_losses(model.to(self.algorithm.device), count, seed)

    def ones_output(self, model: nn.Module):
        """The network's outputs for one all-ones observation (synflow)."""
        return self.algorithm.ones_output(model.to(self.algorithm.device))

    def evaluate(self, model: nn.Module, seed: int) -> float:
        with torch_threads(self.runtime.threads):
            return evaluate_policy(self.algorithm, model.to(self.algorithm.device), self.evaluation_settings)

    def evaluation_config(self) -> dict:
        return asdict(self.evaluation_settings)

    def _train(self, unit: sm.Unit) -> dict[str, float]:
        algorithm, budget = self.algorithm, self.budget
        # fine-tuning trains for its own budget; the learning rate is constant, so the final one is the rate
        batches = budget.batches if unit.budget is None else budget.batches_at(unit.budget)
        trains = sm.ticket_kind(unit.ticket).trains  # the supermask acts with its start weights, never updated
        model = sm.start_model(self, unit).to(algorithm.device)
        optimizer = algorithm.make_optimizer(model) if trains else None
        guard = sm.enforce(model, unit.mask, optimizer)  # pruned entries stay zero after every step
        runner = algorithm.open(unit.seed if unit.noise_seed is None else unit.noise_seed, budget.last_episodes)
        capture = self.rewind_batch(unit.capture_rewind) if unit.capture_rewind else None
        # A stability unit starts from weights already trained start_step far, or stops at end_step.
        first = self.rewind_batch(unit.start_step) if unit.start_step else 0
        last = self.rewind_batch(unit.end_step) if unit.end_step else batches
        draw_every = self.rewind_batch(unit.early_bird.every) if unit.early_bird else None
        log = UnitLog(unit, last - first, algorithm.score_name, self.runtime.progress, f" of {self.env_id}")

        def on_batch(batch: int, losses: dict[str, float], finished: list[float]) -> None:
            if batch == capture:
                self.save_weights(model, unit.rewind_path)
            if draw_every and batch % draw_every == 0:
                unit.early_bird.draw(model, batch, batch / budget.batches_per_epoch)
            log.batch(batch, losses, finished, runner.steps)

        reward = None
        try:
            if trains:
                algorithm.train(model, optimizer, runner, last - first, on_batch)
            else:
                algorithm.play(model, runner, last - first, budget.last_episodes, on_batch)
            self.save_weights(model, unit.final_path)  # before scoring: trained weights are never lost
            if unit.end_step:
                return {}  # W_k of the stability analysis: no score
            if not runner.scores.count:
                raise ValueError(
                    f"no episode of {self.env_id} finished in the unit's {batches} batches, so "
                    "it has no score (its trained weights are kept in "
                    f"{unit.final_path.name}): rerun with more batches (--epochs, --batches-per-epoch; in a new "
                    "--out folder if other units of this run have finished)"
                )
            reward = runner.scores.mean_last(budget.last_episodes)
        finally:
            log.close(reward, runner.steps)
            guard.remove()
            runner.close()
        return {"ticket_reward": reward}


@contextmanager
def torch_threads(count: int):
    """Run with ``count`` intra-op threads (0: leave torch's default), then restore."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
