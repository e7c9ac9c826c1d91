"""How long a lottery will take: the units left, what each trains, and the time at the speed observed
in the run folder (its finished units' metrics.json) or, before any unit finished, the trainer's own
expectation. `run_lotteries` prints it before training; `lth-status` prints it for a running folder."""

from __future__ import annotations

import json
import statistics

from .run_folder import RunFolder


def observed_unit_seconds(run: RunFolder) -> list[float]:
    """Training seconds of every finished unit of ``run`` (metrics.json's "seconds")."""
    seconds = []
    for path in run.metrics_files():
        try:
            seconds.append(float(json.loads(path.read_text(encoding="utf-8"))["seconds"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return seconds


def duration(seconds: float) -> str:
    """``seconds`` as a person reads it: 40 s, 12 min, 3.4 h, 2.1 days."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def time_left(left: int, per_unit: float, at_once: int) -> float:
    """Seconds for ``left`` units of ``per_unit`` seconds, ``at_once`` at a time (the graph's chains may
    make it longer when units run at once)."""
    return left * per_unit / max(1, at_once)


def estimate_line(plan, at_once: int = 1) -> str:
    """One line: units left of a :class:`~shared_mask.plan.LotteryPlan`, what each trains, and the time."""
    total, left = len(plan.keys), len(plan.keys) - len(plan.done)
    if left == 0:
        return f"{plan.out}: all {total} units done"
    work = plan.trainer.unit_work()
    line = f"{plan.out}: {left} of {total} units to train" + (f", {work} each" if work else "")
    observed = observed_unit_seconds(plan.run)
    expected = plan.trainer.expected_unit_seconds()
    if observed:
        per_unit = statistics.fmean(observed)
        basis = f"the {len(observed)} finished units' mean of {duration(per_unit)}"
    elif expected:
        per_unit, basis = expected
    else:
        return f"{line}; time: once the first unit finishes (lth-status {plan.out})"
    where = "one at a time" if at_once <= 1 else f"{at_once} at a time"
    return f"{line}; about {duration(time_left(left, per_unit, at_once))} {where} (from {basis})"
