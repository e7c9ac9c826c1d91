"""What an RL algorithm provides to the lottery trainer, and the registry that names algorithms."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import ClassVar, Protocol

import torch
from torch import nn

import shared_mask as sm

from ..scores import GameScores

# After each training batch: (batches done, loss statistics, scores of the episodes finished meanwhile).
BatchCallback = Callable[[int, dict[str, float], list[float]], None]


class Runner(Protocol):
    """An algorithm's open game environments for one unit."""

    scores: GameScores  # finished episodes' scores: the ticket reward is their recent mean
    steps: int  # environment (agent) steps taken so far

    def close(self) -> None: ...


class Algorithm(ABC):
    """One training algorithm on one game: settings ``config`` (a ``Config``), networks on ``device``.

    :class:`rl_lth.trainer.RLTrainer` drives it for every lottery unit: build (or load) the model,
    make its optimizer, open the game, train for the budget's batches, then score ``runner.scores``.
    A new algorithm is one module with a subclass decorated with ``@register`` (see ``a2c.py``).
    """

    name: ClassVar[str]  # `rl-lth run --algo NAME`
    Config: ClassVar[type]  # settings dataclass; every field has metadata["help"] (its command-line help)
    score_name: ClassVar[str]  # what an episode's score is called in tensorboard (episode/<score_name>)

    def __init__(self, env_id: str, config=None, device: str | torch.device = "cpu"):
        self.env_id = env_id
        self.config = self.Config() if config is None else config
        if not isinstance(self.config, self.Config):
            raise TypeError(f"{self.name} settings must be {self.Config.__name__}, not {type(self.config).__name__}")
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("--device cuda was asked for, but torch sees no CUDA device")

    @abstractmethod
    def config_entries(self) -> dict:
        """The settings as config.json's "trainer" section records them (a rerun compares them)."""

    def steps_per_batch(self) -> int | None:
        """Environment steps of one training batch, where that is fixed (for the run's time estimate)."""
        return None

    @abstractmethod
    def build_model(self, seed: int) -> nn.Module:
        """A fresh network for this game on the CPU, deterministic in ``seed``; global RNG untouched."""

    @abstractmethod
    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        """The optimizer of ``model`` (already on ``device``)."""

    @abstractmethod
    def open(self, seed: int, keep_scores: int) -> Runner:
        """Start the game's environments, seeded with ``seed``, remembering the last ``keep_scores`` scores."""

    def open_evaluation(self, games: int, seed: int):
        """``games`` synchronous environments of the game seeded with ``seed`` (evaluation, no training),
        and a function of a step's (terminated, truncated, info) that says which of them ended a game."""
        raise NotImplementedError(f"{self.name} has no evaluation episodes")

    @abstractmethod
    def train(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        runner: Runner,
        batches: int,
        on_batch: BatchCallback | None = None,
    ) -> None:
        """``batches`` training batches on ``runner``'s games, calling ``on_batch`` after each."""

    def act(self, model: nn.Module, runner: Runner) -> list[float]:
        """One batch of acting with ``model`` and no update; the scores of the episodes it finished."""
        raise ValueError(f"{self.name} cannot play without training (the supermask ticket)")

    def batch_losses(self, model: nn.Module, count: int, seed: int) -> Iterator[torch.Tensor]:
        """The training losses of ``count`` batches acted by ``model`` on games seeded with ``seed``."""
        raise ValueError(f"{self.name} gives no batch losses (snip, grasp)")

    def ones_output(self, model: nn.Module) -> tuple[torch.Tensor, ...]:
        """The outputs of ``model`` for one all-ones observation, in the parameters' dtype (synflow)."""
        raise ValueError(f"{self.name} gives no all-ones output (synflow)")

    @torch.no_grad()
    def play(self, model: nn.Module, runner: Runner, batches: int, episodes: int, on_batch: BatchCallback) -> None:
        """Act with ``model`` (no update) until ``episodes`` episodes finished or ``batches`` batches were
        acted, calling ``on_batch`` after each: the supermask's evaluation, on the seed's own games."""
        for batch in range(1, batches + 1):
            on_batch(batch, {}, self.act(model, runner))
            if runner.scores.count >= episodes:
                return


ALGORITHMS: sm.Registry[type[Algorithm]] = sm.Registry("algorithm")
register = ALGORITHMS.register  # class decorator: adds an Algorithm subclass under its ``name``
