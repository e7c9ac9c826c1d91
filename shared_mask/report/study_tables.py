"""The studies of a run in numbers: instability per (level, k) over seeds and each early-bird record,
read from the run folder alone (line.json, early_bird.json), as CSV tables and summary lines."""

from dataclasses import dataclass

import numpy as np

from ..early_bird import read_record
from ..stability import read_lines, step_order
from .output import csv_text, write_utf8
from .runs import RunError

INSTABILITY_COLUMNS = ("run", "level", "fraction_pruned", "k", "instability_mean", "instability_std", "seeds")
EARLY_BIRD_COLUMNS = ("run", "seed", "level", "density", "converged", "epoch", "step", "draws")


@dataclass(frozen=True)
class Instability:
    level: int
    fraction_pruned: float
    k: str
    mean: float
    std: float
    seeds: int


def stability_lines(run):
    try:
        return read_lines(run.folder)
    except (ValueError, FileNotFoundError) as err:
        raise RunError(str(err)) from err


def instabilities(lines):
    """Mean +- std (sample, 0 for one seed) of the instability over seeds, per level and point k."""
    groups = {}
    for line in lines:
        groups.setdefault((line.level, line.k), []).append(line)
    rows = []
    for (level, k), group in groups.items():
        values = [line.instability for line in group]
        std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
        rows.append(Instability(level, group[0].fraction_pruned, k, float(np.mean(values)), std, len(values)))
    return sorted(rows, key=lambda row: (row.level, step_order(row.k)))


def early_bird_records(run):
    try:
        return [read_record(path) for path in run.folder.early_bird_records()]
    except ValueError as err:
        raise RunError(str(err)) from err


def write_study_tables(out_dir, run, lines, records):
    """<run>_instability.csv and <run>_early_bird.csv where the run has them; return the paths written."""
    written = []
    if lines:
        rows = [[run.name, r.level, r.fraction_pruned, r.k, r.mean, r.std, r.seeds] for r in instabilities(lines)]
        written.append(out_dir / f"{run.name}_instability.csv")
        write_utf8(written[-1], csv_text(INSTABILITY_COLUMNS, rows))
    if records:
        density = (1 - run.config["lottery"]["rate"]) ** np.array([r["level"] for r in records])
        rows = [
            [run.name, r["seed"], r["level"], d, r["converged"], r["epoch"], r["step"], len(r["steps"])]
            for r, d in zip(records, density)
        ]
        written.append(out_dir / f"{run.name}_early_bird.csv")
        write_utf8(written[-1], csv_text(EARLY_BIRD_COLUMNS, rows))
    return written


def study_lines(lines, records):
    """Summary lines: the instability per level and k, and where each early-bird ticket emerged."""
    text = []
    for row in instabilities(lines):
        text.append(
            f"  instability at k = {row.k}, level {row.level} ({row.fraction_pruned:.3g} pruned): "
            f"{row.mean:.4g} ± {row.std:.4g} over {row.seeds} seed(s)"
        )
    for r in records:
        epoch = "" if r["epoch"] is None else f"epoch {r['epoch']:g}, "
        where = f"emerged at {epoch}step {r['step']}" if r["converged"] else "never converged"
        text.append(f"  early-bird ticket, seed {r['seed']} level {r['level']}: {where} ({len(r['steps'])} draws)")
    return text
