"""envpool's Atari semantics this trainer relies on, and the trajectory collector, on real Breakout."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from rl_lth.algorithms.elf import elf_loss
from rl_lth.atari.envs import game_over, is_atari, make_atari_env
from rl_lth.atari.network import build_network
from rl_lth.atari.trajectories import TrajectoryCollector
from rl_lth.presets import ATARI, preset
from rl_lth.scores import GameScores
from rl_lth.trainer import torch_threads


@pytest.fixture(autouse=True)
def one_torch_thread():
    """More torch threads than one compete with envpool's on a small CPU and are far slower."""
    with torch_threads(1):
        yield


def test_atari_ids_are_recognized_and_others_are_clear_errors():
    assert is_atari("Breakout-v5") and is_atari("Seaquest-v5")
    assert not is_atari("CartPole-v1") and not is_atari("Breakout")
    with pytest.raises(ValueError, match="not an envpool Atari id"):
        make_atari_env("CartPole-v1", 2, 1, seed=0)
    with pytest.raises(ValueError, match="no preset 'huge'; choose one of paper, tiny"):
        preset("Breakout-v5", "huge")
    with pytest.raises(ValueError, match="batch_size"):
        replace(ATARI["tiny"].settings, num_envs=2, batch_size=4)


def test_lives_end_training_episodes_but_the_score_covers_the_whole_game():
    env = make_atari_env("Breakout-v5", 1, 1, seed=3, threads=1)
    env.async_reset()
    rng = np.random.default_rng(0)
    scores = GameScores(1, keep=4)
    life_ends, total, after_end = 0, 0.0, False
    for _ in range(5000):
        _, reward, terminated, truncated, info = env.recv()
        if after_end:  # envpool's reset step after a lost life: no reward
            assert reward[0] == 0
        total += reward[0]
        over = game_over(info, truncated)
        finished = scores.record(np.asarray(info["env_id"]), reward, over)
        life_ends += int(terminated[0])
        if over[0]:
            break
        after_end = bool(terminated[0] | truncated[0])
        env.send(rng.integers(0, 4, 1), info["env_id"])
    env.close()
    assert over[0] and terminated[0], "a random Breakout game ends within 5000 steps by losing its lives"
    assert life_ends == 5  # every life ended a training episode; only the last ended the game
    assert finished == [total]


def test_collected_trajectories_mark_reset_steps_and_keep_behaviour_probabilities():
    settings = ATARI["tiny"].settings
    env = make_atari_env("Breakout-v5", settings.num_envs, settings.batch_size, seed=1, threads=1)
    collector = TrajectoryCollector(env, settings.num_envs, settings.unroll, 16, seed=0, device=torch.device("cpu"))
    behaviour = build_network(4, 4, settings.channels, settings.hidden, seed=0)
    batches = [collector.collect(behaviour, 8)[0] for _ in range(60)]
    env.close()
    obs = torch.cat([b.obs for b in batches])
    assert obs.shape[1:] == (settings.unroll + 1, 4, 84, 84) and obs.dtype == torch.uint8
    ended = torch.cat([b.terminated | b.truncated for b in batches])
    valid = torch.cat([b.valid for b in batches])
    assert ended.any(), "some lives were lost"
    assert torch.equal(valid[:, 1:], ~ended[:, :-1])  # the step after an end is envpool's reset step
    rewards = torch.cat([b.rewards for b in batches])
    assert (rewards[~valid] == 0).all()
    probs = torch.cat([b.behaviour_log_probs for b in batches]).exp()
    assert ((probs > 0) & (probs <= 1)).all()
    assert collector.steps >= 60 * 8 * settings.unroll

    # On real data too, raw rewards (however large) enter the loss clipped to [-1, 1].
    real = next(b for b in batches if (b.rewards > 0).any())
    B, T = real.actions.shape
    with torch.no_grad():
        logits, values = behaviour(real.obs.flatten(0, 1))
    loss_settings = dict(
        gamma=0.99, entropy_coef=0.01, value_coef=1.0, ratio_clamp=1.5, reward_clip=1.0, advantage_clip=1.0
    )
    losses = [
        elf_loss(logits.view(B, T + 1, -1), values.view(B, T + 1), replace(real, rewards=rewards), **loss_settings)[0]
        for rewards in (real.rewards * 100, real.rewards.clamp(-1, 1))
    ]
    assert torch.equal(*losses)
