"""stability.csv: one row per evaluated point of every complete line, rebuilt from the lines' records
(line.json, the only source), like results.csv from the units' metrics.json."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from ..files import write_text
from ..mask import Mask
from ..run_folder import RunFolder
from ..steps import parse_step
from .line_unit import read_line

COLUMNS = ("seed", "level", "fraction_pruned", "k", "a", "metric", "value")


@dataclass(frozen=True)
class Line:
    """One complete line: its points a (in order), their metric values, and its instability."""

    seed: int
    level: int
    fraction_pruned: float
    k: str
    metric: str
    higher_is_better: bool
    alphas: list[float]
    values: list[float]
    instability: float


def read_lines(run: RunFolder) -> list[Line]:
    """Every complete line of the run, ordered by seed, level and point k."""
    lines, density = [], {}
    for path in run.stability_lines():
        record = read_line(path)
        if not record["complete"]:
            continue
        seed, level = int(record["seed"]), int(record["level"])
        if (seed, level) not in density:
            density[seed, level] = Mask.load(run.mask(seed, level)).density()
        alphas = sorted(float(a) for a in record["values"])
        lines.append(
            Line(
                seed,
                level,
                1 - density[seed, level],
                str(record["k"]),
                str(record["metric"]),
                bool(record["higher_is_better"]),
                alphas,
                [record["values"][str(a)] for a in alphas],
                float(record["instability"]),
            )
        )
    return sorted(lines, key=lambda line: (line.seed, line.level, step_order(line.k)))


def step_order(point: str) -> tuple:
    """Points in training order as far as their strings say: iterations, then epochs (how many iterations
    an epoch holds is the trainer's)."""
    step = parse_step(point)
    return (step.unit != "it" and not step.is_zero, step.amount)


def write_table(run: RunFolder):
    """Rebuild stability.csv from the complete lines; return its path."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for line in read_lines(run):
        for a, value in zip(line.alphas, line.values):
            writer.writerow((line.seed, line.level, line.fraction_pruned, line.k, a, line.metric, value))
    write_text(run.stability_csv, buffer.getvalue())
    return run.stability_csv
