"""Lottery tickets in reinforcement learning: envpool actor-critic trainers and the `rl-lth` command."""
