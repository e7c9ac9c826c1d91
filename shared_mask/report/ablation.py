"""The ablation tables of summary.md: per run, every ticket kind (rows) by fraction pruned (columns);
across runs, each run's pruning strategy (rows, its candidate ticket) by fraction pruned. Cells are
mean ± std over seeds and n, as in the other tables."""

from ..pruning import PRUNING
from ..tickets import DENSE_TICKET, TICKETS

DEFAULT_STRATEGY = "global_magnitude"


def strategy_of(run) -> str:
    """The pruning strategy that found the run's masks (config.json's lottery.pruning)."""
    return run.config["lottery"].get("pruning", DEFAULT_STRATEGY)


def strategy_label(name: str) -> str:
    """A strategy's legend and table label: its own ``label`` where it has one, else its name."""
    return (PRUNING[name].label if name in PRUNING else None) or name


def strategy_colors(summaries) -> list[str] | None:
    """One colour per run of an overlay, its strategy's, when every run has a different strategy with a
    colour (IMP against pruning at init); else None."""
    strategies = [strategy_of(s.run) for s in summaries]
    colors = [PRUNING[n].color if n in PRUNING else None for n in strategies]
    return colors if len(set(strategies)) == len(strategies) and all(colors) else None


def _fmt_stat(stat) -> str:
    return "-" if stat is None else f"{stat.mean:.4g} ± {stat.std:.4g} (n={stat.n})"


def _table(header, rows) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def ablation_lines(summary) -> list[str]:
    """One run's ticket kinds by fraction pruned (the dense network at 0)."""
    levels = summary.levels
    found = list(dict.fromkeys(t for row in levels for t in row.tickets))
    kinds = [t for t in summary.run.tickets if t in found] + [t for t in found if t not in summary.run.tickets]
    rows = [[DENSE_TICKET.label, _fmt_stat(summary.dense), *["" for _ in levels]]]
    for ticket in kinds:
        label = TICKETS[ticket].label if ticket in TICKETS else ticket
        rows.append([f"{label} (`{ticket}`)", "", *[_fmt_stat(row.tickets.get(ticket)) for row in levels]])
    header = ["ticket kind \\ fraction pruned", "0", *[f"{row.fraction_pruned:.3g}" for row in levels]]
    strategy = strategy_label(strategy_of(summary.run))
    return [f"Ablation by ticket kind (masks by {strategy}):", "", *_table(header, rows), ""]


def strategy_lines(summaries) -> list[str]:
    """Each run's candidate ticket (its chain kind, `winning` by default) by fraction pruned, one row per
    run named by its strategy: IMP against pruning at initialization."""
    fractions = sorted({f"{row.fraction_pruned:.3g}" for s in summaries for row in s.levels}, key=float)
    rows = []
    for summary in summaries:
        chain = summary.run.config["lottery"].get("chain", "winning")
        by_fraction = {f"{row.fraction_pruned:.3g}": row.tickets.get(chain) for row in summary.levels}
        name = f"{strategy_label(strategy_of(summary.run))} ({summary.run.name}, {chain})"
        rows.append([name, _fmt_stat(summary.dense), *[_fmt_stat(by_fraction.get(f)) for f in fractions]])
    header = ["strategy \\ fraction pruned", "0 (dense)", *fractions]
    return ["## By pruning strategy", "", *_table(header, rows), ""]
