"""Masks, magnitude pruning, random tickets and the lottery loop, shared by the RL and NLP sides."""

from .config import SCHEDULES, LotteryConfig
from .enforce import Masker, MaskGuard, enforce
from .lottery import run_lotteries, run_lottery
from .mask import DensityReport, DensityRow, Mask
from .pruning import (
    PRUNING,
    GlobalMagnitude,
    LayerwiseMagnitude,
    PruningStrategy,
    ScorePruning,
    prune_global,
    prune_layerwise,
    prune_to_density,
)
from .pruning_context import PruningContext
from .random_ticket import random_mask_like, reinit_
from .registry import Registry
from .results import Result, read_results, write_results
from .run_folder import RunFolder, UnitFolder
from .scope import SCOPES, embedding_parameters, prunable
from .selection import select_lowest
from .steps import Step, parse_step
from .strategies import at_init, criteria, synflow  # noqa: F401  (register their strategies)
from .ticket_kinds import deconstructing, random_masks  # noqa: F401  (register their ticket kinds)
from .tickets import DENSE, TICKETS, WINNING, Start, TicketKind, ticket_kind
from .trainer import Trainer, Unit, start_model
from .workers import UnitFailed, Workers

__all__ = [
    "DENSE",
    "WINNING",
    "TICKETS",
    "SCOPES",
    "SCHEDULES",
    "PRUNING",
    "Registry",
    "TicketKind",
    "Start",
    "ticket_kind",
    "PruningStrategy",
    "GlobalMagnitude",
    "LayerwiseMagnitude",
    "ScorePruning",
    "PruningContext",
    "Mask",
    "DensityReport",
    "DensityRow",
    "Masker",
    "MaskGuard",
    "enforce",
    "prunable",
    "embedding_parameters",
    "prune_global",
    "prune_layerwise",
    "prune_to_density",
    "select_lowest",
    "random_mask_like",
    "reinit_",
    "LotteryConfig",
    "Trainer",
    "Unit",
    "run_lottery",
    "run_lotteries",
    "start_model",
    "RunFolder",
    "UnitFolder",
    "Result",
    "read_results",
    "write_results",
    "Workers",
    "UnitFailed",
    "Step",
    "parse_step",
]
