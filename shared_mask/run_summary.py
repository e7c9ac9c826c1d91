"""summary.md in the run folder: the report's table of the run (mean ± std over seeds per level and
ticket, with n), rewritten at the end of every invocation so a finished run carries its own table."""

from __future__ import annotations

from .files import write_text
from .report.runs import RunError, load_run
from .report.tables import summarize, summary_markdown

TOLERANCE = 0.01  # lth-report's default


def write_run_summary(run) -> None:
    """Write ``run``'s (a RunFolder) summary.md; nothing while it has no finished unit."""
    try:
        loaded = load_run(run.root)
    except RunError:
        return
    write_text(run.summary, summary_markdown([summarize(loaded)], TOLERANCE))
