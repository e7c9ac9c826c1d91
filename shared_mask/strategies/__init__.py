"""Pruning strategies beyond magnitude, each registered in ``sm.PRUNING`` when imported: the mask
criteria of Zhou et al. 2019 (``criteria``) and pruning at initialization (``at_init``, ``synflow``)."""

from . import at_init, criteria, synflow

__all__ = ["at_init", "criteria", "synflow"]
