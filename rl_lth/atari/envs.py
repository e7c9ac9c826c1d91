"""envpool's Atari games in asynchronous mode, with the standard preprocessing."""

from __future__ import annotations

import numpy as np

# The paper's nine games; any envpool Atari id works.
GAMES = (
    "Assault-v5",
    "Berzerk-v5",
    "Breakout-v5",
    "Centipede-v5",
    "Kangaroo-v5",
    "Krull-v5",
    "Qbert-v5",
    "Seaquest-v5",
    "SpaceInvaders-v5",
)

# Standard Atari preprocessing, applied inside envpool. Rewards stay raw here: the loss clips them,
# and the full-game score is reported unclipped. Episodic life ends a training episode at each lost
# life (terminated=True); the real game over is info["terminated"] (see game_over).
PREPROCESSING = dict(
    img_height=84,
    img_width=84,
    gray_scale=True,
    stack_num=4,
    frame_skip=4,
    noop_max=30,
    episodic_life=True,
    reward_clip=False,
    repeat_action_probability=0.0,
)


def is_atari(env_id: str) -> bool:
    """True for envpool's Atari ids (``Breakout-v5`` ...)."""
    from envpool.registration import registry  # imported when a game is named (seconds: not for --help)

    spec = registry.specs.get(env_id)
    return spec is not None and spec[0] == "envpool.atari"


def check_game(env_id: str) -> str:
    if not is_atari(env_id):
        raise ValueError(f"{env_id!r} is not an envpool Atari id; the paper's games are {', '.join(GAMES)}")
    return env_id


def make_atari_env(env_id: str, num_envs: int, batch_size: int, seed: int, threads: int = 0):
    """``num_envs`` copies of ``env_id``; each ``recv()`` returns the first ``batch_size`` ready ones.

    Start with ``async_reset()``; then ``recv()`` gives ``(obs, reward, terminated, truncated, info)``
    for the environments ``info["env_id"]`` and ``send(actions, env_ids)`` steps them.
    envpool resets automatically: the step after a lost life or a finished game returns the next
    start with reward 0 and ignores its action.
    """
    check_game(env_id)
    import envpool

    return envpool.make(
        env_id,
        env_type="gymnasium",
        num_envs=num_envs,
        batch_size=batch_size,
        seed=seed,
        num_threads=threads,
        **PREPROCESSING,
    )


def game_over(info: dict, truncated: np.ndarray) -> np.ndarray:
    """Which of the returned environments just finished the whole game (all lives, or the time limit).

    With episodic life, ``terminated`` is True at every lost life, while envpool's
    ``info["terminated"]`` is 1 only when the game itself is over.
    """
    return info["terminated"].astype(bool) | truncated
