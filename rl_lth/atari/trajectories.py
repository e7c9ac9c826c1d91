"""The acting side of the ELF-style trainer: envpool Atari stepped asynchronously by a behaviour
network, its experience cut into trajectories of T actions."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..scores import GameScores
from .envs import game_over


@dataclass
class Trajectories:
    """A training batch of ``B`` trajectories of ``T`` actions; observations have ``T + 1`` rows (the
    last bootstraps the return). ``valid`` is False on envpool's reset steps (the step after a lost
    life or a finished game: reward 0, action ignored), which are left out of the loss."""

    obs: torch.Tensor  # [B, T + 1, C, H, W] uint8
    actions: torch.Tensor  # [B, T] long
    behaviour_log_probs: torch.Tensor  # [B, T]: log pi_behaviour(a|s) when the action was chosen
    rewards: torch.Tensor  # [B, T] raw game rewards
    terminated: torch.Tensor  # [B, T] bool: a life (or the game) was lost; no bootstrap
    truncated: torch.Tensor  # [B, T] bool: time limit; bootstrap from the next observation
    valid: torch.Tensor  # [B, T] bool

    def to(self, device: torch.device | str) -> Trajectories:
        return Trajectories(*(getattr(self, f).to(device, non_blocking=True) for f in self.__dataclass_fields__))


class TrajectoryCollector:
    """The acting side: steps envpool asynchronously with the behaviour network and cuts each
    environment's experience into trajectories of T actions, which join a common pool as they complete.

    Slot ``k`` of environment ``e`` holds the observation acted on at its k-th step, the action, the
    behaviour policy's log-probability, and the reward and end flags that step produced; slot ``T``
    holds the observation after the last action, which is also slot 0 of the next trajectory.
    """

    def __init__(self, env, num_envs: int, unroll: int, keep_scores: int, seed: int, device: torch.device):
        self.env = env
        self.unroll = unroll
        self.device = device
        self.generator = torch.Generator(device=device).manual_seed(seed)  # action sampling only
        shape = env.observation_space.shape
        self.obs = np.zeros((num_envs, unroll + 1, *shape), dtype=np.uint8)
        self.actions = np.zeros((num_envs, unroll), dtype=np.int64)
        self.behaviour_log_probs = np.zeros((num_envs, unroll), dtype=np.float32)
        self.rewards = np.zeros((num_envs, unroll), dtype=np.float32)
        self.terminated = np.zeros((num_envs, unroll), dtype=bool)
        self.truncated = np.zeros((num_envs, unroll), dtype=bool)
        self.valid = np.zeros((num_envs, unroll), dtype=bool)
        self.position = np.zeros(num_envs, dtype=np.int64)  # actions taken in the current trajectory
        self.scores = GameScores(num_envs, keep_scores)  # full-game scores (all lives), unclipped
        self.pool: deque[tuple[np.ndarray, ...]] = deque()  # completed trajectories, oldest first
        self.pooled = 0
        self.steps = 0  # environment steps taken (agent steps; frames = steps x frame_skip)
        self.env.async_reset()

    def collect(self, behaviour: nn.Module, count: int) -> tuple[Trajectories, list[float]]:
        """Step environments with ``behaviour`` until ``count`` trajectories are pooled; take the oldest
        ``count``. Also return the scores of the games finished meanwhile."""
        finished = []
        while self.pooled < count:
            finished += self.step(behaviour)
        return self._take(count), finished

    def step(self, behaviour: nn.Module) -> list[float]:
        """One ``recv``: record what the ready environments' last actions produced, act, ``send``."""
        obs, reward, terminated, truncated, info = self.env.recv()
        ids = np.asarray(info["env_id"])
        position = self.position[ids]
        acted = position > 0  # False only at the very first observation of an environment
        previous = (ids[acted], position[acted] - 1)
        self.rewards[previous] = reward[acted]
        self.terminated[previous] = terminated[acted]
        self.truncated[previous] = truncated[acted]
        finished = self.scores.record(ids, reward, game_over(info, truncated))

        self.obs[ids, position] = obs
        complete = position == self.unroll
        if complete.any():
            self._pool(ids[complete])
            position[complete] = 0

        actions, log_probs = self._act(behaviour, obs)
        self.actions[ids, position] = actions
        self.behaviour_log_probs[ids, position] = log_probs
        self.valid[ids, position] = ~(terminated | truncated)  # envpool ignores the action after an end
        self.position[ids] = position + 1
        self.env.send(actions, ids)
        self.steps += len(ids)
        return finished

    def close(self) -> None:
        self.env.close()

    @torch.inference_mode()
    def _act(self, behaviour: nn.Module, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, _ = behaviour(torch.from_numpy(obs).to(self.device, non_blocking=True))
        log_probs = F.log_softmax(logits.float(), -1)
        actions = torch.multinomial(log_probs.exp(), 1, generator=self.generator)
        chosen = log_probs.gather(-1, actions).squeeze(-1)
        return actions.squeeze(-1).cpu().numpy(), chosen.cpu().numpy()

    def _pool(self, ids: np.ndarray) -> None:
        self.pool.append(
            (
                self.obs[ids],
                self.actions[ids],
                self.behaviour_log_probs[ids],
                self.rewards[ids],
                self.terminated[ids],
                self.truncated[ids],
                self.valid[ids],
            )
        )
        self.pooled += len(ids)
        self.obs[ids, 0] = self.obs[ids, self.unroll]

    def _take(self, count: int) -> Trajectories:
        chunks, taken = [], 0
        while taken < count:
            chunk = self.pool.popleft()
            need = count - taken
            if len(chunk[0]) > need:
                self.pool.appendleft(tuple(part[need:] for part in chunk))
                chunk = tuple(part[:need] for part in chunk)
            chunks.append(chunk)
            taken += len(chunk[0])
        self.pooled -= count
        parts = [np.concatenate(column) if len(chunks) > 1 else column[0] for column in zip(*chunks)]
        return Trajectories(*(torch.from_numpy(part) for part in parts))
