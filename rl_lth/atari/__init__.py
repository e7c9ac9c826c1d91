"""ELF-style asynchronous off-policy actor-critic for the paper's Atari games (envpool ``-v5``)."""
from .cli import main, trainer_from_args, wants_atari
from ..budget import Budget
from .presets import GAMES, PRESETS, SCALES, ELFConfig, is_atari, scale
from .trainer import AtariTrainer

__all__ = ["GAMES", "PRESETS", "SCALES", "Budget", "ELFConfig", "AtariTrainer", "is_atari", "scale",
           "main", "trainer_from_args", "wants_atari"]
