"""Per-level statistics of a run's metric and the summary table (Markdown and CSV).

Conventions:
- std is the sample standard deviation over seeds (ddof=1); with a single seed it is 0.
- the gap is winning mean minus random mean, in the metric's own units (negative is better
  for a lower-is-better metric such as log perplexity).
- "within tolerance t" means no worse than the dense mean by more than t * |dense mean|; it is
  one-sided: a winning ticket better than the dense network is within.
  The winning ticket *stays* within up to the last level before the first pruned level where it
  is outside the tolerance or has no result yet.
"""

import statistics
from dataclasses import dataclass

from ..tickets import DENSE, TICKETS, WINNING
from .ablation import ablation_lines, strategy_lines, strategy_of
from .output import csv_text, write_utf8

SETTINGS_SHOWN = ("schedule", "pruning", "rewind", "scope", "rate", "levels", "seeds")


@dataclass(frozen=True)
class Stat:
    n: int
    mean: float
    std: float

    @property
    def sem(self):
        """Standard error of the mean: std / sqrt(n) (0 for one seed)."""
        return self.std / self.n**0.5

    def spread(self, band):
        """The half-width of the figures' band: ``std`` or ``sem``."""
        return self.sem if band == "sem" else self.std

    @classmethod
    def of(cls, values):
        values = list(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(len(values), statistics.fmean(values), std)


@dataclass(frozen=True)
class LevelRow:
    level: int
    fraction_pruned: float  # of the run's own tickets (transferred ones leave tensors of other shapes dense)
    tickets: dict  # ticket name -> Stat, only tickets with at least one result
    fractions: dict  # ticket name -> mean fraction pruned of its units


@dataclass(frozen=True)
class RunSummary:
    run: object  # the Run it summarizes
    dense: object  # Stat of the level-0 dense unit, or None while it is missing
    levels: tuple  # LevelRow per pruned level that has results, ascending

    @property
    def random_tickets(self):
        return [t for t in self.run.tickets if t != WINNING]

    def gap(self, row, random_ticket):
        """Winning mean minus random mean at one level, or None when either is missing."""
        if WINNING not in row.tickets or random_ticket not in row.tickets:
            return None
        return row.tickets[WINNING].mean - row.tickets[random_ticket].mean

    def series(self, ticket, band="std"):
        """(fractions pruned, means, band half-widths: stds or sems) of one ticket over the levels where it
        has results."""
        rows = [row for row in self.levels if ticket in row.tickets]
        return (
            [row.fractions[ticket] for row in rows],
            [row.tickets[ticket].mean for row in rows],
            [row.tickets[ticket].spread(band) for row in rows],
        )

    def counts(self, ticket):
        """The number of seeds behind each point of :meth:`series`."""
        return [row.tickets[ticket].n for row in self.levels if ticket in row.tickets]

    def within_tolerance(self, row, tolerance):
        if self.dense is None or WINNING not in row.tickets:
            return False
        allowed = tolerance * abs(self.dense.mean)
        winning = row.tickets[WINNING].mean
        if self.run.higher_is_better:
            return winning >= self.dense.mean - allowed
        return winning <= self.dense.mean + allowed

    def last_level_within(self, tolerance):
        """The most-pruned LevelRow up to which the winning ticket stays within tolerance, or None."""
        last = None
        for row in self.levels:
            if not self.within_tolerance(row, tolerance):
                break
            last = row
        return last


def summarize(run):
    results = run.metric_results()
    dense_values = [r.value for r in results if r.level == 0 and r.ticket == DENSE]
    dense = Stat.of(dense_values) if dense_values else None
    rows = []
    for level in sorted({r.level for r in results if r.level > 0}):
        at_level = [r for r in results if r.level == level]
        tickets, fractions = {}, {}
        for ticket in dict.fromkeys(r.ticket for r in at_level):
            tickets[ticket] = Stat.of(r.value for r in at_level if r.ticket == ticket)
            fractions[ticket] = statistics.fmean(r.fraction_pruned for r in at_level if r.ticket == ticket)
        own = [r.fraction_pruned for r in at_level if not (r.ticket in TICKETS and TICKETS[r.ticket].transferred)]
        rows.append(LevelRow(level, statistics.fmean(own or fractions.values()), tickets, fractions))
    return RunSummary(run, dense, tuple(rows))


def _all_tickets(summaries):
    """Pruned-level tickets over all runs: winning first, then the random kinds in config order."""
    tickets = [WINNING]
    for summary in summaries:
        tickets += [t for t in summary.random_tickets if t not in tickets]
    return tickets


def summary_csv(summaries, tolerance):
    """One row per run and pruned level; ticket columns are the union over the runs (blank if absent)."""
    tickets = _all_tickets(summaries)
    randoms = tickets[1:]
    header = [
        "run",
        "experiment",
        "metric",
        "higher_is_better",
        "level",
        "fraction_pruned",
        "dense_n",
        "dense_mean",
        "dense_std",
    ]
    header += [f"{t}_{field}" for t in tickets for field in ("n", "mean", "std")]
    header += [f"gap_winning_minus_{t}" for t in randoms] + ["winning_within_tolerance", "pruning"]
    rows = []
    for summary in summaries:
        run = summary.run
        for row in summary.levels:
            cells = [
                run.name,
                run.experiment,
                run.metric,
                run.higher_is_better,
                row.level,
                row.fraction_pruned,
                *_stat_cells(summary.dense),
            ]
            for ticket in tickets:
                cells += _stat_cells(row.tickets.get(ticket))
            cells += ["" if summary.gap(row, t) is None else summary.gap(row, t) for t in randoms]
            cells += [summary.within_tolerance(row, tolerance), strategy_of(run)]
            rows.append(cells)
    return csv_text(header, rows)


def _stat_cells(stat):
    return ["", "", ""] if stat is None else [stat.n, stat.mean, stat.std]


def _fmt(value):
    return f"{value:.4g}"


def _fmt_stat(stat):
    return "-" if stat is None else f"{_fmt(stat.mean)} ± {_fmt(stat.std)} (n={stat.n})"


def tolerance_sentence(summary, tolerance):
    lottery = summary.run.config["lottery"]
    if WINNING not in lottery["tickets"]:  # an lr_rewind chain: none by design
        return f"This run trains no winning tickets (tickets: {', '.join(summary.run.tickets)}): no tolerance verdict."
    if int(lottery["levels"]) == 0:  # the dense network, or transferred tickets, only
        only = "transferred tickets" if summary.run.transfer else "the dense network"
        return f"This run trains no winning tickets (levels 0: {only} only): no tolerance verdict."
    if summary.dense is None:
        return "Dense network not trained yet: no tolerance verdict."
    last = summary.last_level_within(tolerance)
    if last is not None:
        return (
            f"The winning ticket stays within {tolerance:.0%} of dense up to "
            f"{last.fraction_pruned:.3g} of weights pruned (level {last.level})."
        )
    if not summary.levels or WINNING not in summary.levels[0].tickets:
        return "No winning ticket result at the first pruned level yet."
    first = summary.levels[0]
    return (
        f"The winning ticket is outside {tolerance:.0%} of dense already at "
        f"{first.fraction_pruned:.3g} of weights pruned (level {first.level})."
    )


def transfer_sentence(transfer):
    """What a transferred ticket took from its source run, and what it did not."""
    own = ", ".join(transfer.get("own_initialization", [])) or "none"
    dense = ", ".join(transfer.get("dense", [])) or "none"
    return (
        f"Transferred tickets from {transfer['source']} (levels {_ranges(transfer['levels'])}): tensors "
        f"with this run's own initialization (shapes differ): {own}; left dense (no source mask): {dense}."
    )


def missing_lines(run):
    """Missing units grouped by seed and ticket, e.g. 'seed 2, winning: levels 15-20'."""
    grouped = {}
    for seed, level, ticket in run.missing_units():  # in config order: seed, level, then ticket
        grouped.setdefault((seed, ticket), []).append(level)
    return [
        f"seed {seed}, {ticket}: level{'s' if len(levels) > 1 else ''} {_ranges(levels)}"
        for (seed, ticket), levels in grouped.items()
    ]


def _ranges(levels):
    spans = []
    for level in sorted(levels):
        if spans and level == spans[-1][1] + 1:
            spans[-1][1] = level
        else:
            spans.append([level, level])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def summary_markdown(summaries, tolerance):
    lines = ["# Lottery ticket report", ""]
    for summary in summaries:
        run = summary.run
        direction = "higher is better" if run.higher_is_better else "lower is better"
        randoms = summary.random_tickets
        settings = ", ".join(f"{key}={run.config['lottery'].get(key)}" for key in SETTINGS_SHOWN)
        lines += [
            f"## {run.name}: {run.experiment}, {run.metric} ({direction})",
            "",
            f"Lottery: {settings}.",
            f"Dense network: {_fmt_stat(summary.dense)}.",
            tolerance_sentence(summary, tolerance),
            "",
        ]
        header = ["level", "fraction pruned", WINNING, *randoms, *[f"winning − {t}" for t in randoms]]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for row in summary.levels:
            gaps = [summary.gap(row, t) for t in randoms]
            cells = [
                str(row.level),
                f"{row.fraction_pruned:.3g}",
                *[_fmt_stat(row.tickets.get(t)) for t in [WINNING, *randoms]],
                *["-" if g is None else _fmt(g) for g in gaps],
            ]
            lines.append("| " + " | ".join(cells) + " |")
        missing = missing_lines(run)
        total = len(run.expected_units())
        lines += ["", f"Missing units: {len(run.missing_units())} of {total}."]
        lines += [f"- {line}" for line in missing]
        if run.transfer:
            lines.append(transfer_sentence(run.transfer))
        lines += ["", *ablation_lines(summary)]
    if len(summaries) > 1:
        lines += strategy_lines(summaries)
    return "\n".join(lines)


def write_summaries(out_dir, summaries, tolerance):
    write_utf8(out_dir / "summary.csv", summary_csv(summaries, tolerance))
    write_utf8(out_dir / "summary.md", summary_markdown(summaries, tolerance))
