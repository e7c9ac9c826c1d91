"""Mask overlap of the same density: between seeds, and between a level's mask and the early-bird mask
of its density (what the masks agree on; the Hamming distance between consecutive nested levels says
nothing, it always equals the level's rate).

Overlap of masks a and b = the fraction of a's kept entries that b keeps too (symmetric when both have
the same density); two independent random masks of density d overlap by d, the chance level.
"""

from dataclasses import dataclass
from itertools import combinations

from ..mask import Mask
from .output import csv_text, write_utf8
from .runs import RunError

SEEDS, EARLY_BIRD = "across_seeds", "early_bird"
COLUMNS = ("run", "level", "density", "compared", "seed", "other", "overlap")


@dataclass(frozen=True)
class Overlap:
    run: str
    level: int
    density: float
    compared: str  # SEEDS: two seeds' masks of the level; EARLY_BIRD: the level's mask and the early-bird mask
    seed: int
    other: object  # the other seed (SEEDS), or the early-bird mask's seed (the same)
    overlap: float


def overlap(a: Mask, b: Mask) -> float:
    """The fraction of ``a``'s kept entries that ``b`` keeps too."""
    shared = sum(int((t & b[name]).sum()) for name, t in a.items())
    return shared / max(a.alive(), 1)


def mask_overlaps(run):
    """Overlap rows of every pruned level of ``run``: every pair of seeds, and each seed's level mask with
    its early-bird mask where there is one. Holds one level's masks at a time."""
    rows, by_level = [], {}
    for (seed, level), path in run.folder.mask_files().items():
        if level > 0:
            by_level.setdefault(level, {})[seed] = path
    for level, paths in sorted(by_level.items()):
        masks = {seed: _load(path) for seed, path in sorted(paths.items())}
        for (s1, m1), (s2, m2) in combinations(masks.items(), 2):
            rows.append(Overlap(run.name, level, m1.density(), SEEDS, s1, s2, overlap(m1, m2)))
        for seed, mask in masks.items():
            early = run.folder.early_bird_mask(seed, level)
            if early.exists():
                rows.append(
                    Overlap(run.name, level, mask.density(), EARLY_BIRD, seed, seed, overlap(mask, _load(early)))
                )
    return rows


def _load(path):
    try:
        return Mask.load(path)
    except ValueError as err:
        raise RunError(str(err)) from err


def write_overlaps(path, rows):
    write_utf8(path, csv_text(COLUMNS, [[getattr(row, column) for column in COLUMNS] for row in rows]))
