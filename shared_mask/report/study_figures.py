"""Figures of the studies: the stability lines (metric vs a per k), the instability (vs k for the dense
network, vs fraction pruned for tickets) and the early-bird mask distances vs training progress."""

import numpy as np
from matplotlib.figure import Figure

from ..stability import step_order
from .figures import metric_label, set_pruned_axis
from .study_tables import instabilities


def _mean_std(values):
    values = np.asarray(values, dtype=float)
    return values.mean(0), values.std(0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1:])


def stability_figure(run_name, lines):
    """Left: the metric on the line, a in [0, 1], one curve per (level, k), mean +- std over seeds;
    right: the instability vs k (one line per level) and vs fraction pruned (one line per k)."""
    fig = Figure(figsize=(15, 4.4), layout="constrained")
    line_ax, k_ax, pruned_ax = fig.subplots(1, 3)
    keys = sorted({(line.level, line.k) for line in lines}, key=lambda key: (key[0], step_order(key[1])))
    for i, (level, k) in enumerate(keys):
        group = [line for line in lines if (line.level, line.k) == (level, k)]
        mean, std = _mean_std([line.values for line in group])
        alphas = group[0].alphas
        style = "-" if level == 0 else "--"
        (drawn,) = line_ax.plot(
            alphas, mean, style, marker="o", markersize=3, color=f"C{i % 10}", label=f"L{level} k={k}"
        )
        drawn.set_gid(f"line:{level}:{k}")
        line_ax.fill_between(alphas, mean - std, mean + std, color=f"C{i % 10}", alpha=0.15, linewidth=0)
    line_ax.set_xlabel("a (w = (1 - a) w1 + a w2)")
    line_ax.set_ylabel(metric_label(lines[0].metric))
    line_ax.set_title(f"{run_name}: networks between the two children")
    line_ax.legend(fontsize="x-small", ncol=2)

    rows = instabilities(lines)
    points = sorted({row.k for row in rows}, key=step_order)
    for level in sorted({row.level for row in rows}):
        at = {row.k: row for row in rows if row.level == level}
        xs = [i for i, k in enumerate(points) if k in at]
        label = "dense" if level == 0 else f"level {level} ({at[points[xs[0]]].fraction_pruned:.2f} pruned)"
        k_ax.errorbar(
            xs,
            [at[points[i]].mean for i in xs],
            [at[points[i]].std for i in xs],
            marker="o",
            capsize=3,
            label=label,
            gid=f"k:{level}",
        )
    k_ax.set_xticks(range(len(points)), points)
    k_ax.set_xlabel("k (the children's start)")
    k_ax.set_ylabel("instability (loss barrier)" if not lines[0].higher_is_better else "instability (reward barrier)")
    k_ax.set_title("instability vs k")
    k_ax.axhline(0, color="gray", linewidth=0.8)
    k_ax.legend(fontsize="x-small")

    for i, k in enumerate(points):
        at = sorted((row for row in rows if row.k == k), key=lambda row: row.fraction_pruned)
        xs, means, stds = [r.fraction_pruned for r in at], np.array([r.mean for r in at]), np.array([r.std for r in at])
        pruned_ax.plot(xs, means, marker="o", markersize=3, color=f"C{i % 10}", label=f"k = {k}", gid=f"pruned:{k}")
        pruned_ax.fill_between(xs, means - stds, means + stds, color=f"C{i % 10}", alpha=0.15, linewidth=0)
    set_pruned_axis(pruned_ax, [row.fraction_pruned for row in rows])
    pruned_ax.set_ylabel(k_ax.get_ylabel())
    pruned_ax.set_title("instability of the tickets")
    pruned_ax.axhline(0, color="gray", linewidth=0.8)
    pruned_ax.legend(fontsize="x-small")
    for ax in (line_ax, k_ax, pruned_ax):
        ax.grid(alpha=0.3)
    return fig


def early_bird_figure(run_name, records, rate):
    """The distance between consecutive draws vs epoch, one curve per density (mean over seeds), the
    threshold, and a marker where each seed's early-bird ticket emerged (x: never converged)."""
    fig = Figure(figsize=(7.2, 4.6), layout="constrained")
    ax = fig.add_subplot()
    for i, level in enumerate(sorted({r["level"] for r in records})):
        group = [r for r in records if r["level"] == level and r["distances"]]
        if not group:
            continue
        color, density = f"C{i % 10}", (1 - rate) ** level
        length = min(len(r["distances"]) for r in group)
        epochs = _progress(group[0])[1 : length + 1]
        mean = np.mean([r["distances"][:length] for r in group], axis=0)
        never = sum(not r["converged"] for r in group)
        label = f"density {density:.2f}" + (f" (never converged: {never} of {len(group)} seeds)" if never else "")
        ax.plot(epochs, mean, color=color, label=label, gid=f"distance:{level}")
        for r in group:
            if r["converged"]:
                y = r["distances"][r["steps"].index(r["step"]) - 1]
                ax.plot(
                    [_progress(r)[r["steps"].index(r["step"])]],
                    [y],
                    marker="*",
                    markersize=10,
                    color=color,
                    gid=f"emerged:{level}:{r['seed']}",
                )
    thresholds = {r["threshold"] for r in records}
    for threshold in thresholds:
        ax.axhline(threshold, color="gray", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_yscale("symlog", linthresh=1e-3)
    in_steps = any(None in r["epochs"] for r in records)
    ax.set_xlabel("training steps of the dense network" if in_steps else "training epochs of the dense network")
    ax.set_ylabel("Hamming distance to the previous draw")
    ax.set_title(f"{run_name}: early-bird masks (*: where the ticket emerged)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="x-small")
    return fig


def _progress(record):
    """The draws' epochs, or their steps where the trainer recorded no epochs (fairseq)."""
    return record["steps"] if None in record["epochs"] else record["epochs"]
