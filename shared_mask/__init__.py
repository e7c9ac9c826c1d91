"""Masks, magnitude pruning, random tickets and the lottery loop, shared by the RL and NLP sides."""
from .enforce import MaskGuard, enforce
from .lottery import (SCHEDULES, LotteryConfig, Trainer, Unit, run_lotteries, run_lottery, start_model,
                      write_results)
from .mask import DensityReport, DensityRow, Mask
from .prune import prune_global, prune_layerwise, prune_to_density, select_lowest
from .pruning import PRUNING, GlobalMagnitude, LayerwiseMagnitude, PruningStrategy, ScorePruning
from .random_ticket import random_mask_like, reinit_
from .registry import Registry
from .selection import SCOPES, embedding_parameters, prunable
from .steps import Step, parse_step
from .tickets import DENSE, TICKETS, WINNING, Start, TicketKind, ticket_kind
from .workers import UnitFailed, Workers

__all__ = [
    "DENSE", "WINNING", "TICKETS", "SCOPES", "SCHEDULES", "PRUNING",
    "Registry", "TicketKind", "Start", "ticket_kind",
    "PruningStrategy", "GlobalMagnitude", "LayerwiseMagnitude", "ScorePruning",
    "Mask", "DensityReport", "DensityRow", "MaskGuard", "enforce",
    "prunable", "embedding_parameters",
    "prune_global", "prune_layerwise", "prune_to_density", "select_lowest",
    "random_mask_like", "reinit_",
    "LotteryConfig", "Trainer", "Unit", "run_lottery", "run_lotteries", "start_model", "write_results",
    "Workers", "UnitFailed",
    "Step", "parse_step",
]
