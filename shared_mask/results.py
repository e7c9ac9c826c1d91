"""A run's results: one row per metric of every finished unit, read from the units' metrics.json files
(the only source), and results.csv, the table of them that the loop rewrites after every unit."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import astuple, dataclass
from pathlib import Path

from .files import write_text
from .run_folder import Key, RunFolder

RESULT_COLUMNS = ("seed", "level", "density", "fraction_pruned", "ticket", "metric", "value")


@dataclass(frozen=True)
class Result:
    """One metric of one finished unit (a row of results.csv)."""

    seed: int
    level: int
    density: float
    fraction_pruned: float
    ticket: str
    metric: str
    value: float

    @property
    def unit(self) -> Key:
        return self.seed, self.level, self.ticket


def unit_results(path: Path) -> list[Result]:
    """One Result per metric of the metrics.json at ``path``; ValueError naming the file when it is not one."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: unreadable metrics.json ({error})") from error
    try:
        density = float(record["density"])
        unit = int(record["seed"]), int(record["level"]), str(record["ticket"])
        metrics = record["metrics"].items()
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ValueError(f"{path}: malformed metrics.json ({error!r})") from error
    for name, value in metrics:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: malformed metrics.json (metric {name} is {value!r}, not a number)")
    return [
        Result(unit[0], unit[1], density, 1.0 - density, unit[2], str(name), float(value)) for name, value in metrics
    ]


def read_results(out: str | os.PathLike) -> list[Result]:
    """Every finished unit's results, ordered by seed, level, ticket and metric."""
    results = [r for path in RunFolder(out).metrics_files() for r in unit_results(path)]
    return sorted(results, key=lambda r: (r.seed, r.level, r.ticket, r.metric))


def write_results(out: str | os.PathLike) -> Path:
    """Rebuild results.csv from every finished unit's metrics.json (so it is never stale)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    writer.writerows(astuple(result) for result in read_results(out))
    path = RunFolder(out).results
    write_text(path, buffer.getvalue())
    return path
