"""A run folder's ticket rewards as a printed table and a figure, drawn with shared_mask.report."""

from __future__ import annotations

from pathlib import Path

from shared_mask.report.runs import load_run
from shared_mask.report.tables import Stat, summarize


def _cell(stat: Stat | None) -> str:
    return "-" if stat is None else f"{stat.mean:7.1f} +- {stat.std:5.1f}"


def ticket_table(run_dir: str | Path) -> str:
    """Mean +- std over seeds of the ticket reward at each fraction pruned; level 0 is the dense network."""
    summary = summarize(load_run(run_dir))
    tickets = summary.run.tickets
    width = 17
    lines = [
        f"{summary.run.experiment}: {summary.run.metric} (mean +- std over seeds)",
        f"{'level':>5}  {'pruned':>6}  " + "  ".join(f"{t:>{width}}" for t in tickets),
    ]
    if summary.dense is not None:
        lines.append(f"{0:>5}  {0:>6.3f}  {_cell(summary.dense):>{width}}  (dense)")
    for row in summary.levels:
        cells = "  ".join(f"{_cell(row.tickets.get(t)):>{width}}" for t in tickets)
        lines.append(f"{row.level:>5}  {row.fraction_pruned:>6.3f}  {cells}")
    return "\n".join(lines)


def print_table(run_dir: str | Path) -> None:
    print(ticket_table(run_dir))


def draw_figure(run_dir: str | Path, path: str | Path) -> Path:
    """Winning vs random tickets with mean +- std bands and the dense network as a gray line."""
    from shared_mask.report.figures import save_figure, ticket_figure  # matplotlib: only when drawing

    save_figure(ticket_figure(summarize(load_run(run_dir))), path)
    return Path(path)
