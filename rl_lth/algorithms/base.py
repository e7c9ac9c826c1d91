"""What an RL algorithm provides to the lottery trainer, and the registry that names algorithms."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
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


ALGORITHMS: sm.Registry[type[Algorithm]] = sm.Registry("algorithm")
register = ALGORITHMS.register  # class decorator: adds an Algorithm subclass under its ``name``
