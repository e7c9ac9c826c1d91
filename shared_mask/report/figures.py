"""The report's figures, drawn from summaries (tables.RunSummary) and mask statistics.

Figures are built with matplotlib's object API (no pyplot state) and rendered with Agg. The x axis
is the fraction of weights pruned on a log scale of the remaining fraction, so IMP's levels
(remaining = 0.8^k) are evenly spaced, with ticks labelled as in the paper (0, 0.49, 0.74, ...).
With ``x="density"`` the same log axis is ticked and labelled by density (fraction of weights kept).
Colours say the ticket kind (its registry style) everywhere; overlays of several runs tell the runs
apart by line style. Legends give the number of seeds per point, and every metric figure names its
band (std by default, or the standard error of the mean). Each plotted series carries its ticket name
as gid, so tests can find it.
"""

import math
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, NullLocator

from ..files import atomic_write
from ..tickets import DENSE_TICKET, TICKETS, WINNING
from .ablation import strategy_colors
from .figure_options import BANDS
from .mask_stats import ALL
from .overlap import EARLY_BIRD, SEEDS

METRIC_LABELS = {
    "ticket_reward": "ticket reward",
    "bleu": "BLEU",
    "test_log_ppl": "test log perplexity",
    "valid_loss": "validation loss",
}
# A ticket kind the reading process does not know (registered only in the run's own program).
UNKNOWN_TICKET_COLOR, UNKNOWN_TICKET_LINESTYLE = "tab:purple", ":"
RUN_LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))  # overlays: one per run
DENSITY_TICKS = (1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
MAX_TICKS = 8


def _log_remaining(fraction_pruned):
    return -np.log(np.clip(1.0 - np.asarray(fraction_pruned, dtype=float), 1e-12, None))


def _fraction_pruned(log_remaining):
    return 1.0 - np.exp(-np.asarray(log_remaining, dtype=float))


def tick_fractions(fractions):
    """Every k-th fraction (at most MAX_TICKS, the first and last always): 21 IMP levels give
    0, 0.49, 0.74, 0.87, 0.93, 0.96, 0.98, 0.99 like the paper."""
    values = sorted(set(fractions))
    step = max(1, math.ceil((len(values) - 1) / (MAX_TICKS - 1)))
    picked = values[::step]
    if picked[-1] != values[-1]:
        picked.append(values[-1])
    return picked


def _tick_label(fraction):
    return "0" if fraction == 0 else f"{fraction:.2f}"


def set_pruned_axis(ax, fractions):
    """Fraction-pruned x axis, log-spaced in the remaining fraction, ticked at `fractions`."""
    ax.set_xscale("function", functions=(_log_remaining, _fraction_pruned))
    ticks = tick_fractions([0.0, *fractions])
    margin = 0.03 * max(_log_remaining(ticks[-1]), 0.1)
    ax.set_xlim(_fraction_pruned(-margin), _fraction_pruned(_log_remaining(ticks[-1]) + margin))
    ax.set_xticks(ticks, [_tick_label(t) for t in ticks])
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("fraction of weights pruned")


def set_density_axis(ax, fractions):
    """The same log-spaced axis, ticked and labelled by density (fraction of weights kept)."""
    set_pruned_axis(ax, fractions)
    lowest = 1 - max(fractions, default=0.0)
    ticks = [d for d in DENSITY_TICKS if d >= lowest * 0.999] or [1]
    ax.set_xticks([1 - d for d in ticks], [f"{d:g}" for d in ticks])
    ax.set_xlabel("density (fraction of weights kept, log scale)")


def metric_label(metric, higher_is_better=True):
    label = METRIC_LABELS.get(metric, metric)
    return label if higher_is_better else f"{label} (lower is better)"


def seeds_label(counts):
    """ "n=3", or "n=2-3" when the points of a line have different numbers of seeds."""
    low, high = min(counts), max(counts)
    return f"n={low}" if low == high else f"n={low}-{high}"


def _draw_ticket(ax, summary, ticket, label, color, linestyle, band="std", alpha=0.2):
    """Mean line with a shaded mean +- band (std or sem) and its seed count in the label; returns the line."""
    fractions, means, spreads = (np.asarray(v, dtype=float) for v in summary.series(ticket, band))
    label = f"{label} ({seeds_label(summary.counts(ticket))})"
    (line,) = ax.plot(fractions, means, color=color, linestyle=linestyle, marker="o", markersize=3, label=label)
    line.set_gid(ticket)
    ax.fill_between(fractions, means - spreads, means + spreads, color=color, alpha=alpha, linewidth=0)
    return line


def ticket_style(ticket):
    """(label, colour, line style) of a ticket kind, as its registry entry gives them."""
    if ticket in TICKETS:
        kind = TICKETS[ticket]
        return kind.label, kind.color, kind.linestyle
    return ticket, UNKNOWN_TICKET_COLOR, UNKNOWN_TICKET_LINESTYLE


def _plotted_tickets(summary):
    return [t for t in [WINNING, *summary.random_tickets] if summary.series(t)[0]]


def ticket_figure(summary, band="std", x="pruned"):
    """One run: every ticket kind in its registry style (winning blue, random red), mean +- std (or sem)
    over seeds, the dense network as a horizontal line."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    _draw_run(fig.add_subplot(), summary, "small", band, x)
    return fig


def grid_figure(summaries, band="std", x="pruned"):
    """Several runs (a sweep: one per game or dataset) side by side, three to a row, as the paper's
    Atari figure."""
    columns = min(3, len(summaries))
    rows = math.ceil(len(summaries) / columns)
    fig = Figure(figsize=(4.4 * columns, 3.4 * rows), layout="constrained")
    for ax, summary in zip(fig.subplots(rows, columns, squeeze=False).flat, summaries):
        _draw_run(ax, summary, "x-small", band, x)
    for ax in list(fig.axes)[len(summaries) :]:
        ax.set_visible(False)
    return fig


def _draw_run(ax, summary, legend_size, band, x):
    run = summary.run
    for ticket in _plotted_tickets(summary):
        _draw_ticket(ax, summary, ticket, *ticket_style(ticket), band=band)
    if summary.dense is not None:
        label = f"{DENSE_TICKET.label} ({seeds_label([summary.dense.n])})"
        ax.axhline(summary.dense.mean, color=DENSE_TICKET.color, linewidth=1.5, label=label, gid=DENSE_TICKET.name)
    _finish_metric_axes(ax, [summary], run.experiment, legend_size, band, x)
    missing = len(run.missing_units())
    if missing:
        ax.set_title(
            f"partial: {missing} of {len(run.expected_units())} units missing",
            loc="right",
            fontsize="x-small",
            color="dimgray",
        )


def compare_figure(summaries, labels, band="std", x="pruned"):
    """Ablation overlay: colour by ticket kind (as in every figure), one line style per run (its label
    says which), each run's dense network as a thin gray line in the run's style. An overlay of runs
    that differ in their pruning strategy (IMP against pruning at init) colours each run by its strategy
    instead, and the line style then tells the ticket kinds apart."""
    fig = Figure(figsize=(7.6, 5.0), layout="constrained")
    ax = fig.add_subplot()
    by_strategy = strategy_colors(summaries)
    for i, (summary, label) in enumerate(zip(summaries, labels)):
        style = RUN_LINESTYLES[i % len(RUN_LINESTYLES)]
        for ticket in _plotted_tickets(summary):
            kind_label, color, kind_style = ticket_style(ticket)
            if by_strategy:
                color, style = by_strategy[i], kind_style
            line = _draw_ticket(ax, summary, ticket, f"{label}: {kind_label}", color, style, band, alpha=0.12)
            line.set_gid(f"{summary.run.name}:{ticket}")
        if summary.dense is not None:
            ax.axhline(
                summary.dense.mean,
                color=DENSE_TICKET.color,
                linestyle=RUN_LINESTYLES[i % len(RUN_LINESTYLES)],
                linewidth=1,
                label=f"{label}: {DENSE_TICKET.label} ({seeds_label([summary.dense.n])})",
                gid=f"{summary.run.name}:dense",
            )
    title = " / ".join(dict.fromkeys(s.run.experiment for s in summaries))
    _finish_metric_axes(ax, summaries, title, "x-small", band, x)
    return fig


def _finish_metric_axes(ax, summaries, title, legend_size, band="std", x="pruned"):
    """Fraction-pruned (or density) x axis over the summaries' levels, metric y label (with its
    direction when lower is better), title, grid, legend, and the band named."""
    fractions = [row.fraction_pruned for s in summaries for row in s.levels]
    (set_density_axis if x == "density" else set_pruned_axis)(ax, fractions)
    ax.set_title(title)
    ax.set_ylabel(metric_label(summaries[0].run.metric, summaries[0].run.higher_is_better))
    ax.grid(alpha=0.3)
    ax.text(0.01, 0.01, f"band: {BANDS[band]}", transform=ax.transAxes, fontsize="x-small", color="dimgray")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=legend_size)


def mask_figure(run_name, stats, overlaps=()):
    """Left: per-layer density (mean over seeds) per level; right: mask overlap of the same density
    (report.overlap) across seeds and with the early-bird masks, mean +- std, and the chance level."""
    by_cell = {}
    for s in stats:
        by_cell.setdefault((s.layer, s.level), []).append(s.density)
    levels = sorted({s.level for s in stats})
    layers = list(dict.fromkeys(s.layer for s in stats if s.layer != ALL))
    density = np.array([[np.mean(by_cell.get((layer, level), [np.nan])) for level in levels] for layer in layers])
    pruned = {level: 1.0 - np.mean(by_cell[(ALL, level)]) for level in levels}

    height = min(30.0, max(4.0, 1.5 + 0.22 * len(layers)))
    fig = Figure(figsize=(12, height), layout="constrained")
    heat_ax, overlap_ax = fig.subplots(1, 2, width_ratios=[3, 2])
    # Log colours: IMP's densities 0.8^k are evenly spaced, and late levels stay distinguishable.
    positive = density[density > 0]
    norm = LogNorm(vmin=min(positive.min(), 0.5) if positive.size else 1e-3, vmax=1.0)
    cmap = colormaps["viridis"].with_extremes(bad="black")  # 0 (layer fully pruned) is off a log scale
    image = heat_ax.imshow(
        np.where(density > 0, density, np.nan), aspect="auto", cmap=cmap, norm=norm, interpolation="nearest"
    )
    heat_ax.set_yticks(range(len(layers)), layers, fontsize="x-small")
    ticks = tick_fractions(list(pruned.values()))
    columns = [j for j, level in enumerate(levels) if pruned[level] in ticks]
    heat_ax.set_xticks(columns, [_tick_label(pruned[levels[j]]) for j in columns])
    heat_ax.set_xlabel("fraction of weights pruned (overall)")
    seeds = sorted({s.seed for s in stats})
    over = f"seed {seeds[0]}" if len(seeds) == 1 else f"mean over {len(seeds)} seeds"
    heat_ax.set_title(f"{run_name}: per-layer density ({over})")
    colorbar = fig.colorbar(image, ax=heat_ax, label="density (fraction kept; black: none)")
    ticks = [t for t in (1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001) if t >= norm.vmin]
    colorbar.set_ticks(ticks, labels=[f"{t:g}" for t in ticks])
    colorbar.ax.yaxis.set_minor_formatter(NullFormatter())
    fig.get_layout_engine().set(wspace=0.08)

    _draw_overlaps(overlap_ax, overlaps, pruned)
    return fig


def _draw_overlaps(ax, overlaps, pruned):
    labels = {SEEDS: ("across seeds", "tab:blue"), EARLY_BIRD: ("iterative vs early-bird mask", "tab:cyan")}
    for compared, (label, color) in labels.items():
        levels = sorted({o.level for o in overlaps if o.compared == compared and o.level in pruned})
        if not levels:
            continue
        values = [[o.overlap for o in overlaps if o.compared == compared and o.level == level] for level in levels]
        xs, means = [pruned[level] for level in levels], np.array([np.mean(v) for v in values])
        stds = np.array([np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values])
        ax.plot(xs, means, marker="o", markersize=3, color=color, label=label, gid=compared)
        ax.fill_between(xs, means - stds, means + stds, color=color, alpha=0.2, linewidth=0)
    fractions = sorted(f for level, f in pruned.items() if level > 0)
    if fractions:
        ax.plot(
            fractions, [1 - f for f in fractions], color="gray", linestyle=":", label="chance (density)", gid="chance"
        )
    set_pruned_axis(ax, list(pruned.values()))
    ax.set_ylabel("overlap (fraction of kept entries shared)")
    ax.set_title("masks of the same density")
    ax.grid(alpha=0.3)
    if len(ax.get_lines()) > 1:
        ax.legend(fontsize="small")


def save_figure(fig, path):
    """Render `fig` to `path` (format from its suffix) atomically."""
    path = Path(path)
    atomic_write(path, lambda tmp: fig.savefig(tmp, format=path.suffix.lstrip("."), dpi=150))
