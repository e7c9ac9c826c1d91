"""Per-layer density of each level's mask and the Hamming distance to the previous level's mask.

Rows are per (seed, level, layer); the layer `ALL` row holds the whole mask (its density, and the
Hamming distance that early-bird stopping watches). The distance is to level k-1 of the same seed
and is blank when that mask is absent (level 0, or a partial run).
"""

from dataclasses import dataclass

from ..config_file import run_id
from ..identity import mask_identity
from ..mask import Mask
from .output import csv_text, write_utf8
from .runs import RunError

ALL = "(all)"
COLUMNS = ("run", "seed", "level", "layer", "numel", "alive", "density", "hamming_to_previous")


@dataclass(frozen=True)
class MaskStat:
    run: str
    seed: int
    level: int
    layer: str
    numel: int
    alive: int
    density: float
    hamming_to_previous: object  # float, or None without a previous level's mask


def mask_stats(run):
    """MaskStat rows of every level mask of `run`, ordered by seed, level, then the mask's layers.

    Holds at most two masks at a time (a large model's masks are big even as bools).
    """
    rows, identity = [], run_id(run.config)
    previous_key, previous = None, None
    for (seed, level), path in sorted(run.folder.mask_files().items()):
        try:
            mask = Mask.load(path, identity=mask_identity(identity, seed, level))
        except ValueError as err:
            raise RunError(str(err)) from err
        if previous_key != (seed, level - 1):
            previous = None
        layers = mask.report()
        numel, alive = sum(r.numel for r in layers), sum(r.alive for r in layers)
        hamming = None if previous is None else mask.hamming(previous)
        rows.append(MaskStat(run.name, seed, level, ALL, numel, alive, mask.density(), hamming))
        for layer in layers:
            layer_hamming = None if previous is None else _layer_hamming(mask, previous, layer.name)
            rows.append(
                MaskStat(run.name, seed, level, layer.name, layer.numel, layer.alive, layer.density, layer_hamming)
            )
        previous_key, previous = (seed, level), mask
    return rows


def _layer_hamming(mask, other, name):
    return (mask[name] ^ other[name]).float().mean().item()


def write_mask_stats(path, rows):
    write_utf8(path, csv_text(COLUMNS, [[getattr(row, column) for column in COLUMNS] for row in rows]))
