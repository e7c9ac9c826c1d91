"""Ticket kinds beyond the paper's, each registered in ``sm.TICKETS`` when imported: the controls of
Zhou et al. 2019 and Renda et al. 2020 (``deconstructing``) and open_lth's random masks
(``random_masks``)."""

from . import deconstructing, random_masks

__all__ = ["deconstructing", "random_masks"]
