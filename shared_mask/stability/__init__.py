"""Stability analysis (linear mode connectivity, Frankle et al. 2020): children of W_k trained with
different noise, the line between them and its instability, and stability.csv."""

from .line import grid, instability, interpolate
from .plan import StabilityPlan, child_noise_seed, claim_evaluation
from .settings import StabilitySettings
from .table import Line, read_lines, step_order, write_table

__all__ = [
    "grid",
    "instability",
    "interpolate",
    "StabilityPlan",
    "child_noise_seed",
    "claim_evaluation",
    "StabilitySettings",
    "Line",
    "read_lines",
    "step_order",
    "write_table",
]
